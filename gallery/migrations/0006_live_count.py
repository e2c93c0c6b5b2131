"""The library's live image counts, kept by SQLite triggers (gallery.models.LiveCount)."""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER gallery_image_counted_in AFTER INSERT ON gallery_image
       WHEN NEW.trashed_at IS NULL
       BEGIN
         INSERT INTO gallery_livecount (is_original, live) VALUES (NEW.is_original, 1)
           ON CONFLICT (is_original) DO UPDATE SET live = live + 1;
       END""",
    """CREATE TRIGGER gallery_image_counted_out AFTER DELETE ON gallery_image
       WHEN OLD.trashed_at IS NULL
       BEGIN
         UPDATE gallery_livecount SET live = live - 1 WHERE is_original = OLD.is_original;
       END""",
    """CREATE TRIGGER gallery_image_counted_again AFTER UPDATE OF trashed_at, is_original
       ON gallery_image
       WHEN (OLD.trashed_at IS NULL) <> (NEW.trashed_at IS NULL)
         OR OLD.is_original <> NEW.is_original
       BEGIN
         UPDATE gallery_livecount SET live = live - 1
           WHERE OLD.trashed_at IS NULL AND is_original = OLD.is_original;
         INSERT INTO gallery_livecount (is_original, live)
           SELECT NEW.is_original, 1 WHERE NEW.trashed_at IS NULL
           ON CONFLICT (is_original) DO UPDATE SET live = live + 1;
       END""",
    """INSERT INTO gallery_livecount (is_original, live)
       SELECT is_original, COUNT(*) FROM gallery_image WHERE trashed_at IS NULL
       GROUP BY is_original""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS gallery_image_counted_in",
    "DROP TRIGGER IF EXISTS gallery_image_counted_out",
    "DROP TRIGGER IF EXISTS gallery_image_counted_again",
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
        ("gallery", "0005_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveCount",
            fields=[
                ("is_original", models.BooleanField(primary_key=True, serialize=False)),
                ("live", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
