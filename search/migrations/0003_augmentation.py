"""Database-side augmentation: neighbour links, the recipe in use, and (PostgreSQL) the HNSW
index over what searches compare, ``COALESCE(augmented, vector)``.

The index keeps its name and its shape (halfvec(2048), cosine, m 16, ef_construction 64);
only its expression changes, so rows not yet augmented are found by their plain vector.
A link's row goes with its owner's vector in the database too (ON DELETE CASCADE), as
the vectors go with their image (features 0003).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "search_vector_hnsw_2048"
SEARCHABLE = "(COALESCE(augmented, vector)::halfvec(2048))"
PLAIN = "(vector::halfvec(2048))"


def index_over(expression):
    def make(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON features_featurevector "
            f"USING hnsw ({expression} halfvec_cosine_ops) "
            "WITH (m = 16, ef_construction = 64) WHERE dim = 2048"
        )
    return make


def cascade_links(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT con.conname FROM pg_constraint con
            JOIN pg_class rel ON rel.oid = con.conrelid
            WHERE con.contype = 'f' AND rel.relname = 'search_neighbourlink'
            """
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'ALTER TABLE search_neighbourlink DROP CONSTRAINT "{name}"')
            schema_editor.execute(
                f'ALTER TABLE search_neighbourlink ADD CONSTRAINT "{name}" FOREIGN KEY (owner_id) '
                "REFERENCES features_featurevector (id) ON DELETE CASCADE "
                "DEFERRABLE INITIALLY DEFERRED"
            )


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_vector_changes"),
        ("features", "0004_augmented_vector"),
    ]

    operations = [
        migrations.CreateModel(
            name="AugmentationState",
            fields=[
                ("extractor", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("recipe", models.CharField(max_length=40)),
            ],
        ),
        migrations.CreateModel(
            name="NeighbourLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("extractor", models.CharField(max_length=100)),
                ("neighbour_id", models.BigIntegerField(db_index=True)),
                ("similarity", models.FloatField()),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name="+", to="features.featurevector")),
            ],
            options={
                "indexes": [models.Index(fields=["extractor", "owner"],
                                         name="neighbour_link_owner")],
            },
        ),
        migrations.RunPython(cascade_links, migrations.RunPython.noop),
        migrations.RunPython(index_over(SEARCHABLE), index_over(PLAIN)),
    ]
