"""A million photos on one machine: the approximate index beside the exact one.

    source bin/shared-weights
    .venv/bin/python bench/library_vectors.py            # once: the dev-set vectors (cached)
    .venv/bin/python bench/million.py --sizes 100000     # about 5 minutes on 2 cores
    .venv/bin/python bench/million.py --sizes 1000000    # alone on the machine: 8 GB for exact
    .venv/bin/python bench/million.py --sizes 1000000 --keep   # keep the library, then:
    .venv/bin/python bench/million.py --folder var/bench/million-1000000-XXXX \
        --parts snapshots,search,neighbours --no-exact --cold   # minutes, not half an hour
    .venv/bin/python bench/million.py --folder var/bench/million-1000000-XXXX \
        --parts search,neighbours --no-exact --cold --memory 4  # as on a 4 GB machine
    .venv/bin/python bench/million.py --folder var/bench/million-1000000-XXXX \
        --parts pgvector --no-exact   # pgvector's HNSW on the same library: 10 minutes
    .venv/bin/python bench/million.py --folder var/bench/million-1000000-XXXX \
        --parts pgvector --no-exact --ef-search 160,320,640   # one build, three breadths

For each size, one scratch SQLite library (bench/library_vectors.py: the dev-set photos'
real ResNet50 vectors, their crops, mirror images and colour shifts, spread into
clusters along the real vectors' own principal directions; the real ones hidden among
them) is searched the way the server searches it, in fresh processes:

- the worker writes the snapshot (``snapshot_refresh``): time (training included), disk;
- exact: ``ExactIndex`` in its own process; approximate: ``ApproximateIndex`` in two
  processes at once (a web process and a worker both searching the one snapshot);
- search by library image as served: the image's stored vector, itself left out, with
  query expansion (SEARCH_EXPANSION_NEIGHBOURS) through ``VectorIndex.search``:
  p50/p99 over the queries, and recall@6 of the approximate answers against the exact
  ones for the very same queries (random library images, and every real dev-set vector);
  augmentation's blended vectors are not made here (the searched column is then the
  plain vectors, as for rows the worker has not blended yet);
- time to the first search in a fresh process (the exact one loads every vector; the
  approximate one maps the snapshot and reads the log since);
- a vector written after the snapshot (as the worker writes one): found by the next search;
- memory of each process (``/proc/self/smaps_rollup``): resident, proportional (PSS),
  anonymous (the process's own) and file-backed (the mapped snapshot, shared);
- disk: the SQLite file and the snapshot folder;
- the feature worker's neighbour queries over the plain vectors (duplicates' pairs at or
  above DUPLICATE_FLOOR, augmentation's k nearest), exact beside approximate, for the
  same vectors (bench/million_neighbours.py).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The project before bench/ (this script's folder, whose search.py would hide the app).
sys.path.insert(0, str(ROOT))

from memory_limit import memory_limited  # noqa: E402
from million_neighbours import neighbours_report, part_neighbours  # noqa: E402
from pg_copy import hnsw_built, hnsw_dropped, vectors_copy  # noqa: E402

STARTED = time.perf_counter()
EXTRACTOR = "bench-real-looking-2048"
K = 6
DIM = 2048


def setup_django(folder: Path, *, migrate: bool = False, **env) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'library.sqlite3'}",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "FEATURE_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING", "SEARCH_WARM_UP": "false",
        "MEDIA_ROOT": str(folder / "media"), "SEARCH_INDEX_DIR": str(folder / "index"),
        **env,
    })
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def memory() -> dict:
    """This process's memory in MB, from /proc/self/smaps_rollup."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"], "pss_anon": fields.get("Pss_Anon", 0),
            "pss_file": fields.get("Pss_File", 0), "anonymous": fields["Anonymous"]}


def percentiles(seconds) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}


# ---------------------------------------------------------------- parts (own processes)

