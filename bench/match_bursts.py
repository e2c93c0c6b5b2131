"""The thumbnail match of a duplicates pass on bursts of one scene, against another checkout's.

    .venv/bin/python bench/match_bursts.py --baseline ../other-checkout

Bursts (bench/million_ingest.py --later-extra): each of the first ``--scenes`` demo
originals cropped, turned and recoloured ``--shots`` ways, so thumbnails come in many
sizes, and each shot's pairs in doubt are the earlier shots of its scene (as a pass meets
them one new photo at a time). Printed: ms a pair with this checkout's PictureMatcher and
with the baseline's (``duplicates/pixels.py`` loaded from it), by turns, and how far their
scores differ.
"""

import argparse
import importlib.util
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def module_from(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="imagesim-bench-bursts-"))
    module_from(ROOT / "bench" / "duplicates.py", "bench_duplicates").setup_django(
        folder / "library.sqlite3", folder / "media")
    ingest = module_from(ROOT / "bench" / "million_ingest.py", "bench_million_ingest")
    from PIL import Image

    from duplicates import pixels
    from gallery.thumbnails import make_thumbnail

    baseline = module_from(args.baseline.resolve() / "duplicates" / "pixels.py",
                           "baseline_pixels")
    pictures = {}
    for path in sorted(ingest.ORIGINALS.glob("*.jpg"))[:args.scenes]:
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        shots = ingest.variants_more(photo, args.shots, np.random.default_rng(len(path.stem)))
        for name, shot in shots.items():
            saved = io.BytesIO()
            shot.save(saved, "JPEG", quality=90)
            pictures[(path.stem, name)] = pixels.grey_picture(make_thumbnail(saved.getvalue()))
    keys = sorted(pictures, key=lambda key: (key[0], int(key[1].rsplit("-", 1)[1])))
    pairs = [(key, earlier) for place, key in enumerate(keys) for earlier in keys[:place]
             if key[0] == earlier[0]]
    sizes = len({picture.size for picture in pictures.values()})
    print(f"{len(pictures)} shots of {args.scenes} scenes, {sizes} thumbnail sizes, "
          f"{len(pairs)} pairs")
    for _ in range(args.rounds):
        scores = {}
        for name, module in (("baseline", baseline), ("this checkout", pixels)):
            matcher = module.PictureMatcher(pictures)
            started = time.perf_counter()
            scores[name] = np.array([matcher.score(a, b) for a, b in pairs])
            each = (time.perf_counter() - started) / len(pairs)
            print(f"  {name:<14} {each * 1000:.2f} ms a pair")
        print(f"  scores differ by at most "
              f"{np.abs(scores['baseline'] - scores['this checkout']).max():.1e}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
