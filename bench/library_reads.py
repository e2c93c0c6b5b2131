"""The library's reads at a million images: a page, its count, the kind and label
filters, a name search, the duplicates listing and the features status (the page's
Features card), through Django's full stack.

    .venv/bin/python bench/library_reads.py                      # 100k, then 1M (a few minutes)
    .venv/bin/python bench/library_reads.py --sizes 20000        # a quick check that it works
    .venv/bin/python bench/library_reads.py --sizes 1000000 --folder var/bench/reads-1m
                                                   # kept there, and used again next time

For each size, a scratch SQLite library (the embedded default) of that many image rows
(files are not needed to list them; 1 in 50 an original, 1 in 200 in the trash), each
with three labels of a thousand classes (the first a class under "shoe" for 1 in 30), and
some thousands of duplicate groups, their pairs written as the worker writes them. A
signed-in viewer then asks, through Django's test client (its whole middleware, the
access rules, the serializers; after one request to warm Django itself), each of:
the first page of the library, a page in the middle and the last page (each page answer
carries the count), originals only, the label filter ``shoe`` (its first, middle and last
pages) and ``sandal`` (a class's own name), a name search, the first page of duplicate
groups, and the features status. Printed: p50 and p99 of ``--repeat`` requests each, in ms,
and the queries one request makes. Target: p50 <= 100 ms at 1M.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Classes under "shoe" in WordNet (labels/wordnet.py): a label query for "shoe" finds them.
SHOE_CLASSES = [("n04133789", "sandal"), ("n03680355", "Loafer"), ("n04120489", "running_shoe"),
                ("n03047690", "clog")]


def setup_django(folder: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "SECRET_KEY": "library-reads-bench-only-" + "k" * 40,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "FEATURE_EMBEDDED_WORKER": "false",
        "FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
        "LABEL_HEAD_WEIGHTS": "off",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    })
    import django
    django.setup()


def library_make(size: int, groups: int, seed: int) -> dict:
    """Rows straight into SQLite (the ORM's bulk_create is ten times slower at 1M)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from features.serving import serving_fingerprint

    call_command("migrate", verbosity=0)
    extractor = serving_fingerprint()
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    batch = 20_000
    vector = np.zeros(8, np.float16).tobytes()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, size, batch):
            rows = [(f"{n:07d}.jpg", f"images/{n:07d}.jpg", f"thumbnails/{n:07d}.jpg",
                     f"photo {n}.jpg", n % 50 == 0, f"{n:064x}", 800, 600, "JPEG", 200_000,
                     f"2026-01-01 00:00:00.{n:06d}" if n < 1_000_000 else "2026-01-02",
                     "2026-03-01 00:00:00" if n % 200 == 7 else None)
                    for n in range(start, min(size, start + batch))]
            cursor.executemany(
                "INSERT INTO gallery_image (filename, file, thumbnail, name, is_original, "
                "sha256, width, height, format, size_bytes, uploaded_at, trashed_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        cursor.execute("SELECT id FROM gallery_image ORDER BY id")
        image_ids = [row[0] for row in cursor.fetchall()]
        classes = [(f"n{90000000 + c:08d}", f"class {c}") for c in range(1000)]
        for start in range(0, size, batch):
            rows = []
            for image in image_ids[start:start + batch]:
                picks = rng.integers(0, len(classes), 3)
                named = [SHOE_CLASSES[image % 4] if image % 30 == 0 else classes[picks[0]],
                         classes[picks[1]], classes[picks[2]]]
                rows += [(image, rank, wnid, name, 0.9 - rank * 0.3, image, extractor, "bench")
                         for rank, (wnid, name) in enumerate(named)]
            cursor.executemany(
                "INSERT INTO labels_imagelabel (image_id, rank, wnid, name, score, vector_id, "
                "extractor, head) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        for start in range(0, size, batch):
            cursor.executemany(
                "INSERT INTO features_featurevector (image_id, extractor, dim, vector, "
                "created_at) VALUES (%s, %s, 8, %s, '2026-01-01')",
                [(image, extractor, vector) for image in image_ids[start:start + batch]])
        cursor.execute("SELECT image_id, id FROM features_featurevector")
        vector_of = dict(cursor.fetchall())
        cursor.executemany("INSERT INTO duplicates_duplicatescan (vector_id) VALUES (%s)",
                           [(v,) for v in vector_of.values()])
        members = rng.permutation(image_ids)
        pairs, used = [], 0
        for _ in range(groups):
            group_size = int(rng.integers(2, 5))
            group = sorted(int(i) for i in members[used:used + group_size])
            used += group_size
            for a_index, a in enumerate(group):
                for b in group[a_index + 1:]:
                    similarity = float(rng.uniform(0.86, 1.0))
                    (va, ia), (vb, ib) = sorted([(vector_of[a], a), (vector_of[b], b)])
                    pairs.append((va, vb, ia, ib, extractor, similarity, similarity))
        cursor.executemany(
            "INSERT INTO duplicates_duplicatepair (first_id, second_id, first_image_id, "
            "second_image_id, extractor, similarity, score) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            pairs)
    # No ANALYZE: ImageSim never runs it, so a library's queries are planned without
    # statistics, as here.
    return {"seconds": time.perf_counter() - started, "pairs": len(pairs)}


def timed(client, url: str, params: dict, repeat: int) -> tuple[float, float, int, dict]:
    from django.db import connection

    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql)
                                    or execute(sql, *rest)):
        answer = client.get(url, params)
    if answer.status_code != 200:
        raise RuntimeError(f"{url} {params}: {answer.status_code} {answer.content[:300]}")
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(url, params)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return (statistics.median(times), times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            len(queries), answer.json())


def measure(size: int, args) -> None:
    kept = args.folder is not None
    folder = args.folder or Path(tempfile.mkdtemp(prefix="imagesim-reads-"))
    try:
        made_before = (folder / "db.sqlite3").exists()
        folder.mkdir(parents=True, exist_ok=True)
        setup_django(folder)
        if made_before:  # migrated (new indexes), nothing else made again
            from django.core.management import call_command
            call_command("migrate", verbosity=0)
            made = {"seconds": 0, "pairs": _count("duplicates_duplicatepair")}
        else:
            made = library_make(size, args.groups, args.seed)
        from accounts.services import user_create
        from django.test import Client

        from django.contrib.auth import get_user_model
        client = Client()
        user = get_user_model().objects.filter(username="bench").first()
        client.force_login(user or user_create(username="bench", role="viewer", password=None))
        client.get("/api/v1/features/status/")  # Django's own first-request costs
        counts = {}  # pages of the library, and of a label's images
        print(f"\n{size:,} images, {made['pairs']:,} duplicate pairs (made in "
              f"{made['seconds']:.0f} s); SQLite file {(folder / 'db.sqlite3').stat().st_size / 1e9:.2f} GB")
        print(f"  {'request':<34} {'p50 ms':>8} {'p99 ms':>8} {'queries':>8}  answer")
        asks = [("the first page", "/api/v1/images/", {}),
                ("a page in the middle", "/api/v1/images/", {"page": "MIDDLE"}),
                ("the last page", "/api/v1/images/", {"page": "LAST"}),
                ("originals only", "/api/v1/images/", {"kind": "original"}),
                ("label filter: shoe", "/api/v1/images/", {"label": "shoe"}),
                ("label filter, a page in the middle", "/api/v1/images/", {"label": "shoe",
                                                                           "page": "MIDDLE"}),
                ("label filter, the last page", "/api/v1/images/", {"label": "shoe",
                                                                    "page": "LAST"}),
                ("label filter: sandal (a class)", "/api/v1/images/", {"label": "sandal"}),
                ("name search: 'photo 12345'", "/api/v1/images/", {"q": "photo 12345"}),
                ("duplicate groups, first page", "/api/v1/duplicates/", {}),
                ("duplicate groups, page 10", "/api/v1/duplicates/", {"page": 10}),
                ("the features status", "/api/v1/features/status/", {})]
        for label, url, params in asks:
            if params.get("page") in ("MIDDLE", "LAST"):
                count = counts[params.get("label", "")]
                params = {**params, "page": max(1, count // 2) if params["page"] == "MIDDLE"
                          else count}
            p50, p99, queries, body = timed(client, url, params, args.repeat)
            if url == "/api/v1/images/" and "page" not in params and "kind" not in params:
                counts[params.get("label", "")] = -(-body["count"] // len(body["results"]))
            answer = (f"{body['count']:,} found, {len(body['results'])} on the page"
                      if "count" in body else
                      f"{body['counts']['with_vectors']:,} of {body['counts']['images']:,} "
                      "images with features")
            print(f"  {label:<34} {p50:8.1f} {p99:8.1f} {queries:8d}  {answer}", flush=True)
    finally:
        from django.db import connection
        connection.close()
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)


def _count(table: str) -> int:
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path,
                        help="keep the library here, and use the one already there (one size)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(sizes) > 1:  # Django is set up once a process: each size in its own
        for size in sizes:
            os.spawnv(os.P_WAIT, sys.executable, [sys.executable, __file__, "--sizes", str(size),
                                                  "--groups", str(args.groups), "--repeat",
                                                  str(args.repeat), "--seed", str(args.seed)])
        return
    measure(sizes[0], args)


if __name__ == "__main__":
    main()
