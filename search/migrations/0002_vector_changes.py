"""The change log the in-process index follows, written by triggers on every vector write."""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER search_vector_inserted AFTER INSERT ON features_featurevector
       BEGIN INSERT INTO search_vectorchange (vector_id, extractor) VALUES (NEW.id, NEW.extractor);
       END""",
    """CREATE TRIGGER search_vector_deleted AFTER DELETE ON features_featurevector
       BEGIN INSERT INTO search_vectorchange (vector_id, extractor) VALUES (OLD.id, OLD.extractor);
       END""",
    """CREATE TRIGGER search_vector_updated AFTER UPDATE ON features_featurevector
       BEGIN
         INSERT INTO search_vectorchange (vector_id, extractor) VALUES (OLD.id, OLD.extractor);
         INSERT INTO search_vectorchange (vector_id, extractor) VALUES (NEW.id, NEW.extractor);
       END""",
    """CREATE TRIGGER search_image_kind_changed AFTER UPDATE OF is_original ON gallery_image
       WHEN OLD.is_original <> NEW.is_original
       BEGIN
         INSERT INTO search_vectorchange (vector_id, extractor)
         SELECT id, extractor FROM features_featurevector WHERE image_id = NEW.id;
       END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_vector_inserted",
    "DROP TRIGGER IF EXISTS search_vector_deleted",
    "DROP TRIGGER IF EXISTS search_vector_updated",
    "DROP TRIGGER IF EXISTS search_image_kind_changed",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION search_log_vector_change() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP IN ('UPDATE', 'DELETE') THEN
           INSERT INTO search_vectorchange (vector_id, extractor) VALUES (OLD.id, OLD.extractor);
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO search_vectorchange (vector_id, extractor) VALUES (NEW.id, NEW.extractor);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER search_vector_changed
       AFTER INSERT OR UPDATE OR DELETE ON features_featurevector
       FOR EACH ROW EXECUTE FUNCTION search_log_vector_change()""",
    """CREATE OR REPLACE FUNCTION search_log_image_kind_change() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO search_vectorchange (vector_id, extractor)
         SELECT id, extractor FROM features_featurevector WHERE image_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER search_image_kind_changed
       AFTER UPDATE OF is_original ON gallery_image
       FOR EACH ROW WHEN (OLD.is_original IS DISTINCT FROM NEW.is_original)
       EXECUTE FUNCTION search_log_image_kind_change()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS search_vector_changed ON features_featurevector",
    "DROP TRIGGER IF EXISTS search_image_kind_changed ON gallery_image",
    "DROP FUNCTION IF EXISTS search_log_vector_change()",
    "DROP FUNCTION IF EXISTS search_log_image_kind_change()",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, []):
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_hnsw_index"),
        ("features", "0001_initial"),
        ("gallery", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="VectorChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("vector_id", models.BigIntegerField()),
                ("extractor", models.CharField(max_length=100)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
