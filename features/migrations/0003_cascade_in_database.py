"""On PostgreSQL, rows that point at an image are also deleted by the database itself.

Django deletes them first, but a worker may commit a vector for an image between
that step and the image's own deletion; without ON DELETE CASCADE the deletion
would then fail on the foreign key. (SQLite runs one writer at a time: no gap.)
"""

from django.db import migrations

TABLES = ["features_featurevector", "features_featuretask", "features_featurefailure"]


def cascade(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                """
                SELECT con.conname FROM pg_constraint con
                JOIN pg_class rel ON rel.oid = con.conrelid
                JOIN pg_class ref ON ref.oid = con.confrelid
                WHERE con.contype = 'f' AND rel.relname = %s AND ref.relname = 'gallery_image'
                """,
                [table],
            )
            for (name,) in cursor.fetchall():
                schema_editor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                schema_editor.execute(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" FOREIGN KEY (image_id) '
                    "REFERENCES gallery_image (id) ON DELETE CASCADE "
                    "DEFERRABLE INITIALLY DEFERRED"
                )


class Migration(migrations.Migration):
    dependencies = [("features", "0002_jobs")]

    operations = [migrations.RunPython(cascade, migrations.RunPython.noop)]
