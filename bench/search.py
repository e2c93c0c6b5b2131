"""Search benchmark: the exact index, the original app's way, pgvector HNSW, and upload search.

    .venv/bin/python bench/search.py                      # 10k and 100k vectors, everything
    .venv/bin/python bench/search.py --sizes 10000 --no-model

Every figure and ratio below is measured in this one run, on this machine:

- floor: the time to read the float32 matrix once (the fastest of a one-thread and a
  two-thread pass over the very buffer the index scans); no exact scan can beat it;
- exact index: ``ExactIndex.search`` end to end (the per-query change check against a
  SQLite database holding the vectors, the scan, top k), p50/p99, ratio to the floor,
  and the memory it holds;
- the original app's way: load the saved ``.npy`` feature files, sklearn's
  ``cosine_similarity`` over all of them, argsort; our speed-up over it;
- pgvector: ``PgvectorIndex.search`` (one HNSW query plus float32 re-scoring of the k
  found) on a throwaway PostgreSQL, p50/p99 and recall@6 against the exact top 6, for
  several ``hnsw.ef_search`` values, and the query plan;
- search by upload end to end: a multipart POST to /api/v1/search/ through Django's full
  stack (request in, JSON out) with the real ResNet50, over 10,000 vectors (the shipped
  originals and the devset with real vectors, the rest synthetic), with the shipped
  re-ranking settings, every request timed, the first included, after the warm-up the
  server runs as it starts (search_warm_up).

Vectors are clustered synthetic unit vectors of 2048 dimensions (the parts that need a
database run in child processes, each with its own scratch database).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pg_copy import hnsw_built, hnsw_dropped, vectors_copy  # noqa: E402

DIM = 2048
K = 6
EXTRACTOR = "bench-synthetic-2048"
ORIGINALS = 50
# Vectors in the library searched by upload (the real photos', then synthetic ones).
UPLOAD_LIBRARY = 10_000


def percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "n": len(ms)}


def timed(call, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


# ---------------------------------------------------------------- data

def make_data(n: int, queries: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Clustered unit vectors (non-negative, like ReLU-pooled CNN features) and queries near them."""
    rng = np.random.default_rng(seed)
    clusters = max(10, n // 100)
    centres = rng.gamma(0.6, 1.0, (clusters, DIM)).astype(np.float32)
    matrix = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 10_000):
        end = min(n, start + 10_000)
        labels = rng.integers(0, clusters, end - start)
        noise = rng.gamma(0.6, 1.0, (end - start, DIM)).astype(np.float32)
        matrix[start:end] = centres[labels] + 0.8 * noise
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    picks = rng.integers(0, n, queries)
    query = matrix[picks] + 0.02 * rng.standard_normal((queries, DIM)).astype(np.float32)
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    return matrix, query


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ground truth: image ids (row + 1) of the exact top k for every query."""
    found = []
    for query in queries:
        scores = matrix @ query
        top = np.argpartition(-scores, k)[:k]
        found.append(top[np.argsort(-scores[top])] + 1)
    return np.asarray(found)


def save_like_the_original_app(folder: Path, matrix: np.ndarray) -> None:
    """Its two feature files: the originals' (precomputed) and the uploads' (generated)."""
    names = np.array([f"{i + 1}.jpg" for i in range(len(matrix))])
    np.save(folder / "original_features.npy", matrix[:ORIGINALS])
    np.save(folder / "original_filenames.npy", names[:ORIGINALS])
    np.save(folder / "features.npy", matrix[ORIGINALS:])
    np.save(folder / "filenames.npy", names[ORIGINALS:])


def original_app_search(folder: Path, query: np.ndarray) -> list[str]:
    """What the original app did per query: load both feature sets, merge, sklearn cosine, sort."""
    from sklearn.metrics.pairwise import cosine_similarity

    features = np.vstack([np.load(folder / "original_features.npy"),
                          np.load(folder / "features.npy")])
    filenames = np.concatenate([np.load(folder / "original_filenames.npy"),
                                np.load(folder / "filenames.npy")])
    similarities = cosine_similarity(query.reshape(1, -1), features)[0]
    return [filenames[i] for i in similarities.argsort()[-K:][::-1]]


# ---------------------------------------------------------------- child processes

def child(part: str, folder: Path, env: dict | None = None) -> dict:
    command = [sys.executable, __file__, "--part", part, "--folder", str(folder)]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})},
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"bench part {part} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def setup_django(database_url: str, media_root: Path, **settings_env) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings", "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "FEATURE_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(media_root),
        **settings_env,
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def image_rows(n: int):
    from django.utils import timezone

    now = timezone.now()
    for i in range(1, n + 1):
        yield dict(id=i, filename=f"{i}.jpg", file=f"images/{i}.jpg",
                   thumbnail=f"thumbnails/{i}.jpg", name=f"{i}.jpg",
                   is_original=i <= ORIGINALS, sha256=f"{i:064x}", width=1, height=1,
                   format="JPEG", size_bytes=1, uploaded_at=now)


def part_exact(folder: Path) -> dict:
    setup_django(f"sqlite:///{folder / 'library.sqlite3'}", media_root=folder / "media")
    from django.db import transaction

    from features.models import FeatureVector
    from gallery.models import Image
    from search.index.exact import ExactIndex

    matrix = np.load(folder / "matrix.npy", mmap_mode="r")
    queries = np.load(folder / "queries.npy")
    n = len(matrix)
    start = time.perf_counter()
    with transaction.atomic():
        Image.objects.bulk_create((Image(**row) for row in image_rows(n)), batch_size=2000)
        for lo in range(0, n, 2000):
            FeatureVector.objects.bulk_create(
                [FeatureVector(id=i + 1, image_id=i + 1, extractor=EXTRACTOR, dim=DIM,
                               vector=np.asarray(matrix[i])) for i in range(lo, min(n, lo + 2000))],
                batch_size=500)
    insert_s = time.perf_counter() - start
    del matrix

    index = ExactIndex()
    rss_before = _rss()
    start = time.perf_counter()
    index.search(extractor=EXTRACTOR, query=queries[0], k=K)
    load_s = time.perf_counter() - start
    rss_after = _rss()
    held = index._matrices[EXTRACTOR]

    from concurrent.futures import ThreadPoolExecutor

    from django.db.models import Max

    from search.models import VectorChange

    def stopwatch(call) -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    # The floor and the index are timed in turns, query by query, so both see the
    # same machine (other work on it slows both alike and the ratio stays fair).
    rows = held.rows
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2:]]
    ones = [np.ones(len(half), dtype=np.float32) for half in halves]
    one_thread, two_threads, column_sums, latencies, found = [], [], [], [], []
    with ThreadPoolExecutor(2) as pool:
        for query in list(queries) * max(1, 300 // len(queries)):
            one_thread.append(stopwatch(lambda: np.add.reduce(rows, axis=0)))
            two_threads.append(stopwatch(
                lambda: list(pool.map(lambda half: np.add.reduce(half, axis=0), halves))))
            column_sums.append(stopwatch(
                lambda: list(pool.map(lambda pair: pair[0] @ pair[1], zip(ones, halves)))))
            start = time.perf_counter()
            hits = index.search(extractor=EXTRACTOR, query=query, k=K)
            latencies.append(time.perf_counter() - start)
            found.append([hit.image_id for hit in hits])
    floors = {"sum, one thread": percentiles(one_thread)["p50"],
              "sum, two threads": percentiles(two_threads)["p50"],
              "BLAS column sums, two threads": percentiles(column_sums)["p50"]}
    scan_only = timed(lambda: held.search(queries[1], K), 100)
    check = timed(lambda: VectorChange.objects.aggregate(latest=Max("id")), 100)
    filtered = timed(lambda: index.search(extractor=EXTRACTOR, query=queries[2], k=K,
                                          kind="original"), 50)

    # Another writer deletes one vector and adds one: the next query sees both.
    incremental = []
    for turn in range(5):
        FeatureVector.objects.filter(image_id=n - turn).delete()
        FeatureVector.objects.create(image_id=n - turn, extractor=EXTRACTOR, dim=DIM,
                                     vector=queries[3 + turn])
        start = time.perf_counter()
        hits = index.search(extractor=EXTRACTOR, query=queries[3 + turn], k=1)
        incremental.append(time.perf_counter() - start)
        assert hits[0].image_id == n - turn and held.size == n
    incremental_s = float(np.median(incremental))

    return {
        "insert_s": insert_s, "load_s": load_s, "floor_ms": min(floors.values()),
        "floors_ms": floors, "search": percentiles(latencies),
        "scan_only": percentiles(scan_only), "change_check": percentiles(check),
        "filtered": percentiles(filtered), "incremental_ms": incremental_s * 1000,
        "index_bytes": held.nbytes, "matrix_bytes": n * DIM * 4,
        "rss_growth_bytes": rss_after - rss_before,
        "found": found[: len(queries)],
    }


def part_pgvector(folder: Path) -> dict:
    setup_django(os.environ["BENCH_DATABASE_URL"], media_root=folder / "media")
    from django.conf import settings
    from django.db import connection, transaction
    from pgvector.psycopg import register_vector

    from core.vectors import pgvector_literal
    from search.index.pgvector import PgvectorIndex, search_sql, set_search_options

    matrix = np.load(folder / "matrix.npy", mmap_mode="r")
    queries = np.load(folder / "queries.npy")
    truth = np.load(folder / "truth.npy")
    n = len(matrix)
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    with connection.cursor() as cursor:
        index_sql = hnsw_dropped(cursor)
    start = time.perf_counter()
    with raw.cursor() as cursor:
        columns = list(next(image_rows(1)))
        with cursor.copy(f"COPY gallery_image ({', '.join(columns)}) FROM STDIN") as copy:
            for row in image_rows(n):
                copy.write_row(list(row.values()))
        vectors_copy(cursor, ((i + 1, i + 1, EXTRACTOR, DIM, np.asarray(matrix[i]))
                              for i in range(n)))
    raw.commit()
    insert_s = time.perf_counter() - start
    with connection.cursor() as cursor:
        build_s = hnsw_built(cursor, index_sql, "6GB")
    del matrix

    index = PgvectorIndex()
    with transaction.atomic(), connection.cursor() as cursor:
        set_search_options(cursor, k=K)
        sql = search_sql(dim=DIM, kind="all", exclude=False, min_similarity=False)
        cursor.execute("EXPLAIN " + sql, {"extractor": EXTRACTOR, "query": pgvector_literal(queries[0]),
                                          "k": K, "is_original": None, "exclude": None,
                                          "min_similarity": None})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    runs, default_ef = {}, settings.SEARCH_HNSW_EF_SEARCH
    for ef_search in sorted({64, 100, 160, 200, 300, default_ef}):
        settings.SEARCH_HNSW_EF_SEARCH = ef_search
        for query in queries[:20]:  # warm the index pages
            index.search(extractor=EXTRACTOR, query=query, k=K)
        latencies, recalls = [], []
        for query, expected in zip(queries, truth):
            start = time.perf_counter()
            hits = index.search(extractor=EXTRACTOR, query=query, k=K)
            latencies.append(time.perf_counter() - start)
            recalls.append(len({hit.image_id for hit in hits} & set(expected.tolist())) / K)
        runs[ef_search] = {**percentiles(latencies), "recall": float(np.mean(recalls))}
    settings.SEARCH_HNSW_EF_SEARCH = default_ef
    filtered = timed(lambda: index.search(extractor=EXTRACTOR, query=queries[0], k=K,
                                          kind="original"), 20)
    filtered_hits = index.search(extractor=EXTRACTOR, query=queries[0], k=K, kind="original")
    return {"insert_s": insert_s, "build_s": build_s, "plan": plan, "runs": runs,
            "default_ef": default_ef,
            "uses_hnsw": "search_vector_hnsw_2048" in plan,
            "filtered": percentiles(filtered), "filtered_found": len(filtered_hits)}


def part_upload(folder: Path) -> dict:
    weights = os.environ.get("FEATURE_WEIGHTS") or str(
        ROOT.parent / "shared/models/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    setup_django(f"sqlite:///{folder / 'upload.sqlite3'}", media_root=folder / "media",
                 FEATURE_WEIGHTS=weights,
                 FEATURE_EXTRACTOR="features.extractors.resnet50.ResNet50Extractor",
                 ALLOWED_HOSTS="testserver", ANONYMOUS_ACCESS="read",
                 RATE_SEARCH_UPLOAD="100000/min")
    from django.db import transaction
    from django.test import Client

    from features.extractors.loader import get_extractor
    from features.models import FeatureVector
    from gallery.models import Image
    from gallery.services import image_create
    from search.services import search_warm_up

    data_dir = ROOT.parent / "shared/data"
    originals = sorted((data_dir / "originals").glob("*.jpg"))
    devset = sorted((data_dir / "devset/images").glob("*.jpg"))
    extractor = get_extractor()
    library = [(path, True) for path in originals] + [(path, False) for path in devset]
    for lo in range(0, len(library), 16):
        batch = library[lo:lo + 16]
        datas = [path.read_bytes() for path, _ in batch]
        vectors = extractor.extract(datas)
        for (path, original), data, vector in zip(batch, datas, vectors):
            image = image_create(name=path.name, data=data, is_original=original).image
            FeatureVector.objects.get_or_create(
                image=image, extractor=extractor.fingerprint,
                defaults={"dim": vector.size, "vector": vector})
    # Synthetic vectors (rows without files) up to the library size the target names.
    filler, _ = make_data(UPLOAD_LIBRARY - len(library), 1)
    first_id = Image.objects.order_by("-id").values_list("id", flat=True).first() + 1
    with transaction.atomic():
        rows = list(image_rows(first_id + len(filler) - 1))[first_id - 1:]
        Image.objects.bulk_create([Image(**{**row, "is_original": False}) for row in rows],
                                  batch_size=2000)
        FeatureVector.objects.bulk_create(
            [FeatureVector(image_id=row["id"], extractor=extractor.fingerprint, dim=DIM,
                           vector=vector) for row, vector in zip(rows, filler)], batch_size=500)
    count = FeatureVector.objects.filter(extractor=extractor.fingerprint).count()

    # What the server does as it starts (imagesim/asgi.py), in a new process, on the
    # model this process has not loaded yet: a second extractor instance of the same preset.
    from features.extractors import loader

    loader._extractors.clear()
    start = time.perf_counter()
    search_warm_up()
    warm_up_s = time.perf_counter() - start
    extractor = get_extractor()
    # And, as the server does at start, the URL configuration and the middleware load.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    client = Client()
    client.handler.load_middleware()
    queries = [path.read_bytes() for path in devset[::10]]

    def post(data):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = client.post("/api/v1/search/",
                               {"file": SimpleUploadedFile("query.jpg", data, "image/jpeg")})
        assert response.status_code == 200, response.content
        return response.json()

    # Every request counts, the first included. End to end and extraction alone in turns,
    # so both see the same machine.
    latencies, extract_only = [], []
    for data in queries * 2:
        start = time.perf_counter()
        post(data)
        latencies.append(time.perf_counter() - start)
        start = time.perf_counter()
        extractor.extract([data])
        extract_only.append(time.perf_counter() - start)
    from django.conf import settings

    return {"library": count, "warm_up_s": warm_up_s, "first_ms": latencies[0] * 1000,
            "precision": getattr(extractor, "precision", "?"),
            "expansion": settings.SEARCH_QUERY_EXPANSION,
            "end_to_end": percentiles(latencies), "extract_only": percentiles(extract_only),
            "load": os.getloadavg()[0]}


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- the run

def run(sizes: list[int], queries: int, pgvector: bool, model: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="imagesim-bench-"))
    try:
        measure(work, sizes, queries, pgvector, model)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, sizes: list[int], queries: int, pgvector: bool, model: bool) -> None:
    print(f"Search benchmark: {DIM}-d float32, k={K}, {os.cpu_count()} CPU cores, "
          f"numpy {np.__version__}\n")
    for n in sizes:
        folder = work / str(n)
        folder.mkdir()
        matrix, query = make_data(n, queries)
        np.save(folder / "matrix.npy", matrix)
        np.save(folder / "queries.npy", query)
        truth = exact_top(matrix, query, K)
        np.save(folder / "truth.npy", truth)
        save_like_the_original_app(folder, matrix)
        del matrix

        print(f"== {n:,} vectors ({n * DIM * 4 / 2**20:,.0f} MiB as float32; "
              f"load average {os.getloadavg()[0]:.1f})")
        exact = child("exact", folder)
        agree = np.mean([list(found) == list(expected)
                         for found, expected in zip(exact["found"], truth)])
        floor = exact["floor_ms"]
        search = exact["search"]
        print(f"  floor (read the matrix once):     {floor:7.2f} ms   (fastest of: "
              + ", ".join(f"{name} {ms:.2f}" for name, ms in exact["floors_ms"].items()) + ")")
        print(f"  exact index p50 / p99:            {search['p50']:7.2f} / {search['p99']:.2f} ms"
              f"   = {search['p50'] / floor:.2f}x the floor (target <= 1.3x at 100k)")
        print(f"    of which the change check:      {exact['change_check']['p50']:7.2f} ms; "
              f"scan + top k alone {exact['scan_only']['p50']:.2f} ms; "
              f"originals-only filter {exact['filtered']['p50']:.2f} ms")
        print(f"    memory held:                    {exact['index_bytes'] / 2**20:7.1f} MiB "
              f"for a {exact['matrix_bytes'] / 2**20:.1f} MiB matrix "
              f"({exact['index_bytes'] / exact['matrix_bytes']:.3f}x; process grew "
              f"{exact['rss_growth_bytes'] / 2**20:.0f} MiB while loading)")
        print(f"    first load from SQLite {exact['load_s']:.2f} s; one add + one delete by "
              f"another writer seen by the next query in {exact['incremental_ms']:.1f} ms")
        print(f"    top 6 identical to numpy brute force: {agree * 100:.1f}% of queries")

        legacy_queries = 10 if n >= 100_000 else 30
        original_app_search(folder, query[0])  # imports sklearn: not part of a query
        legacy = percentiles([timed(lambda q=q: original_app_search(folder, q), 1)[0]
                              for q in query[1:legacy_queries + 1]])
        print(f"  original app (np.load + sklearn): {legacy['p50']:7.2f} / {legacy['p99']:.2f} ms"
              f"   -> exact index is {legacy['p50'] / search['p50']:.1f}x faster")

        if pgvector:
            from devstack.stack import postgres_url

            with postgres_url() as url:
                pg = child("pgvector", folder, {"BENCH_DATABASE_URL": url})
            print(f"  pgvector: load {pg['insert_s']:.1f} s, HNSW build {pg['build_s']:.1f} s; "
                  f"plan uses the HNSW index: {pg['uses_hnsw']}")
            for ef_search, figures in pg["runs"].items():
                print(f"    ef_search={int(ef_search):<4} p50 / p99 {figures['p50']:6.2f} / "
                      f"{figures['p99']:6.2f} ms  recall@6 {figures['recall']:.4f}"
                      f"  (exact p50 / this p50 = {search['p50'] / figures['p50']:.1f}x)"
                      + ("  <- SEARCH_HNSW_EF_SEARCH" if int(ef_search) == pg["default_ef"] else ""))
            print(f"    originals-only filter (iterative scan, ef_search {pg['default_ef']}): "
                  f"{pg['filtered']['p50']:.2f} ms, {pg['filtered_found']} of {K} found")
        print()

    if model:
        upload = child("upload", work)
        figures = upload["end_to_end"]
        print(f"== search by upload, end to end (POST /api/v1/search/, real ResNet50, "
              f"{upload['precision']}, {upload['library']:,} vectors, query expansion "
              f"{'on' if upload['expansion'] else 'off'})")
        print(f"  p50 / p99:  {figures['p50']:.1f} / {figures['p99']:.1f} ms over {figures['n']} "
              f"requests, the first included ({upload['first_ms']:.1f} ms; target p50 <= 60 ms); "
              f"extraction alone p50 {upload['extract_only']['p50']:.1f} ms; "
              f"server warm-up {upload['warm_up_s']:.1f} s; load average {upload['load']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-pgvector", action="store_true")
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        result = {"exact": part_exact, "pgvector": part_pgvector, "upload": part_upload}[
            args.part](args.folder)
        print(json.dumps(result, default=lambda value: value.tolist()))
        return
    run([int(size) for size in args.sizes.split(",") if size.strip() and int(size) > 0],
        args.queries,
        pgvector=not args.no_pgvector, model=not args.no_model)


if __name__ == "__main__":
    main()