def part_library(folder: Path, n: int, density: str = "dense") -> dict:
    """Make the vectors, the SQLite library and the worker's snapshot."""
    from library_vectors import library_make

    started = time.perf_counter()
    real = library_make(n, folder / "vectors.npy", density=density)
    made_s = time.perf_counter() - started
    setup_django(folder, migrate=True, SEARCH_INDEX="approximate")
    from django.db import connection, transaction

    from features.fields import STORED  # as SQLite keeps them: half precision

    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    started = time.perf_counter()
    for start in range(0, n, 20_000):
        end = min(n, start + 20_000)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO gallery_image (id, filename, file, thumbnail, name, is_original,"
                " sha256, width, height, format, size_bytes, uploaded_at) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, 1, 1, 'JPEG', 1, '2026-01-01')",
                [(i + 1, f"{i + 1}.jpg", f"images/{i + 1}.jpg", f"thumbnails/{i + 1}.jpg",
                  f"{i + 1}.jpg", i < 50, f"{i + 1:064x}") for i in range(start, end)])
            cursor.executemany(
                "INSERT INTO features_featurevector (id, image_id, extractor, dim, vector,"
                " created_at) VALUES (%s, %s, %s, %s, %s, '2026-01-01')",
                [(i + 1, i + 1, EXTRACTOR, DIM, np.asarray(vectors[i], dtype=STORED).tobytes())
                 for i in range(start, end)])
    insert_s = time.perf_counter() - started
    del vectors

    from search.index.refresh import snapshot_refresh

    started = time.perf_counter()
    written = snapshot_refresh(extractor=EXTRACTOR, force=True)
    snapshot_s = time.perf_counter() - started
    # And the plain column's, which the worker's neighbour queries read.
    started = time.perf_counter()
    snapshot_refresh(extractor=EXTRACTOR, column="vector", force=True)
    plain_snapshot_s = time.perf_counter() - started
    index_bytes = sum(p.stat().st_size for p in (folder / "index").rglob("*") if p.is_file())
    manifest = json.loads(sorted((folder / "index").rglob("manifest-*.json"))[-1].read_text())
    np.save(folder / "real_rows.npy", real["real_rows"])
    made = {"made_s": made_s, "insert_s": insert_s, "snapshot_s": snapshot_s,
            "plain_snapshot_s": plain_snapshot_s,
            "snapshot_rows": written, "training": manifest["training"],
            "sqlite_bytes": (folder / "library.sqlite3").stat().st_size,
            "snapshot_bytes": index_bytes, "writer_memory": memory()}
    (folder / "library.json").write_text(json.dumps(made))  # for runs again on it (--folder)
    return made


def part_snapshots(folder: Path) -> dict:
    """Write both snapshots again (as the worker's next rewrite would, with this code)."""
    setup_django(folder, SEARCH_INDEX="approximate")
    from search.index.refresh import snapshot_refresh

    seconds = {}
    for column in ("searchable", "vector"):
        started = time.perf_counter()
        snapshot_refresh(extractor=EXTRACTOR, column=column, force=True)
        seconds[column] = time.perf_counter() - started
    return seconds


def part_search(folder: Path, kind: str, role: str, queries: int) -> dict:
    """Searches in a fresh process with one index kind; answers and figures to a file."""
    setup_django(folder, SEARCH_INDEX=kind)
    from django.conf import settings

    from search.index import get_index

    rows = np.load(folder / "query_rows.npy")[:queries]
    vectors = stored_vectors(rows)
    expand = settings.SEARCH_EXPANSION_NEIGHBOURS
    before = memory()
    index, answers, first_s, times = searches_by_image(get_index, vectors, rows, expand)
    result = {"kind": type(index).__name__, "first_search_s": first_s, **percentiles(times),
              "memory_before": before}
    if kind == "approximate":
        result["read_ahead"] = _after_read_ahead(index, vectors_of_others(rows, queries), expand)
    if role == "web":
        result["fresh_vector_s"] = _fresh_vector_found(index)
    # Both processes of one kind measure their memory while the other is alive too.
    (folder / f"ready-{kind}-{role}").touch()
    deadline = time.monotonic() + 600
    while (len(list(folder.glob(f"ready-{kind}-*"))) < 2 and kind == "approximate"
           and time.monotonic() < deadline):
        time.sleep(0.2)
    result["memory"] = memory()
    time.sleep(1.0)
    (folder / f"answers-{kind}-{role}.json").write_text(json.dumps(answers))
    return result


