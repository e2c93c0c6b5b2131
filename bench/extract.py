"""Ingest benchmark: the whole ``precompute_originals`` command against the original app's loop.

    .venv/bin/python bench/extract.py                # the 300 dev-set photos, 2 rounds
    .venv/bin/python bench/extract.py --n 100 --rounds 3

Each side is one fresh process, timed from its start to its exit (imports, model build,
compilation and every row stored count), on the same photos (../shared/data/devset/images):

- ImageSim: ``manage.py precompute_originals DIR`` into a scratch SQLite database (migrated
  before the clock starts) and media folder: the photos imported as originals (checked,
  stored, thumbnailed), their vectors extracted and stored, the features file written;
- the original app's loop (bench/naive_loop.py, under TensorFlow's own defaults, as the
  original app ran): for each file ``keras.utils.load_img(224x224)``, ``img_to_array``,
  ``preprocess_input``, ``model.predict`` on one image; the vectors saved with ``np.save``.

The sides take turns, the order alternating by round, so a busy neighbour on the machine
slows both alike; the ratio is of the summed times. The weights come from FEATURE_WEIGHTS
or ../shared/models.

On OpenVINO (the default runtime) a machine converts the model once and keeps it
(FEATURE_MODEL_CACHE); the rounds run as every later command does, with the converted
model there, and the first run on the new machine, which converts it, is timed and
printed on its own line before them.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def environment(scratch: Path, weights: str, precision: str, runtime: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    return env | {
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "FEATURE_EXTRACTOR": "features.extractors.resnet50.ResNet50Extractor",
        "FEATURE_WEIGHTS": weights,
        "FEATURE_PRECISION": precision,
        "FEATURE_RUNTIME": runtime,
        "FEATURE_MODEL_CACHE": str(scratch / "models"),
        "FEATURE_EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_imagesim(photos_dir: Path, scratch: Path, env: dict) -> float:
    shutil.rmtree(scratch / "media", ignore_errors=True)
    shutil.copy(scratch / "migrated.sqlite3", scratch / "bench.sqlite3")
    return timed([sys.executable, "manage.py", "precompute_originals", str(photos_dir),
                  "--output", str(scratch / "features.npz")], env)


def run_original(photos_dir: Path, scratch: Path, weights: str, tf_env: dict) -> float:
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | tf_env
    return timed([sys.executable, str(ROOT / "bench" / "naive_loop.py"), weights,
                  str(scratch), str(photos_dir)], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="how many dev-set photos")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--runtime", default="openvino", choices=["openvino", "tensorflow"])
    args = parser.parse_args()

    weights = os.environ.get("FEATURE_WEIGHTS") or str(
        SHARED / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    # The baseline runs with the TensorFlow options this shell gave, never ImageSim's.
    tf_env = {k: v for k, v in os.environ.items() if k == "TF_ENABLE_ONEDNN_OPTS"}
    photos = sorted((SHARED / "data" / "devset" / "images").glob("*.jpg"))[:args.n]
    with tempfile.TemporaryDirectory(prefix="imagesim-bench-") as scratch:
        scratch = Path(scratch)
        photos_dir = scratch / "photos"
        photos_dir.mkdir()
        for path in photos:
            shutil.copy(path, photos_dir / path.name)
            (photos_dir / path.name).read_bytes()  # both sides read from a warm page cache
        env = environment(scratch, weights, args.precision, args.runtime)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT,
                       check=True)
        shutil.copy(scratch / "bench.sqlite3", scratch / "migrated.sqlite3")
        first = run_imagesim(photos_dir, scratch, env) if args.runtime == "openvino" else None
        ours, theirs = [], []
        for number in range(args.rounds):
            sides = [lambda: ours.append(run_imagesim(photos_dir, scratch, env)),
                     lambda: theirs.append(run_original(photos_dir, scratch, weights, tf_env))]
            for side in (sides if number % 2 else sides[::-1]):
                side()

    print(f"photos: {len(photos)} (../shared/data/devset/images), cores: {os.cpu_count()}, "
          f"precision: {args.precision}, runtime: {args.runtime}, rounds: {args.rounds}; "
          "whole processes, start to exit")
    print(f"original app's loop           : {sum(theirs) / len(theirs):6.1f} s per run "
          f"({', '.join(f'{t:.1f}' for t in theirs)})")
    print(f"manage.py precompute_originals: {sum(ours) / len(ours):6.1f} s per run "
          f"({', '.join(f'{t:.1f}' for t in ours)})")
    print(f"speed-up                      : {sum(theirs) / sum(ours):.2f}x "
          f"(per round: {', '.join(f'{t / o:.2f}' for t, o in zip(theirs, ours))})")
    if first is not None:
        print(f"first run on a new machine    : {first:6.1f} s, converting the model for OpenVINO "
              f"({sum(theirs) / len(theirs) / first:.2f}x the loop's mean)")


if __name__ == "__main__":
    main()
