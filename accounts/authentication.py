"""Finding out who a request is: a session (the page) or an API key (scripts)."""

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.keys import InvalidKey, bearer_key, key_user

WWW_AUTHENTICATE = 'Bearer realm="ImageSim"'


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``. Keys need no CSRF token: a browser never sends one
    by itself. Listed first, so DRF answers 401 (not 403) to a request without credentials."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        key = bearer_key(header)
        if key is None:
            return None
        try:
            return key_user(key), key
        except InvalidKey as exc:
            raise exceptions.AuthenticationFailed(exc.message, code="invalid_key") from None

    def authenticate_header(self, request):
        return WWW_AUTHENTICATE


def request_user(request):
    """The user of a plain Django request: an API key's if one is sent, else the session's.
    Raises InvalidKey for a key that is not valid."""
    key = bearer_key(request.headers.get("Authorization", ""))
    if key is None:
        return getattr(request, "user", None) or AnonymousUser()
    return key_user(key)
