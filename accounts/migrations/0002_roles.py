"""The three roles as groups with their permissions (the table is in accounts/roles.py).

Permissions are normally made after all migrations ran; they are made here first so
the groups can hold them on a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ROLE_PERMISSIONS, roles_sync


def make_roles(apps, schema_editor):
    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    roles_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
               using=using)


def remove_roles(apps, schema_editor):
    using = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(using).filter(
        name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("gallery", "0002_delete_any_permission"),
        ("features", "0003_cascade_in_database"),
    ]

    operations = [migrations.RunPython(make_roles, remove_roles)]
