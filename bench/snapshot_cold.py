"""A search of the approximate index after the page cache lost its snapshot, and when warm.

    .venv/bin/python bench/million.py --sizes 1000000 --keep       # once: a kept library
    .venv/bin/python bench/snapshot_cold.py var/bench/million-1000000-XXXX

One search pass as ``ApproximateIndex`` makes it (the 97 best of the IVF lists probed by
their codes, re-checked from the half-precision copies; no query expansion, no Django),
for the same random library rows, in fresh processes:

- ``plain``: the snapshot's files read as they were before: the vectors through
  ``np.memmap``, nothing read ahead;
- ``now``: ``snapshot_open`` (the faiss file and, where half the memory available holds
  it, the vectors' copy read ahead in the background, the rows re-checked asked of the
  disk at once: search/index/snapshot.py);

each once with the snapshot's files dropped from the page cache first (cold), and once
right after (warm). Printed: p50/p99 over the first 100 searches and over all.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def searched_folder(library: Path) -> Path:
    return next((library / "index").glob("searchable-*"))


def cache_drop(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(descriptor)


def part(library: Path, way: str, searches: int) -> dict:
    import faiss

    from core.vectors import normalise
    from search.index.snapshot import manifest_current, snapshot_open

    folder = searched_folder(library)
    manifest = manifest_current(folder)
    if way == "plain":
        index = faiss.read_index(str(folder / manifest["names"]["index"]),
                                 faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        vectors = np.memmap(folder / manifest["names"]["vectors"], dtype=np.float16, mode="r",
                            shape=(manifest["count"], manifest["dim"]))

        def unit_rows(rows):
            return normalise(vectors[rows])
    else:
        snapshot = snapshot_open(folder, manifest)
        index, unit_rows = snapshot.index, snapshot.unit_rows
    faiss.omp_set_num_threads(1)
    params = faiss.SearchParametersIVF(nprobe=32)
    times = []
    for row in np.random.default_rng(3).choice(manifest["count"], searches, replace=False):
        started = time.perf_counter()
        query = unit_rows([row])[0]
        _, found = index.search(query[None], 97, params=params)
        rows = np.sort(found[0][found[0] >= 0])
        unit_rows(rows) @ query
        times.append(time.perf_counter() - started)
    ms = np.asarray(times) * 1000
    return {"first_p50": float(np.percentile(ms[:100], 50)),
            "first_p99": float(np.percentile(ms[:100], 99)),
            "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path, help="a folder kept by bench/million.py --keep")
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--part", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(part(args.library, args.part[0], args.searches)))
        return
    print(f"{args.searches} searches by library image, one pass each, 32 lists probed, "
          f"{os.getloadavg()[0]:.1f} load average at the start")
    for way in ("plain", "now"):
        for cache in ("cold", "warm"):
            if cache == "cold":
                cache_drop(searched_folder(args.library))
            out = subprocess.run([sys.executable, __file__, str(args.library), "--searches",
                                  str(args.searches), "--part", way, cache],
                                 capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(f"{way:<6}{cache:<5} first 100: p50 {result['first_p50']:6.1f} ms, p99 "
                  f"{result['first_p99']:6.1f} ms; all: p50 {result['p50']:5.1f} ms, p99 "
                  f"{result['p99']:6.1f} ms", flush=True)


if __name__ == "__main__":
    main()