def stored_vectors(rows) -> dict:
    """The stored vectors of the library images in ``rows``, by image id."""
    from features.models import FeatureVector

    return dict(FeatureVector.objects.filter(image_id__in=(rows + 1).tolist())
                .values_list("image_id", "vector"))


def searches_by_image(open_index, vectors: dict, rows, expand: int):
    """Search by each library image in ``rows`` as served (its stored vector, itself left
    out, query expansion): the index ``open_index`` gives, its answers, the time (s) from
    opening it to the first search's answer, and each search's."""
    started = time.perf_counter()
    index = open_index()
    first = index.search(extractor=EXTRACTOR, query=vectors[int(rows[0]) + 1], k=K,
                         exclude_image_ids=[int(rows[0]) + 1], expand_neighbours=expand)
    first_s = time.perf_counter() - started
    assert first is not None
    answers, times = {}, []
    for row in rows:
        image_id = int(row) + 1
        started = time.perf_counter()
        hits = index.search(extractor=EXTRACTOR, query=vectors[image_id], k=K,
                            exclude_image_ids=[image_id], expand_neighbours=expand)
        times.append(time.perf_counter() - started)
        answers[image_id] = [hit.image_id for hit in hits]
    return index, answers, first_s, times


def part_pgvector(folder: Path, queries: int, ef_searches: list[int]) -> dict:
    """The same library in a throwaway PostgreSQL: its stored vectors copied in, pgvector's
    HNSW index built as the migration defines it, the same searches as served at each
    ``SEARCH_HNSW_EF_SEARCH`` in ``ef_searches`` (one build for them all)."""
    import sqlite3
    from contextlib import closing

    import psycopg
    from pgvector.psycopg import register_vector

    from devstack.stack import postgres_url

    with postgres_url() as url:
        setup_django(folder, migrate=True, DATABASE_URL=url)
        from django.conf import settings
        from django.db import connection
        from django.test import override_settings

        from features.fields import STORED
        from search.index import get_index

        with connection.cursor() as cursor:
            index_sql = hnsw_dropped(cursor)  # built after the rows
        started = time.perf_counter()
        # A connection of its own: with pgvector's types registered, rows read come back as
        # its Vector objects, which the app's own connection does not expect.
        with closing(sqlite3.connect(folder / "library.sqlite3")) as library, \
                psycopg.connect(url) as raw:
            register_vector(raw)
            cursor = raw.cursor()
            with cursor.copy("COPY gallery_image (id, filename, file, thumbnail, name, "
                             "is_original, sha256, width, height, format, size_bytes, "
                             "uploaded_at) FROM STDIN") as copy:
                for row in library.execute(
                        "SELECT id, filename, file, thumbnail, name, is_original, sha256, width,"
                        " height, format, size_bytes, uploaded_at FROM gallery_image"):
                    copy.write_row([*row[:5], bool(row[5]), *row[6:]])
            vectors_copy(cursor, (
                (key, image, extractor, dim, np.frombuffer(vector, dtype=STORED).astype(np.float32))
                for key, image, extractor, dim, vector in library.execute(
                    "SELECT id, image_id, extractor, dim, vector FROM features_featurevector")))
        load_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            build_s = hnsw_built(cursor, index_sql, "12GB")  # the graph is about 8 GB at 1M
            cursor.execute("SELECT pg_table_size('features_featurevector'), "
                           "pg_relation_size('search_vector_hnsw_2048')")
            table_bytes, index_bytes = cursor.fetchone()
        rows = np.load(folder / "query_rows.npy")[:queries]
        vectors = stored_vectors(rows)
        searches = []
        for ef_search in ef_searches or [settings.SEARCH_HNSW_EF_SEARCH]:
            with override_settings(SEARCH_HNSW_EF_SEARCH=ef_search):
                _, answers, first_s, times = searches_by_image(
                    get_index, vectors, rows, settings.SEARCH_EXPANSION_NEIGHBOURS)
            name = f"answers-pgvector-ef{ef_search}-web.json"
            (folder / name).write_text(json.dumps(answers))
            searches.append({"ef_search": ef_search, "answers": name, "first_search_s": first_s,
                             **percentiles(times)})
        result = {"load_s": load_s, "build_s": build_s, "table_bytes": table_bytes,
                  "index_bytes": index_bytes, "searches": searches, "memory": memory()}
        connection.close()
    return result


