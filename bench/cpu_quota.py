"""The model under a container's CPU quota: OpenVINO's own thread count beside the quota's.

    source bin/shared-weights
    sudo .venv/bin/python bench/cpu_quota.py --cores 1     # as Docker's --cpus=1

OpenVINO counts the cores a process may run on, not a CPU quota; ImageSim tells it the
quota's (core/limits.py, features/extractors/openvino_runtime.py). This process goes into
a control group of its own with that quota (cgroup v1's cpu controller, or v2's cpu.max),
builds the configured ResNet50 both ways by turns, and times what the server asks of it:

- a batch of 64 dev-set photos (the feature worker), images a second;
- one image at a time (a search by upload), p50 / p99;
- two images at once from two threads (two searches by upload side by side), p50 / p99.

Needs root and a writable cpu controller.
"""

import argparse
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

from memory_limit import group_remove  # noqa: E402
DEVSET = ROOT.parent / "shared" / "data" / "devset" / "images"
CGROUP = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


@contextmanager
def cpu_limited(cores: float):
    """Within: this process in a new group allowed ``cores`` cores' time a period."""
    if cores <= 0:
        raise SystemExit("a CPU quota must be more than 0 cores")
    groups = dict(line.split(":", 2)[1:] for line in
                  Path("/proc/self/cgroup").read_text().splitlines())
    v1 = next((path for names, path in groups.items() if "cpu" in names.split(",")), None)
    own = CGROUP / "cpu" / v1.lstrip("/") if v1 is not None else CGROUP / groups[""].lstrip("/")
    group = own / f"imagesim-bench-{os.getpid()}"
    try:
        group.mkdir()
        quota = str(int(cores * PERIOD_US))
        if v1 is not None:
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(quota)
        else:
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as exc:
        group_remove(group)
        raise SystemExit(f"cannot make a CPU-limited group under {own}: {exc}") from exc
    try:
        yield
    finally:
        (own / "cgroup.procs").write_text(str(os.getpid()))
        group_remove(group)


def extractor_built(quota_aware: bool):
    """The configured ResNet50, compiled with the quota's threads or OpenVINO's own."""
    from core import limits
    from features.extractors import openvino_runtime
    from features.extractors.resnet50 import ResNet50Extractor

    openvino_runtime.cores_of_quota = limits.cores_of_quota if quota_aware else (lambda: None)
    extractor = ResNet50Extractor(runtime="openvino")
    extractor.load()
    return extractor


def timed(extractor, photos: np.ndarray, single: int) -> dict:
    extractor.infer(photos[:2])  # its first run
    started = time.perf_counter()
    extractor.infer(photos)
    rate = len(photos) / (time.perf_counter() - started)
    alone = []
    for index in range(single):
        started = time.perf_counter()
        extractor.infer(photos[index:index + 1])
        alone.append((time.perf_counter() - started) * 1000)
    paired = []

    def one(index: int) -> None:
        started = time.perf_counter()
        extractor.infer(photos[index:index + 1])
        paired.append((time.perf_counter() - started) * 1000)

    for index in range(0, single, 2):
        threads = [threading.Thread(target=one, args=(index + k,)) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {"rate": rate, "alone": np.percentile(alone, [50, 99]),
            "paired": np.percentile(paired, [50, 99])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=float, default=1.0, help="the quota, in cores")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--single", type=int, default=30, help="images timed one at a time")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesim.settings")
    os.environ.setdefault("DEBUG", "true")
    with cpu_limited(args.cores):
        import django

        django.setup()
        from core.limits import cores_available, cores_of_quota

        print(f"quota {args.cores:g} cores: cores_of_quota() {cores_of_quota()}, "
              f"cores_available() {cores_available()}, the machine's {os.cpu_count()}")
        photos = None
        for round_ in range(args.rounds):
            for quota_aware in (False, True):
                extractor = extractor_built(quota_aware)
                if photos is None:
                    photos = np.stack([extractor.preprocess(path.read_bytes())
                                       for path in sorted(DEVSET.iterdir())[:64]])
                result = timed(extractor, photos, args.single)
                label = "the quota's threads" if quota_aware else "OpenVINO's own"
                print(f"round {round_ + 1}, {label:<20}: a batch of 64 {result['rate']:.1f} "
                      f"a second; one image p50 {result['alone'][0]:.0f} / p99 "
                      f"{result['alone'][1]:.0f} ms; two at once p50 {result['paired'][0]:.0f} / "
                      f"p99 {result['paired'][1]:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
