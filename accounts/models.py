from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager


class ApiKeyManager(APIKeyManager):
    def get_usable_keys(self):
        # Every request made with a key needs its user too: one query for both.
        return super().get_usable_keys().select_related("user")


class ApiKey(AbstractAPIKey):
    """A key for scripts, acting as its user. Only a hash of it is stored (SHA-512 of a
    random 32-character secret); the key itself is shown once, when it is made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class FirstAdministrator(models.Model):
    """At most one row, written with the first administrator made from the sign-in page:
    two people submitting that form at once cannot both become administrators."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_first_admin")]
