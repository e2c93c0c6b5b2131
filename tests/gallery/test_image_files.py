"""GET /images/<filename> and /images/thumb/<filename>."""

import io

import pytest
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_it_serves_the_full_image_with_cache_headers(client, add_image):
    image = add_image("a.png", fmt="PNG", size=(300, 200))

    response = client.get(f"/images/{image.filename}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=31536000"
    assert response["ETag"] == f'"{image.sha256[:32]}"'
    assert body(response) == image.file.read()


def test_it_serves_a_jpeg_thumbnail_that_fits_200_pixels(client, add_image):
    image = add_image("wide.png", fmt="PNG", size=(1000, 500))

    response = client.get(f"/images/thumb/{image.filename}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    thumbnail = PILImage.open(io.BytesIO(body(response)))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (200, 100))


def test_it_answers_not_modified_for_a_known_etag(client, add_image):
    image = add_image("a.jpg")
    etag = client.get(f"/images/{image.filename}")["ETag"]

    response = client.get(f"/images/{image.filename}", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_a_thumbnail_answers_not_modified_for_its_own_etag(client, add_image):
    image = add_image("a.jpg")
    etag = client.get(f"/images/thumb/{image.filename}")["ETag"]

    response = client.get(f"/images/thumb/{image.filename}", HTTP_IF_NONE_MATCH=etag)

    assert etag == f'"{image.sha256[:32]}-thumb"'
    assert response.status_code == 304
    assert client.get(f"/images/{image.filename}", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_it_answers_404_as_json_for_an_unknown_file(client):
    response = client.get("/images/nope.jpg")

    assert response.status_code == 404
    assert response.json() == {"detail": "No image 'nope.jpg' in the library.", "code": "not_found"}


def test_it_refuses_to_write(client, add_image):
    image = add_image("a.jpg")

    response = client.post(f"/images/{image.filename}")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["code"] == "method_not_allowed"


def test_a_store_that_cannot_be_read_answers_503_without_its_bucket(client, add_image,
                                                                     monkeypatch, caplog):
    from botocore.exceptions import ClientError

    from tests.helpers import storage_refuses

    image = add_image("a.jpg")
    storage_refuses(monkeypatch, "open", ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied",
                   "BucketName": "secret-bucket-name"}}, "GetObject on secret-bucket-name"))
    response = client.get(f"/images/{image.filename}")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The image store cannot be read right now. Try again later; if it goes on, "
                  "an administrator finds why in the server's log.",
        "code": "storage_unavailable"}
    assert "secret-bucket-name" in caplog.text