def pgvector_report(folder: Path, total: int, query_rows, queries: int,
                    ef_searches: list[int]) -> None:
    pg = run_part("pgvector", folder, total, ",".join(map(str, ef_searches)))
    exact = json.loads((folder / "answers-exact-web.json").read_text())
    exact = {int(k): v for k, v in exact.items()}
    library_ids = [int(r) + 1 for r in query_rows[:queries]]
    real_ids = [int(r) + 1 for r in query_rows[queries:]]
    print(f"pgvector HNSW (a throwaway PostgreSQL): rows copied in {pg['load_s']:.0f} s, index "
          f"built in {pg['build_s']:.0f} s; table {pg['table_bytes'] / 1e9:.2f} GB, index "
          f"{pg['index_bytes'] / 1e9:.2f} GB", flush=True)
    for searched in pg["searches"]:
        answers = json.loads((folder / searched["answers"]).read_text())
        answers = {int(k): v for k, v in answers.items()}
        print(f"  search by image (ef_search {searched['ef_search']}, query expansion) p50 "
              f"{searched['p50']:.1f} ms, p99 {searched['p99']:.1f} ms; first search "
              f"{searched['first_search_s']:.2f} s; recall@6 against exact: "
              f"{recall(answers, exact, library_ids):.4f} ({queries} library images), "
              f"{recall(answers, exact, real_ids):.4f} (real dev-set vectors)", flush=True)


def vectors_of_others(rows, count: int) -> dict:
    """The stored vectors of ``count`` library images not among ``rows``."""
    from features.models import FeatureVector

    # The bench library's image ids run from 1 to its size (part_library).
    size, taken = FeatureVector.objects.count(), set((rows + 1).tolist())
    others = np.random.default_rng(17).choice(size, count * 2, replace=False) + 1
    others = [int(i) for i in others if int(i) not in taken][:count]
    return dict(FeatureVector.objects.filter(extractor=EXTRACTOR, image_id__in=others)
                .values_list("image_id", "vector"))


def _after_read_ahead(index, vectors: dict, expand: int) -> dict:
    """Once the snapshot's files are read ahead (search/index/snapshot.py) and the first
    round is done: seconds since the process started, and searches by other library
    images timed then."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "snapshot-read-ahead":
            thread.join()
    ready_s = time.perf_counter() - STARTED
    times = []
    for image_id, vector in vectors.items():
        started = time.perf_counter()
        index.search(extractor=EXTRACTOR, query=vector, k=K, exclude_image_ids=[image_id],
                     expand_neighbours=expand)
        times.append(time.perf_counter() - started)
    return {"ready_s": ready_s, **percentiles(times)}


def _fresh_vector_found(index) -> float:
    """Seconds from a vector's commit (as the worker commits one) to a search finding it."""
    from features.models import FeatureVector
    from gallery.models import Image

    vector = np.random.default_rng(5).gamma(0.6, 1.0, DIM).astype(np.float32)
    vector /= np.linalg.norm(vector)
    image = Image.objects.create(filename="fresh.jpg", file="images/fresh.jpg",
                                 thumbnail="thumbnails/fresh.jpg", name="fresh.jpg",
                                 sha256="f" * 64, width=1, height=1, format="JPEG", size_bytes=1)
    FeatureVector.objects.create(image=image, extractor=EXTRACTOR, dim=DIM, vector=vector)
    started = time.perf_counter()
    while index.search(extractor=EXTRACTOR, query=vector, k=1)[0].image_id != image.pk:
        time.sleep(0.05)
    found_s = time.perf_counter() - started
    image.delete()
    return found_s


