"""Vectors copied into PostgreSQL the fast way, for benchmarks that fill a throwaway one,
and the HNSW index the migrations define built after them (far sooner than row by row)."""

import time
from datetime import datetime, timezone

HNSW_INDEX = "search_vector_hnsw_2048"


def hnsw_dropped(cursor) -> str:
    """Drop the migrations' HNSW index; the statement that builds it again."""
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [HNSW_INDEX])
    (index_sql,) = cursor.fetchone()
    cursor.execute(f"DROP INDEX {HNSW_INDEX}")
    return index_sql


def hnsw_built(cursor, index_sql: str, memory: str) -> float:
    """Build the index with ``memory`` of maintenance_work_mem (room for the graph: pgvector
    builds it in memory where it fits, on disk, far slower, where not) and one parallel
    worker, then ANALYZE; seconds the build took."""
    cursor.execute(f"SET maintenance_work_mem = '{memory}'")
    cursor.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    cursor.execute(index_sql)
    seconds = time.perf_counter() - started
    cursor.execute("ANALYZE")
    return seconds


def vectors_copy(cursor, rows) -> None:
    """COPY (vector id, image id, extractor, dim, float32 vector) rows into the vectors'
    table, in binary: text would format 2,048 numbers a row. ``cursor``'s connection needs
    pgvector's types registered (``pgvector.psycopg.register_vector``)."""
    now = datetime.now(timezone.utc)
    with cursor.copy("COPY features_featurevector (id, image_id, extractor, dim, vector, "
                     "created_at) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "int8", "varchar", "int4", "vector", "timestamptz"])
        for row in rows:
            copy.write_row([*row, now])
