from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Who may use ImageSim: sign-in, roles, API keys and the access rules."""

    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts import schema  # noqa: F401  (registers the Bearer key in the OpenAPI schema)

        # After migrate or flush (which empties the groups): roles as accounts/roles.py says.
        # Every app's signal runs it: each brings that app's new permissions in.
        post_migrate.connect(_roles_sync, dispatch_uid="accounts-roles-sync")


def _roles_sync(sender, using="default", **kwargs):
    from accounts.roles import roles_sync

    roles_sync(using=using)
