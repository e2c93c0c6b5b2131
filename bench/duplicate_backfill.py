"""A duplicate backfill at a million images: a library embedded before duplicates existed.

    .venv/bin/python bench/million.py --sizes 1000000 --keep     # once: the library
    .venv/bin/python bench/duplicate_backfill.py --folder var/bench/million-1000000-XXXX

Every plain vector is compared with every other (each pair at or above DUPLICATE_FLOOR),
as the worker's duplicates stage does with a backlog: BACKLOG_BATCH vectors at a time,
whose pairs the approximate index finds by joining its IVF lists with the whole batch
(search/index/join.py). Printed, on the same library in the same run:

- the baseline: one range search a vector (what every pass did before), for a sample;
- the join, for that same sample in one batch: time a vector, and whether the pairs are
  the very pairs the baseline found;
- the whole backfill's neighbour queries, every vector of the library (``--limit`` fewer);
- the stage itself, writes included, for its first ``--passes`` passes: the pairs and
  scans written, then removed again so the library is left as it was. The bench library
  has no picture files, so the thumbnail matching of pairs in doubt (3 to 4 ms a pair
  in a real library, bench/duplicates.py) is not part of this time.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from million import EXTRACTOR, memory, setup_django  # noqa: E402


def pairs_of(plain, keys, floor) -> tuple[dict, float]:
    started = time.perf_counter()
    found = {key: sorted(others.tolist()) for key, _, others, _, _ in plain.above(keys, floor)}
    return found, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True,
                        help="a library kept by bench/million.py --keep")
    parser.add_argument("--sample", type=int, default=2048,
                        help="vectors the baseline searches one by one")
    parser.add_argument("--limit", type=int, help="backfill only this many vectors")
    parser.add_argument("--passes", type=int, default=3, help="stage passes run with writes")
    args = parser.parse_args()
    setup_django(args.folder, SEARCH_INDEX="approximate")
    logging.getLogger("duplicates.finding").setLevel(logging.ERROR)  # no thumbnails here
    from django.conf import settings

    from duplicates.finding import BACKLOG_BATCH, duplicates_pass
    from duplicates.models import DuplicatePair, DuplicateScan
    from features.jobs.stages import StagePass
    from search.index import plain_neighbours

    floor = float(settings.DUPLICATE_FLOOR)
    with plain_neighbours(EXTRACTOR) as plain:
        snapshot = plain.index.snapshot
        keys = snapshot.keys[~plain.index.masked].tolist()
        print(f"{len(keys):,} plain vectors, snapshot generation {snapshot.generation}, "
              f"floor {floor}, batches of {BACKLOG_BATCH:,}")
        rng = np.random.default_rng(3)
        sample = sorted(rng.choice(keys, min(args.sample, len(keys)), replace=False).tolist())
        pairs_of(plain, sample[:16], floor)  # warm the lists' pages

        started = time.perf_counter()
        alone = {}
        for key in sample:
            alone.update(pairs_of(plain, [key], floor)[0])
        alone_s = time.perf_counter() - started
        together, together_s = pairs_of(plain, sample, floor)
        same = sum(together[key] == alone[key] for key in sample)
        count = sum(map(len, alone.values()))
        print(f"baseline, one range search a vector: {alone_s / len(sample) * 1000:.2f} ms a "
              f"vector ({len(sample):,} vectors, {count:,} pairs, "
              f"{count / len(sample):.0f} a vector)")
        print(f"joined, the same vectors in one batch: {together_s / len(sample) * 1000:.2f} ms "
              f"a vector ({alone_s / together_s:.1f}x); the same pairs for {same:,} of "
              f"{len(sample):,} vectors")

        wanted = keys[:args.limit] if args.limit else keys
        started, found, next_report = time.perf_counter(), 0, 0.1
        for start in range(0, len(wanted), BACKLOG_BATCH):
            for _, _, others, _, _ in plain.above(wanted[start:start + BACKLOG_BATCH], floor):
                found += others.size
            done = min(len(wanted), start + BACKLOG_BATCH) / len(wanted)
            if done >= next_report:
                print(f"  {done:.0%} in {time.perf_counter() - started:,.0f} s", flush=True)
                next_report += 0.1
        backfill_s = time.perf_counter() - started
        print(f"backfill's neighbour queries, {len(wanted):,} vectors: {backfill_s / 60:.1f} min "
              f"({backfill_s / len(wanted) * 1000:.2f} ms a vector, "
              f"{found / len(wanted):.0f} pairs a vector counted from both sides); one by one "
              f"at the baseline's rate: {alone_s / len(sample) * len(wanted) / 60:.1f} min")
        print(f"this process's own memory: {memory()['anonymous']:,.0f} MB")

    if DuplicateScan.objects.exists():
        print("the library has duplicate scans already: the stage's passes are not run")
        return
    work, compared, started = StagePass(EXTRACTOR), 0, time.perf_counter()
    for _ in range(args.passes):
        compared += duplicates_pass(work)
    passes_s = time.perf_counter() - started
    written = DuplicatePair.objects.count()
    print(f"the duplicates stage, {args.passes} passes: {compared:,} vectors in {passes_s:.1f} s"
          f" ({passes_s / max(compared, 1) * 1000:.2f} ms a vector, writes included), "
          f"{written:,} pairs written")
    DuplicatePair.objects.all().delete()
    DuplicateScan.objects.all().delete()


if __name__ == "__main__":
    main()
