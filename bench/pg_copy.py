"""Vectors copied into PostgreSQL the fast way, for benchmarks that fill a throwaway one."""

from datetime import datetime, timezone


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
