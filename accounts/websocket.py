"""Who a websocket is, and whether it may stay open.

A script may send ``Authorization: Bearer <key>`` with the handshake (browsers use their
session cookie, read by Channels' AuthMiddlewareStack). A bad key is refused, never taken
for an anonymous visitor. The Origin must be the page's own (host and port) or one of
CSRF_TRUSTED_ORIGINS. ``user_now`` tells a consumer who the socket is at this moment:
the key checked again, the session read again from its store (gone after sign-out).
"""

from importlib import import_module
from types import SimpleNamespace
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from accounts.keys import InvalidKey, bearer_key, key_user

DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


class ApiKeyWebsocketMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        key = bearer_key(headers.get(b"authorization", b"").decode("latin-1"))
        if key is not None:
            user = await _user_of(key)
            scope = {**scope, "user": user or AnonymousUser(), "api_key": key,
                     "invalid_key": user is None}
        return await super().__call__(scope, receive, send)


@database_sync_to_async
def _user_of(key: str):
    try:
        return key_user(key)
    except InvalidKey:
        return None


def user_now(scope):
    """The socket's user as things stand now (sync: call it off the event loop)."""
    if "api_key" in scope:
        try:
            return key_user(scope["api_key"])
        except InvalidKey:
            return AnonymousUser()
    session = scope.get("session")
    if session is None or session.session_key is None:
        return AnonymousUser()
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session.session_key)
    # Django's own reading of a session: its user, if it still exists and its password
    # (the session hash) has not changed since.
    return get_user(SimpleNamespace(session=fresh))


def _origin(url: str) -> tuple[str, str, str] | None:
    parts = urlsplit(url.strip().lower())
    if not parts.scheme or not parts.hostname:
        return None
    try:
        port = str(parts.port or DEFAULT_PORTS.get(parts.scheme, ""))
    except ValueError:
        return None
    return {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme), parts.hostname, port


def origin_allowed(origin: str, host: str, *, secure: bool) -> bool:
    """The handshake's Origin is the page's own (the Host it was sent to, port included) or
    one of CSRF_TRUSTED_ORIGINS; that Host is one of ALLOWED_HOSTS."""
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    asked = _origin(origin)
    if asked is None:
        return False
    if asked in {_origin(trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    return asked == _origin(f"{'https' if secure else 'http'}://{host}")


class SameOriginValidator:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        # Behind HTTPS the page is https:// whatever the proxy tells the server.
        secure = scope.get("scheme") == "wss" or settings.HTTPS
        if origin_allowed(headers.get(b"origin", b"").decode("latin-1"),
                          headers.get(b"host", b"").decode("latin-1"), secure=secure):
            return await self.app(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
