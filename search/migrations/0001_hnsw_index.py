"""pgvector's HNSW index for search, on PostgreSQL only (SQLite uses the in-process index).

The column holds vectors of any length, so the index is over an expression that
casts 2048-d rows (ResNet50's) to ``halfvec``: half the size of ``vector``, and
pgvector indexes up to 4,000 dimensions of it. Queries order by the same expression.
"""

from django.db import migrations

INDEX = "search_vector_hnsw_2048"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS vector")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON features_featurevector "
        "USING hnsw ((vector::halfvec(2048)) halfvec_cosine_ops) "
        "WITH (m = 16, ef_construction = 64) WHERE dim = 2048"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("features", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
