"""What an augmentation pass reads from the database at a million images, before and now.

    .venv/bin/python bench/augmentation_reads.py                 # a million rows, 4 links each
    .venv/bin/python bench/augmentation_reads.py --size 100000

One scratch SQLite library (migrated) with --size vector rows of one extractor, every one
augmented, each with 4 neighbour links (random neighbours), and 600 entries in the vector
change log since the last pass (what a pass of 256 new images and the rows it re-blends
leaves). The rows' vectors are 16 bytes, not 8 KB: what is timed reads their keys and the
links, never the vectors. Printed, the median of 3 runs of each:

- the deleted neighbours: every link checked against the vectors (each pass before; now
  only when the log was pruned past the last pass), or the links to the vectors the log
  names (now, ``search.augmentation._orphaned``);
- every row's 4th-neighbour similarity (``_limits_read``): each pass before; now only
  after another process's pass.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXTRACTOR = "bench-augmentation"


def setup(folder: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'library.sqlite3'}",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "FEATURE_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(folder / "media"), "SEARCH_INDEX_DIR": str(folder / "index"),
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def library_make(size: int, links: int) -> None:
    from django.db import connection

    rng = np.random.default_rng(0)
    blob = bytes(16)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")  # no image rows: only keys are read
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.executemany(
            "INSERT INTO features_featurevector (id, image_id, extractor, dim, vector, augmented,"
            " created_at) VALUES (%s, %s, %s, 4, %s, %s, '2026-01-01')",
            [(i, i, EXTRACTOR, blob, blob) for i in range(1, size + 1)])
        neighbours = rng.integers(1, size + 1, size * links)
        similarities = rng.random(size * links)
        cursor.executemany(
            "INSERT INTO search_neighbourlink (owner_id, extractor, neighbour_id, similarity)"
            " VALUES (%s, %s, %s, %s)",
            [(1 + n // links, EXTRACTOR, int(neighbours[n]), float(similarities[n]))
             for n in range(size * links)])
        # The log since the last pass: 600 changed rows.
        cursor.execute("DELETE FROM search_vectorchange")
        seen = size  # the entry the last pass read up to
        cursor.executemany("INSERT INTO search_vectorchange (id, vector_id, extractor) "
                           "VALUES (%s, %s, %s)",
                           [(seen + 1 + n, int(v), EXTRACTOR)
                            for n, v in enumerate(rng.integers(1, size + 1, 600))])
        cursor.execute("INSERT INTO search_vectorchange (id, vector_id, extractor) VALUES "
                       "(%s, 1, %s)", [seen, EXTRACTOR])
        cursor.execute("PRAGMA foreign_keys = ON")
    connection.close()


def timed(function) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="augmentation-reads-", dir=ROOT / "var") as temp:
        setup(Path(temp))
        started = time.monotonic()
        library_make(args.size, args.links)
        print(f"{args.size:,} rows, {args.size * args.links:,} links, made in "
              f"{time.monotonic() - started:.0f} s", flush=True)

        from search import augmentation
        from search.models import AugmentationState

        def orphaned(changes_seen: int):
            state = AugmentationState(extractor=EXTRACTOR, recipe="", changes_seen=changes_seen)
            state.save = lambda **kwargs: None  # timed: the reads alone
            return augmentation._orphaned(state)

        state = AugmentationState(extractor=EXTRACTOR, recipe="")
        every_link = timed(lambda: orphaned(0))
        logged = timed(lambda: orphaned(args.size))
        limits = timed(lambda: augmentation._limits_read(state, args.links))
        print(f"deleted neighbours, every link checked (before; now only when the log was "
              f"pruned past the last pass): {every_link * 1000:9.1f} ms")
        print(f"deleted neighbours, the links to the vectors the log names (now):        "
              f"{logged * 1000:9.1f} ms  ({every_link / logged:,.0f}x less)")
        print(f"every row's 4th-neighbour similarity (before: each pass; now: after another "
              f"process's pass only): {limits * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