# ---------------------------------------------------------------- the run

def run_part(*args, wait: bool = True):
    command = [sys.executable, __file__, "--part", *map(str, args)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if not wait:
        return process
    return finish(process)


def finish(process) -> dict:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"a bench part failed:\n{out}")
    return json.loads(out.strip().splitlines()[-1])


def gigabytes(count: int | None) -> str:
    return "(unknown)" if count is None else f"{count / (1 << 30):.2f} GB"


def recall(approximate: dict, exact: dict, image_ids) -> float:
    return float(np.mean([len(set(approximate[i]) & set(exact[i])) / max(1, len(exact[i]))
                          for i in image_ids]))


def measure(n: int, queries: int, real: int, keep: bool, density: str = "dense") -> None:
    prefix = f"million-{n}-" if density == "dense" else f"million-{n}-{density}-"
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=ROOT / "var" / "bench"))
    print(f"\n== {n:,} vectors ({folder}, {density} clusters)", flush=True)
    library = run_part("library", folder, n, density)
    rng = np.random.default_rng(9)
    real_rows = np.load(folder / "real_rows.npy")
    real_rows = np.sort(rng.choice(real_rows, min(real, len(real_rows)), replace=False))
    query_rows = np.concatenate([rng.choice(n, queries, replace=False), real_rows])
    np.save(folder / "query_rows.npy", query_rows)
    library_report(library)
    measure_parts(folder, queries, ("search", "neighbours"))
    if not keep:
        shutil.rmtree(folder)


def measure_again(folder: Path, queries: int, parts, *, exact: bool, cold: bool,
                  ef_searches: list[int] = ()) -> None:
    """Parts again on a library kept by ``--keep``, with its queries. Without ``exact``,
    the approximate answers are compared with the exact ones an earlier run saved."""
    # The made-up vectors' file (8 GB at a million) is only needed to make the library.
    library = json.loads((folder / "library.json").read_text())
    print(f"\n== {library['snapshot_rows']:,} vectors ({folder}, kept)", flush=True)
    library_report(library)
    if "snapshots" not in parts and not snapshots_usable(folder):
        # No worker kept the log pinned at the snapshots (its readers time out after ten
        # minutes) and later runs pruned it: the snapshots would be passed over.
        print("the change log no longer reaches back to the kept snapshots: writing them again")
        parts = ["snapshots", *parts]
    measure_parts(folder, queries, parts, exact=exact, cold=cold, ef_searches=ef_searches)


def snapshots_usable(folder: Path) -> bool:
    """Whether the newest snapshot of each column still has the change log since it."""
    import sqlite3

    with sqlite3.connect(folder / "library.sqlite3") as database:
        first = database.execute("SELECT MIN(id) FROM search_vectorchange").fetchone()[0]
    for column in (folder / "index").iterdir():
        newest = max(column.glob("manifest-*.json"), default=None)
        if newest is None or (first and first > json.loads(newest.read_text())["covers"] + 1):
            return False
    return True


