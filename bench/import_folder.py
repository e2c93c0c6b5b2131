"""Import benchmark: ``manage.py import_folder`` over a folder of N made-up photos.

    .venv/bin/python bench/import_folder.py            # 1,000 then 10,000 photos
    .venv/bin/python bench/import_folder.py --n 100000

Each run is one fresh process into a scratch SQLite database (migrated before the clock
starts) and media folder, with the test suite's fake extractor (the import only queues
images for features; no model runs). It prints, for a folder of N/10 and of N photos
(320 x 240 JPEGs, all different): the time, files per second and the process's peak
memory (the folder is read as it goes, so memory should not grow with N), then the same
for a rerun over the full folder, where every file is already there (the resume path:
read and hash only).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder: Path, start: int, stop: int) -> None:
    rng = np.random.default_rng(start)
    for n in range(start, stop):
        # A small random pattern blown up: distinct content, photo-like file sizes.
        pattern = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        Image.fromarray(pattern).resize((320, 240), Image.Resampling.BILINEAR).save(
            folder / f"photo-{n:06d}.jpg", quality=85)


def run(command: list[str], env: dict) -> tuple[float, float, str]:
    """Seconds, peak memory (MB) of the child and its last output line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(done.stdout + done.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: runs go smallest first.
    return seconds, max(peak, before) / 1024, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="imagesim-import-bench-") as scratch:
        scratch = Path(scratch)
        env = os.environ | {
            "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
            "FEATURE_WARM_UP": "false", "FEATURE_EMBEDDED_WORKER": "false",
        }
        small, large = scratch / "small", scratch / "large"
        small.mkdir()
        large.mkdir()
        print(f"Making {args.n // 10:,} + {args.n:,} photos ...", flush=True)
        make_photos(small, 10 ** 7, 10 ** 7 + args.n // 10)
        make_photos(large, 0, args.n)
        for label, folder, media in [(f"{args.n // 10:,} photos", small, "media-small"),
                                     (f"{args.n:,} photos", large, "media-large"),
                                     (f"rerun, {args.n:,} already there", large, "media-large")]:
            run_env = env | {"MEDIA_ROOT": str(scratch / media)}
            if label.endswith("photos"):
                (scratch / "bench.sqlite3").unlink(missing_ok=True)
                subprocess.run([python, "manage.py", "migrate", "-v0"], env=run_env, cwd=ROOT,
                               check=True)
            seconds, peak, line = run([python, "manage.py", "import_folder", str(folder)],
                                      run_env)
            count = args.n // 10 if folder == small else args.n
            print(f"{label:>32}: {seconds:7.1f} s, {count / seconds:6.0f} files/s, "
                  f"peak memory {peak:5.0f} MB  ({line.split(': ', 1)[1]})", flush=True)


if __name__ == "__main__":
    main()
