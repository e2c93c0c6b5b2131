"""The original app's library endpoints keep their paths and JSON shapes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gallery.models import Image
from tests.helpers import make_image_bytes, stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_lists_images_and_originals(client, add_image):
    upload = add_image("mine.jpg")
    original = add_image("shipped.jpg", is_original=True)

    response = client.get("/api/images")

    assert response.status_code == 200
    assert response.json() == {
        "images": sorted([upload.filename, original.filename]),
        "original_images": [original.filename],
    }


def test_it_uploads_an_image(client, media_root):
    file = SimpleUploadedFile("cat.png", make_image_bytes("PNG"))

    response = client.post("/api/upload-image", {"file": file})

    image = Image.objects.get()
    assert response.status_code == 200
    assert response.json() == {"success": True, "filename": image.filename}
    assert len(stored_files()) == 2


def test_it_marks_a_duplicate_upload(client):
    data = make_image_bytes("PNG")
    first = client.post("/api/upload-image", {"file": SimpleUploadedFile("a.png", data)}).json()

    response = client.post("/api/upload-image", {"file": SimpleUploadedFile("b.png", data)})

    assert response.json() == {"success": True, "filename": first["filename"], "duplicate": True}


def test_it_answers_errors_the_way_the_original_app_did(client, media_root):
    response = client.post("/api/upload-image", {"file": SimpleUploadedFile("a.gif", b"GIF89a")})

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"] == body["detail"]
    assert body["detail"] == "The file is not an image ImageSim can read."
    assert stored_files() == []


def test_it_asks_for_a_file(client):
    response = client.post("/api/upload-image", {})

    assert response.status_code == 400
    assert response.json()["error"] == (
        "No file was uploaded: send one or more images in the 'file' field.")


def test_it_moves_an_upload_to_the_trash(client, add_image, media_root):
    image = add_image("mine.jpg")

    response = client.delete(f"/api/delete-image/{image.filename}")

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert client.get("/api/images").json()["images"] == []
    assert Image.all_objects.get().trashed_at is not None
    assert len(stored_files()) == 2  # freed when the trash is purged


def test_it_refuses_to_delete_an_original(client, add_image):
    original = add_image("shipped.jpg", is_original=True)

    response = client.delete(f"/api/delete-image/{original.filename}")

    assert response.status_code == 403
    assert response.json()["success"] is False
    assert "protected" in response.json()["error"]
    assert Image.objects.count() == 1


def test_it_answers_404_for_a_missing_file_name(client):
    response = client.delete("/api/delete-image/nothing.jpg")

    assert response.status_code == 404
    assert response.json()["error"] == "No image 'nothing.jpg' in the library."
