"""Requests the API cannot even parse still get a clear JSON answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gallery.models import Image
from tests.helpers import make_image_bytes, stored_files

pytestmark = pytest.mark.django_db


def test_too_many_files_in_one_request_is_a_json_400(client, settings, media_root):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.png", make_image_bytes("PNG", color=(i * 50, 0, 0)))
             for i in range(3)]

    response = client.post("/api/v1/images/", {"file": files})

    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files in one request: at most 2.",
                               "code": "bad_request"}
    assert Image.objects.count() == 0
    assert stored_files() == []


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Nothing at /api/nothing-here.", "code": "not_found"}


def test_an_unknown_page_is_an_html_404(client):
    response = client.get("/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
