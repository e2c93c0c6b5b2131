"""On PostgreSQL, rows that point at a vector or an image are also deleted by the database.

Django deletes them first, but the feature worker may commit a pair for a vector between
that step and the vector's own deletion (features/0003 cascades vectors the same way).
"""

from django.db import migrations

TABLES = ["duplicates_duplicatepair", "duplicates_duplicatescan", "duplicates_pixeldigest",
          "duplicates_dismissedimage"]
TARGETS = ["features_featurevector", "gallery_image"]


def cascade(apps, schema_editor):
    cascade_tables(schema_editor, TABLES)


def cascade_tables(schema_editor, tables: list[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                """
                SELECT con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con
                JOIN pg_class rel ON rel.oid = con.conrelid
                JOIN pg_class ref ON ref.oid = con.confrelid
                WHERE con.contype = 'f' AND rel.relname = %s AND ref.relname = ANY(%s)
                """,
                [table, TARGETS],
            )
            for name, definition in cursor.fetchall():
                head = definition.split(" DEFERRABLE")[0]
                schema_editor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                schema_editor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {head} '
                                      "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED")


class Migration(migrations.Migration):
    dependencies = [("duplicates", "0001_initial"), ("features", "0003_cascade_in_database")]

    operations = [migrations.RunPython(cascade, migrations.RunPython.noop)]