def library_report(library: dict) -> None:
    print(f"made in {library['made_s']:.0f} s, stored in SQLite in {library['insert_s']:.0f} s; "
          f"snapshot written in {library['snapshot_s']:.0f} s "
          f"(training: {library['training']['lists']} lists on "
          f"{library['training']['sample']:,} rows, {library['training']['seconds']:.0f} s); "
          f"the plain vectors' snapshot in {library['plain_snapshot_s']:.0f} s", flush=True)
    print(f"disk: SQLite {library['sqlite_bytes'] / 1e9:.2f} GB; snapshot "
          f"{library['snapshot_bytes'] / 1e9:.2f} GB; the worker's memory while writing it: "
          f"{library['writer_memory']['rss']:,.0f} MB RSS", flush=True)


def page_cache_drop(folder: Path) -> None:
    """Drop the snapshots' files from the page cache: as after a reboot, or after other work
    pushed them out (the exact index's 8 GB does here)."""
    for path in (folder / "index").rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(descriptor)


def measure_parts(folder: Path, queries: int, parts, *, exact: bool = True,
                  cold: bool = False, ef_searches: list[int] = ()) -> None:
    query_rows = np.load(folder / "query_rows.npy")
    if "snapshots" in parts:
        seconds = run_part("snapshots", folder)
        print(f"snapshots written again in {seconds['searchable']:.0f} s (searched vectors) and "
              f"{seconds['vector']:.0f} s (plain vectors)", flush=True)
    if "search" in parts:
        search_report(folder, queries, query_rows, exact=exact, cold=cold)
    if "pgvector" in parts:
        pgvector_report(folder, len(query_rows), query_rows, queries, ef_searches)
    if "neighbours" in parts:
        exact_part = run_part("neighbours", folder, "exact") if exact else None
        if cold:
            page_cache_drop(folder)
        neighbours_report(folder, exact_part, run_part("neighbours", folder, "approximate"),
                          [int(r) + 1 for r in query_rows[queries:]])


def search_report(folder: Path, queries: int, query_rows, *, exact: bool = True,
                  cold: bool = False) -> None:
    for ready in folder.glob("ready-*"):
        ready.unlink()  # of an earlier run on this folder
    real_rows, total = query_rows[queries:], len(query_rows)
    exact = run_part("search", folder, "exact", "web", total) if exact else None
    if cold:
        page_cache_drop(folder)
    web = run_part("search", folder, "approximate", "web", total, wait=False)
    worker = run_part("search", folder, "approximate", "worker", total, wait=False)
    web, worker = finish(web), finish(worker)
    answers = {kind: {int(k): v for k, v in json.loads(
        (folder / f"answers-{kind}-web.json").read_text()).items()}
        for kind in ("exact", "approximate")}
    real_ids = [int(r) + 1 for r in real_rows]
    library_ids = [int(r) + 1 for r in query_rows[:queries]]

    print(f"{'':<34}{'exact':>12}{'approximate':>14}{'ratio':>9}"
          + ("" if exact else "  (exact: its answers of an earlier run, not run again)"))

    def line(label, get, digits=1):
        b = get(web)
        if exact is None:
            print(f"{label:<34}{'':>11}{b:>14.{digits}f}")
            return
        a = get(exact)
        ratio = f"{a / b:8.1f}x" if b else ""
        print(f"{label:<34}{a:>11.{digits}f}{b:>14.{digits}f}{ratio}")

    line("search by image p50 (ms)", lambda part: part["p50"])
    line("search by image p99 (ms)", lambda part: part["p99"])
    line("first search after start (s)", lambda part: part["first_search_s"], digits=2)
    read_ahead = web["read_ahead"]
    print(f"approximate, once the snapshot's files are read ahead and those searches done "
          f"({read_ahead['ready_s']:.1f} s after the process started): "
          f"search by {queries} other library images p50 "
          f"{read_ahead['p50']:.1f} ms, p99 {read_ahead['p99']:.1f} ms")
    line("process RSS (MB)", lambda part: part["memory"]["rss"], digits=0)
    line("process anonymous (MB)", lambda part: part["memory"]["anonymous"], digits=0)
    line("process PSS (MB)", lambda part: part["memory"]["pss"], digits=0)
    print(f"recall@6 against exact, {queries} library images, query expansion: "
          f"{recall(answers['approximate'], answers['exact'], library_ids):.4f}")
    print(f"recall@6 against exact, {len(real_ids)} real dev-set vectors (photos and copies): "
          f"{recall(answers['approximate'], answers['exact'], real_ids):.4f}")
    pair = web["memory"]["pss"] + worker["memory"]["pss"]
    print(f"approximate web + worker processes together: PSS {pair:,.0f} MB "
          f"(web: {web['memory']['pss_anon']:,.0f} MB anonymous + {web['memory']['pss_file']:,.0f}"
          f" MB file-backed; worker: {worker['memory']['pss_anon']:,.0f} + "
          f"{worker['memory']['pss_file']:,.0f}); the index's own memory in a process: "
          f"{web['memory']['anonymous'] - web['memory_before']['anonymous']:,.0f} MB anonymous")
    print(f"a vector written after the snapshot found by the next search after "
          f"{web['fresh_vector_s'] * 1000:.1f} ms")


