"""Import and feature generation into a library of a million images, beside an empty one.

    source bin/shared-weights
    .venv/bin/python bench/million.py --sizes 1000000 --keep      # once: the library
    .venv/bin/python bench/million_ingest.py --folder var/bench/million-1000000-XXXX

The same 300 photos go, as a user adds them, into two SQLite libraries: a new, empty one, and a copy of bench/million.py's million
(its vectors made the real model's, every later stage caught up for them, both snapshots
written, as a library the worker has kept in step looks). The photos are the 50 demo
originals (../shared/data/originals) and five variants of each (mirrored, cropped, smaller,
recoloured, saved again at low quality): not the dev-set photos the million's vectors were
spread around, each of which would come near to about 1,500 of them. Per library, in fresh
processes:

- ``manage.py import_folder``: the photos checked, stored, thumbnailed and queued; time and
  photos a second;
- ``manage.py featureworker``, the real model: photos a second from its first vector
  stored to its last (the model's start left out, the same for both), the same over the
  second half of them (what a worker does once after its start left out too), and the
  time until every later stage (augmentation, duplicates, their hashes, labels) has done
  them all.
- ``--rounds 2`` then imports 300 other photos (other variants of the same originals) while
  that worker runs on: what a worker that has long been up does, with nothing of its start
  left (its read-ahead of every row's augmentation limits and hashes, and its first look
  at every vector for each stage). ``--later-extra 34`` makes that second round 2,000 photos
  (each original cropped, turned and recoloured 34 more ways): a longer import, in which the
  later stages may fall behind; "after the last s" is how long they took to catch up once
  the last vector was stored.

The copy is about 18 GB with its snapshots, and removed at the end (``--keep`` keeps it; a
later run deletes for good what the last one added to it, brings its snapshots up to date,
and goes on from there).
``--code DIR`` runs the import and the worker from another checkout: a baseline.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORIGINALS = ROOT.parent / "shared" / "data" / "originals"
# Each row's augmentation links: four neighbours (SEARCH_AUGMENT_NEIGHBOURS), alike enough
# that a new photo rarely changes them, as in a library of mostly different photos.
LINK_STEPS = (7919, 104729, 224737, 350377)


def photos_make(folder: Path, round_: int = 0, extra: int = 0) -> int:
    """Each demo original and five variants of it, as JPEG files in ``folder``; a later
    ``round_`` makes six other variants (other files, other vectors) and ``extra`` more."""
    from PIL import Image, ImageOps

    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    for path in sorted(ORIGINALS.glob("*.jpg")):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        width, height = photo.size
        if round_ == 0:
            variants = {
                "": photo, "mirrored": ImageOps.mirror(photo),
                "cropped": photo.crop((width // 10, height // 10, width - width // 10,
                                       height - height // 10)),
                "smaller": photo.resize((width // 2, height // 2)),
                "warmer": Image.merge("RGB", [band.point(lambda v, k=k: min(255, int(v * k)))
                                              for band, k in zip(photo.split(),
                                                                 (1.15, 1.0, 0.85))]),
            }
        else:
            variants = {
                "turned": photo.rotate(4, resample=Image.Resampling.BILINEAR, expand=True,
                                       fillcolor=(255, 255, 255)),
                "grey": ImageOps.grayscale(photo).convert("RGB"),
                "left": photo.crop((0, 0, width * 2 // 3, height)),
                "framed": ImageOps.expand(photo, border=width // 8, fill=(20, 20, 20)),
                "cooler": Image.merge("RGB", [band.point(lambda v, k=k: min(255, int(v * k)))
                                              for band, k in zip(photo.split(),
                                                                 (0.85, 1.0, 1.15))]),
            }
        if round_ > 0:
            variants.update(variants_more(photo, extra, np.random.default_rng(len(path.stem))))
        for name, variant in variants.items():
            variant.save(folder / f"{path.stem}{'-' + name if name else ''}.jpg", quality=90)
        low = 30 if round_ == 0 else 50
        photo.save(folder / f"{path.stem}-quality-{low}.jpg", quality=low)
        made += len(variants) + 1
    return made


def variants_more(photo, count: int, rng: np.random.Generator) -> dict:
    """``count`` more variants of ``photo`` for a longer import: each cropped, turned and
    recoloured a little differently, as a burst of shots of one scene. ``rng`` is seeded by
    the original's name length (as the README's runs were), so originals whose names are as
    long get the same crops, turns and colours."""
    from PIL import Image

    width, height = photo.size
    made = {}
    for number in range(count):
        left, top = rng.uniform(0, 0.2, size=2)
        right, bottom = rng.uniform(0.8, 1.0, size=2)
        variant = photo.crop((int(width * left), int(height * top), int(width * right),
                              int(height * bottom)))
        variant = variant.rotate(float(rng.uniform(-6, 6)), resample=Image.Resampling.BILINEAR,
                                 fillcolor=(255, 255, 255))
        factors = rng.uniform(0.85, 1.15, size=3)
        made[f"burst-{number}"] = Image.merge("RGB", [
            band.point(lambda v, k=k: min(255, int(v * k))) for band, k in
            zip(variant.split(), factors)])
    return made


def environment(folder: Path) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "imagesim.settings",
            "DATABASE_URL": f"sqlite:///{folder / 'library.sqlite3'}",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "FEATURE_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING",
            "SEARCH_WARM_UP": "false", "MEDIA_ROOT": str(folder / "media"),
            "SEARCH_INDEX_DIR": str(folder / "index")}


PYTHON = str(ROOT / ".venv" / "bin" / "python")
# The checkout whose code imports and extracts (--code: a baseline's, beside this one's).
code = ROOT


def manage(folder: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", *args], cwd=code, env=environment(folder), check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def reset(folder: Path) -> None:
    """Delete for good the images a run added to the settled million (their rows and
    files, as a purge does), so the next run starts where the first did."""
    newest = int((folder / "settled").read_text() or 0)
    script = ("from gallery.models import Image\n"
              "from gallery.trash import images_purge\n"
              f"images_purge(images=list(Image.all_objects.filter(pk__gt={newest})))\n")
    subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT,
                   env=environment(folder), check=True, stdout=subprocess.DEVNULL)
    snapshots_write(folder)


def snapshots_write(folder: Path) -> None:
    """Both snapshots brought up to the log's newest entry (carried over from the last
    ones), as a worker kept in step leaves them: otherwise the first run after a pause
    writes an aged snapshot while it extracts, and measures that write instead."""
    script = ("from features.extractors.loader import get_extractor\n"
              "from search.index.refresh import snapshot_refresh\n"
              "for column in ('searchable', 'vector'):\n"
              "    snapshot_refresh(extractor=get_extractor().fingerprint, column=column,"
              " force=True)\n")
    subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT,
                   env=environment(folder), check=True, stdout=subprocess.DEVNULL)


def settle(folder: Path) -> None:
    """In this process (Django set up for ``folder``): the copied million made a library the
    real model serves, with every later stage caught up, and its snapshots written."""
    from django.db import connection, transaction

    from features.extractors.loader import get_extractor
    from labels.loader import get_head
    from search.augmentation import _recipe
    from search.index.refresh import snapshot_refresh
    from search.models import AugmentationState, VectorChange
    from search.reranking import Reranking
    from django.conf import settings

    fingerprint = get_extractor().fingerprint
    head = get_head()
    rng = np.random.default_rng(5)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM features_servingextractor")
        cursor.execute("UPDATE features_featurevector SET extractor = %s, augmented = vector",
                       [fingerprint])
        cursor.execute("SELECT COUNT(*) FROM features_featurevector")
        count = cursor.fetchone()[0]
        cursor.execute("INSERT INTO duplicates_duplicatescan (vector_id) "
                       "SELECT id FROM features_featurevector")
        for step in LINK_STEPS:
            cursor.execute("INSERT INTO search_neighbourlink (owner_id, extractor, neighbour_id,"
                           " similarity) SELECT id, %s, (id * %s) %% %s + 1, 0.99 FROM "
                           "features_featurevector", [fingerprint, step, count])
        cursor.execute("INSERT INTO labels_imagelabel (image_id, rank, wnid, name, score, "
                       "vector_id, extractor, head, image_uploaded_at) SELECT v.image_id, 0, "
                       "'n04133789', 'sandal', 0.9, v.id, %s, %s, i.uploaded_at FROM "
                       "features_featurevector v JOIN gallery_image i ON i.id = v.image_id",
                       [fingerprint, head.identity])
        cursor.execute("SELECT id FROM gallery_image")
        images = [row[0] for row in cursor.fetchall()]
        hashes = rng.integers(-2**63, 2**63 - 1, size=(len(images), 5), dtype=np.int64)
        cursor.executemany(
            "INSERT INTO duplicates_imagehash (image_id, upright, turned_left, turned_right,"
            " mirrored, trimmed, paired) VALUES (%s, %s, %s, %s, %s, %s, 1)",
            [(image, *map(int, row)) for image, row in zip(images, hashes)])
    latest = VectorChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    AugmentationState.objects.update_or_create(
        extractor=fingerprint, defaults={"recipe": _recipe(Reranking.configured(settings)),
                                         "changes_seen": latest})
    for column in ("searchable", "vector"):
        snapshot_refresh(extractor=fingerprint, column=column, force=True)


def progress(folder: Path, vectors_before: int, images_before: int
             ) -> tuple[int, float, float, bool]:
    """(vectors made since, the first and last made (s since the epoch), whether every
    later stage is done for them): read straight from SQLite, beside the worker."""
    import sqlite3

    seconds = "(julianday(created_at) - 2440587.5) * 86400.0"
    with sqlite3.connect(folder / "library.sqlite3", timeout=30) as db:
        made, first, last = db.execute(
            f"SELECT COUNT(*), MIN({seconds}), MAX({seconds}) FROM features_featurevector"
            " WHERE id > ?", [vectors_before]).fetchone()
        waiting = db.execute(
            "SELECT (SELECT COUNT(*) FROM features_featurevector v WHERE v.id > ? AND ("
            " v.augmented IS NULL OR NOT EXISTS (SELECT 1 FROM duplicates_duplicatescan s"
            " WHERE s.vector_id = v.id) OR NOT EXISTS (SELECT 1 FROM labels_imagelabel l"
            " WHERE l.vector_id = v.id AND l.rank = 0)))"
            " + (SELECT COUNT(*) FROM gallery_image i WHERE i.id > ? AND NOT EXISTS ("
            " SELECT 1 FROM duplicates_imagehash h WHERE h.image_id = i.id AND h.paired))",
            [vectors_before, images_before]).fetchone()[0]
    return made, first or 0.0, last or 0.0, waiting == 0


def ingest(folder: Path, photos_folders: list[Path], counts: list[int]) -> list[dict]:
    """Import and extract each folder's photos into the library at ``folder``, in turn, the
    first before the worker starts and the others while it runs on (``counts``: photos in
    each folder); the figures of each."""
    results, worker = [], None
    try:
        for photos_folder, photos in zip(photos_folders, counts):
            vectors_before, images_before = newest_ids(folder)
            imported = manage(folder, "import_folder", str(photos_folder))
            if worker is None:
                worker = subprocess.Popen([PYTHON, "manage.py", "featureworker"], cwd=code,
                                          env=environment(folder), stdout=subprocess.DEVNULL)
            started = time.time()
            while True:
                time.sleep(0.5)
                made, first, last, done = progress(folder, vectors_before, images_before)
                if made >= photos and done:
                    break
                if worker.poll() is not None:
                    sys.exit("The feature worker stopped")
                if time.time() - started > 1800:
                    sys.exit("Not done in 30 minutes")
            finished = time.time()
            middle = halfway(folder, vectors_before, made)
            results.append({"import_s": imported,
                            "extract_rate": (made - 1) / max(last - first, 1e-9),
                            "later_rate": (made - made // 2 - 1) / max(last - middle, 1e-9),
                            "all_done_s": finished - first, "behind_s": finished - last,
                            "made": made})
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait()
    return results


def newest_ids(folder: Path) -> tuple[int, int]:
    """The newest vector id and image id in the library at ``folder``."""
    import sqlite3

    with sqlite3.connect(folder / "library.sqlite3", timeout=30) as db:
        return db.execute(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM features_featurevector),"
            " (SELECT COALESCE(MAX(id), 0) FROM gallery_image)").fetchone()


def halfway(folder: Path, vectors_before: int, made: int) -> float:
    """When the middle one of the vectors made was stored (s since the epoch): the rate
    after it leaves out what a worker does once after its start (reading every row's
    augmentation limits, every hash, the first look at every vector for each stage)."""
    import sqlite3

    with sqlite3.connect(folder / "library.sqlite3", timeout=30) as db:
        return db.execute("SELECT (julianday(created_at) - 2440587.5) * 86400.0 FROM "
                          "features_featurevector WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
                          [vectors_before, made // 2]).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True,
                        help="a library kept by bench/million.py --keep")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "ingest")
    parser.add_argument("--keep", action="store_true", help="keep the copy of the million")
    parser.add_argument("--rounds", type=int, default=1, choices=(1, 2),
                        help="2: then 300 other photos into the worker still running")
    parser.add_argument("--later-extra", type=int, default=0,
                        help="with --rounds 2: this many more photos of each original in the"
                        " second round (a longer import; 34 makes 2,000 photos)")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="a checkout whose code imports and extracts (a baseline's)")
    args = parser.parse_args()
    if args.later_extra and args.rounds != 2:
        parser.error("--later-extra adds to the second round: give --rounds 2")
    global code
    code = args.code.resolve()
    folders = [args.work / f"photos-{round_}" for round_ in range(args.rounds)]
    photos = []  # per round
    for round_, photos_folder in enumerate(folders):
        shutil.rmtree(photos_folder, ignore_errors=True)
        photos.append(photos_make(photos_folder, round_, args.later_extra))
    empty, million = args.work / "empty", args.work / "million"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir(parents=True)
    manage(empty, "migrate", "--verbosity", "0")
    if not (million / "settled").exists():
        shutil.rmtree(million, ignore_errors=True)
        million.mkdir(parents=True)
        started = time.perf_counter()
        shutil.copyfile(args.folder / "library.sqlite3", million / "library.sqlite3")
        manage(million, "migrate", "--verbosity", "0")
        os.environ.update(environment(million))
        import django

        django.setup()
        settle(million)
        from gallery.models import Image

        newest = Image.all_objects.order_by("-id").values_list("id", flat=True).first()
        (million / "settled").write_text(str(newest))
        print(f"the million copied and settled in {time.perf_counter() - started:.0f} s")
    else:
        manage(million, "migrate", "--verbosity", "0")
        reset(million)
    print(f"{' then '.join(map(str, photos))} photos into each library; the real model; "
          f"the code of {code}")
    print(f"{'library':<22} {'import s':>9} {'photos/s':>9} {'extracted/s':>12} "
          f"{'second half/s':>14} {'all stages done s':>18} {'after the last s':>17}")
    for name, folder in (("empty", empty), ("a million images", million)):
        for round_, result in enumerate(ingest(folder, folders, photos)):
            count = photos[round_]
            label = name if round_ == 0 else "  then, worker running"
            print(f"{label:<22} {result['import_s']:9.1f} {count / result['import_s']:9.1f} "
                  f"{result['extract_rate']:12.1f} {result['later_rate']:14.1f} "
                  f"{result['all_done_s']:18.1f} {result['behind_s']:17.1f}", flush=True)
    shutil.rmtree(empty, ignore_errors=True)
    for photos_folder in folders:
        shutil.rmtree(photos_folder, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(million, ignore_errors=True)


if __name__ == "__main__":
    main()
