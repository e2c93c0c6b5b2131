from django.db import migrations

import features.fields


class Migration(migrations.Migration):
    dependencies = [("features", "0003_cascade_in_database")]

    operations = [
        migrations.AddField(
            model_name="featurevector",
            name="augmented",
            field=features.fields.VectorField(blank=True, editable=False, null=True),
        ),
    ]
