"""Feature extraction benchmark: end-to-end throughput against the original app's loop.

    .venv/bin/python bench/extract.py                 # 192 devset photos in 6 rounds
    .venv/bin/python bench/extract.py --n 300 --precision bfloat16

Both sides work on the same photos (../shared/data/devset/images), already in the
library (stored files, as after an upload), in a scratch SQLite database. The photos are
split into rounds and the two sides take turns (the order alternating), so a busy
neighbour on the machine slows both alike:

- ImageSim: the round's images queued as a generation job, then ``Worker.run_until_idle``:
  JPEG files read from storage and decoded in threads while the model runs the previous
  batch, batched inference, vectors saved to the database per batch;
- the original app's loop (bench/naive_loop.py, a child process under TensorFlow's own
  defaults, as the original app ran): for each file ``keras.utils.load_img(224x224)``,
  ``img_to_array``, ``preprocess_input``, ``model.predict`` on one image; the vectors
  saved with ``np.save`` as the original app did.

Both models are loaded (and warmed up with one call) before either clock starts. The
weights come from FEATURE_WEIGHTS or ../shared/models.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))


def configure(scratch: Path, precision: str, batch_size: int) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "FEATURE_EXTRACTOR": "features.extractors.resnet50.ResNet50Extractor",
        "FEATURE_EMBEDDED_WORKER": "false",
        "FEATURE_PRECISION": precision,
        "FEATURE_BATCH_SIZE": str(batch_size),
        "LOG_LEVEL": "WARNING",
    })
    os.environ.setdefault("FEATURE_WEIGHTS", str(
        SHARED / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def add_photos(paths: list[Path]) -> list:
    """Store the photos in the library without queueing them: each round queues its own."""
    from features.receivers import queue_new_images
    from gallery.services import image_create
    from gallery.signals import images_added

    images_added.disconnect(queue_new_images, dispatch_uid="features-queue-uploads")
    return [image_create(name=path.name, data=path.read_bytes()).image for path in paths]


def run_imagesim(images, worker) -> float:
    from features.jobs import services

    start = time.perf_counter()
    services.images_enqueue(image_ids=[image.pk for image in images],
                            extractor=worker.extractor.fingerprint)
    worker.run_until_idle()
    return time.perf_counter() - start


class NaiveLoop:
    """The original app's loop in a child process under TensorFlow's defaults."""

    def __init__(self, weights: str, scratch: Path, tf_env: dict):
        env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | tf_env
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "naive_loop.py"), weights, str(scratch)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout.readline().strip() == "ready", "the naive loop did not start"
        self.count = 0

    def run(self, images) -> float:
        self.process.stdin.write(json.dumps([image.file.path for image in images]) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        self.count += answer["count"]
        return answer["seconds"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=192, help="how many devset photos")
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=6,
                        help="turns each side takes (photos are split evenly between rounds)")
    args = parser.parse_args()

    photos = sorted((SHARED / "data" / "devset" / "images").glob("*.jpg"))[:args.n]
    # The baseline runs with the TensorFlow options this shell gave, never ImageSim's.
    tf_env = {k: v for k, v in os.environ.items() if k == "TF_ENABLE_ONEDNN_OPTS"}
    with tempfile.TemporaryDirectory(prefix="imagesim-bench-") as scratch:
        configure(Path(scratch), args.precision, args.batch_size)
        images = add_photos(photos)
        for image in images:  # both sides read from a warm page cache
            image.file.open("rb").read()

        from features.extractors.loader import get_extractor

        extractor = get_extractor()
        naive = NaiveLoop(extractor.weights, Path(scratch), tf_env)
        # Load and trace the model (the batched graph the worker uses) before the clock.
        extractor.extract([path.read_bytes() for path in photos[:args.batch_size]])

        from features.jobs.worker import Worker
        from features.models import FeatureVector

        worker = Worker(extractor=extractor, publish=lambda job: None)
        naive_s = ours_s = 0.0
        ratios = []
        size = -(-len(images) // args.rounds)
        for n, start in enumerate(range(0, len(images), size)):
            chunk = images[start:start + size]
            if n % 2:
                ours = run_imagesim(chunk, worker)
                theirs = naive.run(chunk)
            else:
                theirs = naive.run(chunk)
                ours = run_imagesim(chunk, worker)
            naive_s, ours_s = naive_s + theirs, ours_s + ours
            ratios.append(theirs / ours)
        naive.close()
        naive_n = naive.count
        ours_n = FeatureVector.objects.filter(extractor=extractor.fingerprint).count()

    print(f"photos: {len(photos)} (../shared/data/devset/images), cores: {os.cpu_count()}, "
          f"precision: {extractor.precision}, batch: {args.batch_size}, rounds: {args.rounds}")
    print(f"original app loop: {naive_n / naive_s:7.2f} images/s ({naive_s:.1f} s)")
    print(f"ImageSim worker  : {ours_n / ours_s:7.2f} images/s ({ours_s:.1f} s)")
    print(f"speed-up         : {(ours_n / ours_s) / (naive_n / naive_s):.2f}x "
          f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
