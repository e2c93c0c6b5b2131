"""DELETE /api/v1/images/<id>/ and POST /api/v1/images/bulk-delete/."""

import pytest
from django.urls import reverse

from gallery.models import Image
from tests.helpers import storage_refuses, stored_files

pytestmark = pytest.mark.django_db(transaction=True)
BULK_URL = reverse("api-images-bulk-delete")


def detail_url(image):
    return reverse("api-image-detail", args=[image.id])


def test_it_deletes_the_row_the_file_and_the_thumbnail(api_client, add_image, media_root):
    kept = add_image("kept.jpg")
    gone = add_image("gone.jpg")

    response = api_client.delete(detail_url(gone))

    assert response.status_code == 204
    assert list(Image.objects.all()) == [kept]
    stem = kept.filename.rsplit(".", 1)[0]
    assert stored_files() == [f"images/{kept.filename}", f"thumbnails/{stem}.jpg"]


def test_it_refuses_to_delete_an_original(api_client, add_image, media_root):
    original = add_image("shipped.jpg", is_original=True)

    response = api_client.delete(detail_url(original))

    assert response.status_code == 403
    assert response.json() == {
        "detail": f"Original images are protected and cannot be deleted: {original.filename}",
        "code": "original_protected", "originals": [original.filename]}
    assert Image.objects.count() == 1
    assert len(stored_files()) == 2


def test_it_answers_404_for_a_missing_image(api_client):
    response = api_client.delete("/api/v1/images/12345/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_deletes_many_at_once(api_client, add_image, media_root):
    images = [add_image(f"{i}.jpg") for i in range(3)]

    response = api_client.post(BULK_URL, {"ids": [images[0].id, images[2].id]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"deleted": 2}
    assert list(Image.objects.all()) == [images[1]]
    assert len(stored_files()) == 2


def test_a_bulk_delete_with_an_original_deletes_nothing(api_client, add_image, media_root):
    upload = add_image("mine.jpg")
    original = add_image("shipped.jpg", is_original=True)

    response = api_client.post(BULK_URL, {"ids": [upload.id, original.id]}, format="json")

    assert response.status_code == 403
    assert response.json()["originals"] == [original.filename]
    assert Image.objects.count() == 2
    assert len(stored_files()) == 4


def test_a_bulk_delete_with_a_missing_id_deletes_nothing(api_client, add_image):
    upload = add_image("mine.jpg")

    response = api_client.post(BULK_URL, {"ids": [upload.id, 999]}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "No image with id 999; nothing was deleted.",
                               "code": "not_found", "missing": [999]}
    assert Image.objects.count() == 1


@pytest.mark.parametrize("body,message", [
    ({}, {"ids": ["This field is required."]}),
    ({"ids": []}, {"ids": ["Ensure this field has at least 1 elements."]}),
    ({"ids": ["abc"]}, {"ids": {"0": ["A valid integer is required."]}}),
    ({"ids": "1,2"}, {"ids": ['Expected a list of items but got type "str".']}),
])
def test_it_validates_the_bulk_delete_body(api_client, body, message):
    response = api_client.post(BULK_URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == message


def test_an_id_beyond_any_row_is_a_clear_400(api_client, add_image):
    image = add_image("mine.jpg")

    response = api_client.post(BULK_URL, {"ids": [image.id, 2**70]}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "ids": {"1": ["Ensure this value is less than or equal to 9223372036854775807."]}}
    assert Image.objects.count() == 1


def test_a_store_that_refuses_the_delete_keeps_the_rows_it_could_not_delete(
        api_client, add_image, media_root, monkeypatch):
    first, second = add_image("first.jpg"), add_image("second.jpg")
    storage_refuses(monkeypatch, "delete", OSError("Access Denied"),
                    when=lambda name: second.filename in name)
    response = api_client.post(BULK_URL, {"ids": [first.id, second.id]}, format="json")

    assert response.status_code == 503
    assert response.json() == {
        "detail": f"The image store refused to delete images/{second.filename}; it was kept. "
                  "Try again later; if it goes on, an administrator finds why in the server's "
                  f"log. 1 of 2 deleted; still in the library: {second.filename}",
        "code": "storage_unavailable", "deleted": 1, "not_deleted": [second.filename]}
    assert list(Image.objects.all()) == [second]
    stem = second.filename.rsplit(".", 1)[0]
    assert stored_files() == [f"images/{second.filename}", f"thumbnails/{stem}.jpg"]
