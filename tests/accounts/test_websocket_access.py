"""The progress websocket follows the access rules: session or key, and the Origin, at
the handshake and again on each event."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.keys import api_key_create
from features.jobs import progress
from imagesim.asgi import application
from tests.helpers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"127.0.0.1")
ORIGIN = (b"origin", b"http://127.0.0.1")


def connects(headers) -> bool:
    async def attempt():
        ws = WebsocketCommunicator(application, "/ws/features/", headers=[HOST, *headers])
        connected, _ = await ws.connect()
        if connected:
            first = await ws.receive_json_from(timeout=5)
            assert first["type"] == "status"
        await ws.disconnect()
        return connected

    return async_to_sync(attempt)()


def test_an_anonymous_visitor_is_refused():
    assert not connects([ORIGIN])


def test_anonymous_visitors_connect_under_anonymous_read(settings):
    settings.ANONYMOUS_ACCESS = "read"

    assert connects([ORIGIN])


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_connects_with_its_session(make_user, role):
    assert connects([ORIGIN, (b"cookie", session_cookie(make_user(role)))])


def test_a_user_without_a_role_is_refused(django_user_model):
    nobody = django_user_model.objects.create_user("nobody")

    assert not connects([ORIGIN, (b"cookie", session_cookie(nobody))])


def test_a_script_connects_with_an_api_key(make_user):
    _, key = api_key_create(user=make_user("viewer"), name="watcher")

    assert connects([ORIGIN, (b"authorization", f"Bearer {key}".encode())])


@pytest.mark.parametrize("anonymous_access", ["none", "read"])
def test_a_made_up_key_is_refused_as_not_authenticated(settings, anonymous_access):
    settings.ANONYMOUS_ACCESS = anonymous_access  # never taken for an anonymous visitor

    async def attempt():
        ws = WebsocketCommunicator(application, "/ws/features/", headers=[
            HOST, ORIGIN, (b"authorization", b"Bearer AbCd1234.made-up")])
        await ws.connect()
        message = await ws.receive_json_from(timeout=5)
        closed = await ws.receive_output(timeout=5)
        await ws.disconnect()
        return message, closed

    message, closed = async_to_sync(attempt)()

    assert message == {"type": "error", "code": "invalid_key",
                       "detail": "The API key is not valid: it is unknown, revoked or expired."}
    assert closed == {"type": "websocket.close", "code": 4401}


def test_another_origin_is_refused_even_signed_in(make_user):
    cookie = session_cookie(make_user("admin"))

    assert not connects([(b"origin", b"http://evil.example"), (b"cookie", cookie)])


def test_the_same_host_on_another_port_is_refused(make_user):
    cookie = (b"cookie", session_cookie(make_user("admin")))

    async def attempt(origin, host):
        ws = WebsocketCommunicator(application, "/ws/features/",
                                   headers=[(b"host", host), (b"origin", origin), cookie])
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert async_to_sync(attempt)(b"http://127.0.0.1:8000", b"127.0.0.1:8000")
    assert not async_to_sync(attempt)(b"http://127.0.0.1:9999", b"127.0.0.1:8000")
    assert not async_to_sync(attempt)(b"http://127.0.0.1", b"127.0.0.1:8000")


def test_a_trusted_origin_is_allowed(make_user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://images.example.org"]
    settings.ALLOWED_HOSTS = ["web.internal"]

    assert connects([(b"host", b"web.internal"), (b"origin", b"https://images.example.org"),
                     (b"cookie", session_cookie(make_user("viewer")))])


def watch_then(cookie_or_key: tuple, change) -> tuple[dict, dict]:
    """Connect, let ``change`` happen, publish an event: what the socket gets next."""
    async def run():
        ws = WebsocketCommunicator(application, "/ws/features/",
                                   headers=[HOST, ORIGIN, cookie_or_key])
        connected, _ = await ws.connect(timeout=20)
        assert connected
        await ws.receive_json_from(timeout=20)  # the status on connect
        event = {"type": "job.progress", "job": {"id": 1}}
        await get_channel_layer().group_send(progress.GROUP, event)
        before = await ws.receive_json_from(timeout=20)
        await database_sync_to_async(change)()
        await get_channel_layer().group_send(progress.GROUP, event)
        after = await ws.receive_output(timeout=20)
        await ws.disconnect()
        return before, after

    return async_to_sync(run)()


def test_the_socket_closes_on_the_next_event_after_sign_out(make_user):
    client = Client()
    client.force_login(make_user("viewer"))
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    before, after = watch_then(cookie, client.logout)

    assert before == {"type": "progress", "job": {"id": 1}}
    assert after == {"type": "websocket.close", "code": 4401}
    assert not Session.objects.exists()


def test_the_socket_closes_when_the_role_no_longer_allows_viewing(make_user):
    viewer = make_user("viewer")

    before, after = watch_then((b"cookie", session_cookie(viewer)), viewer.groups.clear)

    assert before["type"] == "progress"
    assert after == {"type": "websocket.close", "code": 4403}


def test_the_socket_closes_when_its_key_is_revoked(make_user):
    api_key, key = api_key_create(user=make_user("viewer"), name="watcher")

    before, after = watch_then((b"authorization", f"Bearer {key}".encode()), api_key.delete)

    assert before["type"] == "progress"
    assert after == {"type": "websocket.close", "code": 4401}


def test_a_socket_still_allowed_keeps_getting_events(make_user):
    before, after = watch_then((b"cookie", session_cookie(make_user("viewer"))), lambda: None)

    assert before == {"type": "progress", "job": {"id": 1}}
    assert after["type"] == "websocket.send"
