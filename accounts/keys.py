"""API keys: made, checked and revoked here; sent as ``Authorization: Bearer <key>``."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiKey

# Writing "last used" on every request would make each API call a database write.
LAST_USED_PRECISION = timedelta(minutes=1)


class InvalidKey(Exception):
    """The request named a key that is unknown, revoked, expired or of a disabled account."""

    message = "The API key is not valid: it is unknown, revoked or expired."


def bearer_key(authorization: str) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header value; None for other schemes."""
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip()


def key_user(key: str):
    """The user a valid key acts as; raises InvalidKey. Notes when the key was used."""
    try:
        api_key = ApiKey.objects.get_from_key(key)
    except ApiKey.DoesNotExist:
        raise InvalidKey() from None
    if api_key.has_expired or not api_key.user.is_active:
        raise InvalidKey()
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.user


def api_key_create(*, user, name: str) -> tuple[ApiKey, str]:
    """A new key for the user: the row, and the key itself (never stored, shown once)."""
    return ApiKey.objects.create_key(user=user, name=name)


def api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoked for good: a revoked key is refused and cannot be restored."""
    api_key.delete()
