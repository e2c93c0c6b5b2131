"""GET /api/v1/images/ and GET /api/v1/images/<id>/."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("api-images")


def names(response):
    return [image["name"] for image in response.json()["results"]]


def test_it_lists_the_library_newest_first(api_client, add_image):
    for name in ["old.jpg", "middle.jpg", "new.jpg"]:
        add_image(name)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert response.json()["next"] is None
    assert names(response) == ["new.jpg", "middle.jpg", "old.jpg"]


def test_it_filters_originals_and_uploads(api_client, add_image):
    add_image("mine.jpg")
    add_image("shipped.jpg", is_original=True)

    assert names(api_client.get(URL, {"kind": "original"})) == ["shipped.jpg"]
    assert names(api_client.get(URL, {"kind": "upload"})) == ["mine.jpg"]
    assert names(api_client.get(URL, {"kind": "all"})) == ["shipped.jpg", "mine.jpg"]


def test_it_searches_by_name(api_client, add_image):
    add_image("red dress.jpg")
    add_image("blue hat.jpg")

    assert names(api_client.get(URL, {"q": "DRESS"})) == ["red dress.jpg"]


def test_it_refuses_an_unknown_filter_value(api_client):
    response = api_client.get(URL, {"kind": "secret"})

    assert response.status_code == 400
    assert response.json() == {"kind": ['"secret" is not a valid choice.']}


def test_it_pages_through_a_large_library(api_client, add_image, settings):
    for i in range(5):
        add_image(f"{i}.jpg")

    last = api_client.get(URL, {"page_size": 2, "page": 3})
    response = api_client.get(URL, {"page_size": 2, "page": 4})

    assert last.json()["count"] == 5
    assert last.json()["previous"].endswith("page=2&page_size=2")
    assert names(last) == ["0.jpg"]
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid page."


def test_it_returns_one_image(api_client, add_image):
    image = add_image("one.jpg")

    response = api_client.get(reverse("api-image-detail", args=[image.id]))

    assert response.status_code == 200
    assert response.json()["filename"] == image.filename
    assert response.json()["name"] == "one.jpg"


def test_it_answers_404_for_a_missing_image(api_client):
    response = api_client.get(reverse("api-image-detail", args=[999]))

    assert response.status_code == 404
    assert response.json() == {"detail": "No image 999 in the library.", "code": "not_found"}
