"""Each extractor's vector count, kept by SQLite triggers (features.models.VectorCount)."""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER features_vector_counted_in AFTER INSERT ON features_featurevector
       BEGIN
         INSERT INTO features_vectorcount (extractor, vectors) VALUES (NEW.extractor, 1)
           ON CONFLICT (extractor) DO UPDATE SET vectors = vectors + 1;
       END""",
    """CREATE TRIGGER features_vector_counted_out AFTER DELETE ON features_featurevector
       BEGIN
         UPDATE features_vectorcount SET vectors = vectors - 1 WHERE extractor = OLD.extractor;
       END""",
    """CREATE TRIGGER features_vector_counted_again AFTER UPDATE OF extractor
       ON features_featurevector
       WHEN OLD.extractor <> NEW.extractor
       BEGIN
         UPDATE features_vectorcount SET vectors = vectors - 1 WHERE extractor = OLD.extractor;
         INSERT INTO features_vectorcount (extractor, vectors) VALUES (NEW.extractor, 1)
           ON CONFLICT (extractor) DO UPDATE SET vectors = vectors + 1;
       END""",
    """INSERT INTO features_vectorcount (extractor, vectors)
       SELECT extractor, COUNT(*) FROM features_featurevector GROUP BY extractor""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS features_vector_counted_in",
    "DROP TRIGGER IF EXISTS features_vector_counted_out",
    "DROP TRIGGER IF EXISTS features_vector_counted_again",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("features", "0007_unaugmented_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="VectorCount",
            fields=[
                ("extractor", models.CharField(max_length=100, primary_key=True,
                                               serialize=False)),
                ("vectors", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
