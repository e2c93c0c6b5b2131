"""A trigram index of the images' names, for the library's name search (SQLite's FTS5).

Kept by triggers on every write to the images. Where this SQLite has no FTS5 nothing is
made, and a name search reads every name (gallery/selectors.py).
"""

from django.db import migrations
from django.db.utils import OperationalError

SQLITE = [
    """CREATE TRIGGER gallery_image_name_added AFTER INSERT ON gallery_image
       BEGIN INSERT INTO gallery_imagename (rowid, name) VALUES (NEW.id, NEW.name); END""",
    """CREATE TRIGGER gallery_image_name_removed AFTER DELETE ON gallery_image
       BEGIN DELETE FROM gallery_imagename WHERE rowid = OLD.id; END""",
    """CREATE TRIGGER gallery_image_name_changed AFTER UPDATE OF name ON gallery_image
       BEGIN
         DELETE FROM gallery_imagename WHERE rowid = OLD.id;
         INSERT INTO gallery_imagename (rowid, name) VALUES (NEW.id, NEW.name);
       END""",
    "INSERT INTO gallery_imagename (rowid, name) SELECT id, name FROM gallery_image",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS gallery_image_name_added",
    "DROP TRIGGER IF EXISTS gallery_image_name_removed",
    "DROP TRIGGER IF EXISTS gallery_image_name_changed",
    "DROP TABLE IF EXISTS gallery_imagename",
]


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        schema_editor.execute(
            "CREATE VIRTUAL TABLE gallery_imagename USING fts5(name, tokenize='trigram')")
    except OperationalError:
        return  # no FTS5 (or no trigram tokenizer) in this SQLite
    for statement in SQLITE:
        schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("gallery", "0006_live_count"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
