"""The hash of the picture inside its canvas (duplicates/framing.py). Hashes made before it
are dropped, so the feature worker makes every image's hashes again in the background (as
for a library hashed for the first time); the pairs found so far stay."""

from django.db import migrations, models


def hashes_again(apps, schema_editor):
    apps.get_model("duplicates", "ImageHash").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("duplicates", "0004_hash_cascade_in_database")]

    operations = [
        migrations.AddField(model_name="imagehash", name="trimmed",
                            field=models.BigIntegerField(null=True)),
        migrations.RunPython(hashes_again, migrations.RunPython.noop),
    ]
