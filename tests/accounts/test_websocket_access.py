"""The progress websocket follows the access rules: session or key, and the Origin."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.keys import api_key_create
from imagesim.asgi import application
from tests.helpers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


def connects(headers) -> bool:
    async def attempt():
        ws = WebsocketCommunicator(application, "/ws/features/", headers=headers)
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


def test_a_made_up_key_is_refused():
    assert not connects([ORIGIN, (b"authorization", b"Bearer AbCd1234.made-up")])


def test_another_origin_is_refused_even_signed_in(make_user):
    cookie = session_cookie(make_user("admin"))

    assert not connects([(b"origin", b"http://evil.example"), (b"cookie", cookie)])
