"""On PostgreSQL, hash rows and hash pairs are also deleted by the database with their
image, as 0002 does for the other tables: the feature worker may commit one for an image
between Django's own cascade and the image's deletion."""

import importlib

from django.db import migrations

earlier = importlib.import_module("duplicates.migrations.0002_cascade_in_database")


def cascade(apps, schema_editor):
    earlier.cascade_tables(schema_editor, ["duplicates_imagehash", "duplicates_hashpair"])


class Migration(migrations.Migration):
    dependencies = [("duplicates", "0003_image_hashes")]

    operations = [migrations.RunPython(cascade, migrations.RunPython.noop)]