def numbers(text: str) -> list[int]:
    """"160,320" as [160, 320]; "" as []."""
    return [int(number) for number in text.split(",") if number]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300, help="library images searched with")
    parser.add_argument("--real", type=int, default=300,
                        help="real dev-set vectors (of 2,700 hidden in the library) searched with")
    parser.add_argument("--keep", action="store_true", help="keep the scratch library")
    parser.add_argument("--density", choices=("dense", "sparse"), default="dense",
                        help="how near the made-up vectors are to each other "
                        "(bench/library_vectors.py's MOVES)")
    parser.add_argument("--folder", type=Path,
                        help="measure a library kept by --keep again instead of making one")
    parser.add_argument("--parts", default="search,neighbours",
                        help="with --folder: which parts to run again (snapshots: write "
                        "them again first; search; pgvector: the same searches on pgvector's "
                        "HNSW index in a throwaway PostgreSQL; neighbours)")
    parser.add_argument("--no-exact", action="store_true",
                        help="with --folder: compare with the exact answers an earlier run "
                        "saved there, without running the exact index again")
    parser.add_argument("--cold", action="store_true",
                        help="with --folder: drop the snapshots from the page cache before "
                        "the approximate parts (a start after the cache was lost)")
    parser.add_argument("--memory", type=float, metavar="GB",
                        help="run as on a machine with this much memory: every process in one "
                        "memory-limited control group, page cache counted (bench/memory_limit.py)")
    parser.add_argument("--ef-search", default="",
                        help="with --parts pgvector: the SEARCH_HNSW_EF_SEARCH values searched "
                        "at, comma-separated, one index build for all (default: the setting)")
    parser.add_argument("--part", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        name, folder, *rest = args.part
        if name == "library":
            result = part_library(Path(folder), int(rest[0]), *rest[1:])
        elif name == "snapshots":
            result = part_snapshots(Path(folder))
        elif name == "pgvector":
            result = part_pgvector(Path(folder), int(rest[0]), numbers(rest[1]))
        elif name == "neighbours":
            result = part_neighbours(Path(folder), rest[0], setup_django, memory, percentiles)
        else:
            result = part_search(Path(folder), rest[0], rest[1], int(rest[2]))
        print(json.dumps(result), flush=True)
        return
    with ExitStack() as stack:
        if args.memory is not None:
            used_most = stack.enter_context(memory_limited(int(args.memory * (1 << 30))))
            stack.callback(lambda: print(f"\nmemory limit {args.memory:g} GB: at most "
                                         f"{gigabytes(used_most())} used (page cache "
                                         "included)", flush=True))
        if args.folder:
            measure_again(args.folder, args.queries, args.parts.split(","),
                          exact=not args.no_exact, cold=args.cold,
                          ef_searches=numbers(args.ef_search))
            return
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        for n in (int(size) for size in args.sizes.split(",")):
            measure(n, args.queries, args.real, args.keep, args.density)


if __name__ == "__main__":
    main()
