"""Request bodies over the limit are refused with 413 before anything reads them."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from rest_framework.test import APIClient

from gallery.models import Image
from imagesim.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
TOO_LARGE = {
    "detail": "The request body is too large: at most 1 MB for this kind of request. Images "
              "go in a multipart body.",
    "code": "too_large"}


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    settings.IMAGESIM_MAX_UPLOAD_BYTES = 1024 * 1024
    settings.IMAGESIM_MAX_FILES_PER_UPLOAD = 2


def test_a_json_body_over_the_limit_is_refused_by_its_content_length(small_limits):
    # Anonymous: refused before authentication, not with 401.
    response = Client().post("/api/v1/search/", data=b"{" + b" " * (1024 * 1024 + 1),
                             content_type="application/json")

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_a_multipart_body_over_the_total_upload_limit_is_refused(small_limits, admin):
    client = APIClient()
    client.force_login(admin)
    body = b"x" * (3 * 1024 * 1024 + 1)  # two 1 MB files and 1 MB of slack, and a byte

    response = client.generic("POST", "/api/v1/images/", body,
                              content_type="multipart/form-data; boundary=b")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is too large: at most 3 MB for this kind of request. Send "
                  "fewer or smaller files (each at most 1 MB, at most 2 a request).",
        "code": "too_large"}
    assert Image.objects.count() == 0


def asgi_post(chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    async def run():
        app = ApplicationCommunicator(application, {
            "type": "http", "method": "POST", "path": "/api/v1/search/", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), *headers], "http_version": "1.1",
            "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)})
        for n, chunk in enumerate(chunks):
            await app.send_input({"type": "http.request", "body": chunk,
                                  "more_body": n < len(chunks) - 1})
        start = await app.receive_output(timeout=10)
        body = await app.receive_output(timeout=10)
        await app.wait(timeout=10)
        return start["status"], json.loads(body["body"])

    return async_to_sync(run)()


def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(small_limits):
    chunk = b" " * (256 * 1024)

    status, body = asgi_post([b"{", *[chunk] * 8, b"}"],
                             [(b"content-type", b"application/json")])

    assert (status, body) == (413, TOO_LARGE)


def test_a_declared_length_over_the_limit_is_refused_under_asgi_before_the_body(small_limits):
    status, body = asgi_post([b""], [(b"content-type", b"application/json"),
                                     (b"content-length", str(50 * 1024 * 1024).encode())])

    assert (status, body) == (413, TOO_LARGE)


def test_a_body_under_the_limit_goes_on_to_authentication(small_limits):
    status, body = asgi_post([b'{"image_id": 1}'], [(b"content-type", b"application/json")])

    assert status == 401 and body["code"] == "not_authenticated"
