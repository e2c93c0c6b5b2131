"""HTTP over ASGI (as daphne serves it): the whole middleware chain, run in one thread hop."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from imagesim.asgi import application, django_asgi_app
from imagesim.handlers import SyncChainASGIHandler
from tests.helpers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"127.0.0.1")


def request(method: str, path: str, headers=(), body: bytes = b"", app=application) -> dict:
    communicator = HttpCommunicator(app, method, path, body=body,
                                    headers=[HOST, *headers])
    return async_to_sync(communicator.get_response)(timeout=10)


def header(response: dict, name: bytes) -> str:
    return {key.lower(): value for key, value in response["headers"]}.get(name, b"").decode()


def test_the_middleware_chain_is_built_for_one_thread_hop():
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_an_anonymous_api_request_gets_the_json_401_with_every_security_header():
    response = request("GET", "/api/v1/images/")

    assert response["status"] == 401
    assert json.loads(response["body"])["detail"]
    assert "default-src 'self'" in header(response, b"content-security-policy")
    assert header(response, b"x-frame-options") == "DENY"
    assert header(response, b"x-content-type-options") == "nosniff"
    assert header(response, b"referrer-policy") == "same-origin"


def test_a_signed_in_session_reads_the_library(make_user):
    cookie = session_cookie(make_user("viewer"))

    response = request("GET", "/api/v1/images/", headers=[(b"cookie", cookie)])

    assert response["status"] == 200
    assert json.loads(response["body"])["results"] == []


def test_a_session_change_without_the_csrf_token_is_refused(make_user):
    cookie = session_cookie(make_user("editor"))

    response = request("POST", "/api/v1/features/jobs/", headers=[(b"cookie", cookie)])

    assert response["status"] == 403
    assert "CSRF" in json.loads(response["body"])["detail"]


def test_a_request_runs_on_a_thread_an_earlier_request_finished_with(monkeypatch):
    handler = SyncChainASGIHandler()
    threads = []
    serve = handler.get_response

    def recorded(request):
        threads.append(threading.current_thread())
        return serve(request)

    monkeypatch.setattr(handler, "get_response", recorded)

    first = request("GET", "/api/v1/images/", app=handler)
    second = request("GET", "/api/v1/images/", app=handler)

    assert first["status"] == second["status"] == 401
    assert threads[0] is threads[1]


def test_requests_past_the_limit_wait_their_turn_and_are_all_answered(monkeypatch, settings):
    settings.WEB_CONCURRENT_REQUESTS = 2
    handler = SyncChainASGIHandler()
    running, most = [0], [0]
    lock = threading.Lock()
    serve = handler.get_response

    def slow(request):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return serve(request)

    monkeypatch.setattr(handler, "get_response", slow)

    async def six_at_once():
        communicators = [HttpCommunicator(handler, "GET", "/api/v1/images/", headers=[HOST])
                         for _ in range(6)]
        return await asyncio.gather(*(c.get_response(timeout=10) for c in communicators))

    responses = async_to_sync(six_at_once)()

    assert [response["status"] for response in responses] == [401] * 6
    assert most[0] == 2
