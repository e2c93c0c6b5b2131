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
- the join in smaller batches (``--batch-sizes``, 16 to 256 by default: a busy worker's
  pass takes up to BATCH), time a vector against the baseline's: where it starts to win
  sets JOIN_AT;
- the whole backfill's neighbour queries, every vector of the library (``--limit`` fewer);
- the stage itself, writes included, for its first ``--passes`` passes (``--whole``: until
  every vector is compared): the pairs and scans written, then removed again so the
  library is left as it was. The bench library has no picture files, so the thumbnail
  matching of pairs in doubt (3 to 4 ms a pair in a real library, bench/duplicates.py) is
  not part of this time, unless ``--pictures`` gives every image a dev-set photo's
  thumbnail first (the 300 in turn, by image id): then the time of each part is printed
  (the pairs' queries, the thumbnails matched, the pairs written).

    .venv/bin/python bench/million.py --sizes 100000 --density sparse --keep
    .venv/bin/python bench/duplicate_backfill.py --folder var/bench/million-100000-sparse-XXXX \
        --pictures --whole
"""

import argparse
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from million import EXTRACTOR, memory, setup_django  # noqa: E402

DEVSET = ROOT.parent / "shared" / "data" / "devset" / "images"


def pictures_give(folder: Path) -> int:
    """Every image a dev-set photo's thumbnail (made by the app's own code, under
    MEDIA_ROOT), the photos in turn by image id; how many photos."""
    from django.db import connection, transaction

    from gallery.thumbnails import make_thumbnail

    thumbnails = folder / "media" / "thumbnails"
    thumbnails.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(DEVSET.iterdir()):
        name = f"thumbnails/devset-{path.stem}.jpg"
        (folder / "media" / name).write_bytes(make_thumbnail(path.read_bytes()))
        names.append(name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE photo (k INTEGER PRIMARY KEY, thumbnail TEXT)")
        cursor.executemany("INSERT INTO photo VALUES (%s, %s)", list(enumerate(names)))
        cursor.execute("UPDATE gallery_image SET thumbnail = photo.thumbnail FROM photo"
                       " WHERE photo.k = (gallery_image.id - 1) %% %s", [len(names)])
        cursor.execute("DROP TABLE photo")
    return len(names)


def parts_timed(finding) -> dict:
    """Time (s) spent in each part of the duplicates stage's passes, and the pairs matched:
    the module's own functions wrapped where its pass calls them."""
    spent = defaultdict(float)

    def timed(name, function):
        def run(*args, **kwargs):
            if name == "thumbnails matched":
                spent["pairs in doubt"] += len(args[0])
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return run

    finding._pairs_above = timed("pairs found (queries)", finding._pairs_above)
    finding._matches = timed("thumbnails matched", finding._matches)
    finding._pairs_insert = timed("pairs written", finding._pairs_insert)
    return spent


def pairs_of(plain, keys, floor) -> tuple[dict, float]:
    started = time.perf_counter()
    found = {key: sorted(others.tolist()) for key, _, others, _, _ in plain.above(keys, floor)}
    return found, time.perf_counter() - started


def joined_in_batches(plain, sample: list[int], floor: float, size: int) -> float:
    """Seconds a vector for ``sample``'s pairs joined ``size`` vectors at a time."""
    from django.conf import settings

    from search.index.neighbours import RANGE_PROBES

    probes = RANGE_PROBES * settings.SEARCH_APPROXIMATE_PROBES
    started = time.perf_counter()
    for start in range(0, len(sample), size):
        keys = plain.present(sample[start:start + size])
        for _ in plain._above_joined(keys, floor, probes):
            pass
    return (time.perf_counter() - started) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True,
                        help="a library kept by bench/million.py --keep")
    parser.add_argument("--sample", type=int, default=2048,
                        help="vectors the baseline searches one by one")
    parser.add_argument("--limit", type=int, help="backfill only this many vectors")
    parser.add_argument("--passes", type=int, default=3, help="stage passes run with writes")
    parser.add_argument("--whole", action="store_true",
                        help="run the stage's passes until every vector is compared")
    parser.add_argument("--batch-sizes", default="16,32,64,128,256",
                        help="batch sizes the join is timed at against the baseline")
    parser.add_argument("--only-batches", action="store_true",
                        help="stop after the batch sizes: no backfill, no stage passes")
    parser.add_argument("--pictures", action="store_true",
                        help="give every image a dev-set photo's thumbnail, so pairs in doubt "
                        "are matched as in a real library")
    args = parser.parse_args()
    setup_django(args.folder, SEARCH_INDEX="approximate")
    # No picture files here (thumbnails only, with --pictures): no warning for each.
    for name in ("duplicates.finding", "duplicates.pixels"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from django.conf import settings

    from duplicates import finding
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
        # Every list and row the sample reads into the page cache first: the baseline, timed
        # first, would otherwise pay for the reads the later timings find done.
        pairs_of(plain, sample, floor)

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
        for size in (int(size) for size in args.batch_sizes.split(",") if size):
            seconds = joined_in_batches(plain, sample, floor, size)
            print(f"joined {size} at a time: {seconds * 1000:.2f} ms a vector "
                  f"({alone_s / len(sample) / seconds:.2f}x the baseline)", flush=True)
        if args.only_batches:
            return

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
    if args.pictures:
        print(f"every image given one of {pictures_give(args.folder)} dev-set photos' thumbnails")
    spent = parts_timed(finding)
    work, compared, passes, started = StagePass(EXTRACTOR), 0, 0, time.perf_counter()
    while args.whole or passes < args.passes:
        done = duplicates_pass(work)
        if done == 0:
            break
        compared, passes = compared + done, passes + 1
    passes_s = time.perf_counter() - started
    written = DuplicatePair.objects.count()
    print(f"the duplicates stage, {passes} passes: {compared:,} vectors in {passes_s:.1f} s"
          f" ({passes_s / 60:.1f} min, {passes_s / max(compared, 1) * 1000:.2f} ms a vector, "
          f"writes included), {written:,} pairs written ({written / max(compared, 1):.2f} a "
          f"vector)")
    doubt = int(spent.pop("pairs in doubt", 0))
    print("  of it: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spent.items())
          + f"; {doubt:,} pairs in doubt"
          + (f" ({spent['thumbnails matched'] / doubt * 1000:.2f} ms a pair)" if doubt else ""))
    DuplicatePair.objects.all().delete()
    DuplicateScan.objects.all().delete()


if __name__ == "__main__":
    main()
