import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiKey",
            fields=[
                ("id", models.CharField(editable=False, max_length=150, primary_key=True,
                                        serialize=False, unique=True)),
                ("prefix", models.CharField(editable=False, max_length=8, unique=True)),
                ("hashed_key", models.CharField(editable=False, max_length=150)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("name", models.CharField(
                    default=None, max_length=50,
                    help_text="A free-form name for the API key. Need not be unique. "
                              "50 characters max.")),
                ("revoked", models.BooleanField(
                    blank=True, default=False,
                    help_text="If the API key is revoked, clients cannot use it anymore. "
                              "(This cannot be undone.)")),
                ("expiry_date", models.DateTimeField(
                    blank=True, null=True, verbose_name="Expires",
                    help_text="Once API key expires, clients cannot use it anymore.")),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           related_name="api_keys",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={"verbose_name": "API key", "verbose_name_plural": "API keys",
                     "ordering": ("-created",), "abstract": False},
        ),
        migrations.CreateModel(
            name="FirstAdministrator",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True,
                                                        serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("user", models.OneToOneField(null=True,
                                              on_delete=django.db.models.deletion.SET_NULL,
                                              related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"constraints": [models.CheckConstraint(condition=models.Q(id=1),
                                                            name="one_first_admin")]},
        ),
    ]
