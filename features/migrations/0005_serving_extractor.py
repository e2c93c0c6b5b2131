from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("features", "0004_augmented_vector")]

    operations = [
        migrations.CreateModel(
            name="ServingExtractor",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True,
                                                        serialize=False)),
                ("fingerprint", models.CharField(max_length=100)),
                ("path", models.CharField(blank=True, max_length=200)),
                ("preset", models.CharField(blank=True, max_length=60)),
                ("switched_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
