"""File names in URLs: only the shape the server gives stored files reaches the database."""

import pytest
from django.urls import reverse, set_script_prefix

from gallery.models import Image

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.mark.parametrize("path", [
    "/images/%00abc.jpg", "/images/thumb/%00", "/images/..%2Fsecret", "/images/.hidden.jpg",
])
def test_a_file_name_of_another_shape_is_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deleting_a_file_name_with_a_nul_byte_is_a_json_404(client):
    response = client.delete("/api/delete-image/%00")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("filename", ["a.jpg", "Z9_-.x.PNG", "0" * 150])
def test_an_images_urls_are_those_its_views_answer_at(filename):
    image = Image(filename=filename)

    assert image.get_absolute_url() == reverse("image-file", args=[filename])
    assert image.get_thumbnail_url() == reverse("image-thumbnail", args=[filename])


def test_an_images_urls_follow_the_script_prefix():
    try:
        set_script_prefix("/photos/")
        assert Image(filename="a.jpg").get_thumbnail_url() == "/photos/images/thumb/a.jpg"
    finally:
        set_script_prefix("/")
