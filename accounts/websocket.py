"""API keys on websockets: a script may send ``Authorization: Bearer <key>`` with the
handshake (browsers use their session cookie, read by Channels' AuthMiddlewareStack)."""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from accounts.keys import InvalidKey, bearer_key, key_user


class ApiKeyWebsocketMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        key = bearer_key(headers.get(b"authorization", b"").decode("latin-1"))
        if key is not None:
            scope = {**scope, "user": await _user_of(key)}
        return await super().__call__(scope, receive, send)


@database_sync_to_async
def _user_of(key: str):
    try:
        return key_user(key)
    except InvalidKey:
        return AnonymousUser()  # a bad key is no one: the consumer refuses it
