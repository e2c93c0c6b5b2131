"""Labels in the admin: the image list and page show them; search finds images by label."""

import pytest
from django.urls import reverse

from tests.helpers import class_vector, library_image, run_stage

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:gallery_image_changelist")


@pytest.fixture
def library(tiny_head, settings):
    settings.LABEL_TOP_K = 1  # one label each: the search below finds exactly one image
    images = {"sandal": library_image((1, 2, 3), name="beach.png", vector=class_vector(0)),
              "cat": library_image((4, 5, 6), name="tom.png", vector=class_vector(3))}
    run_stage("labels")
    return images


def test_the_image_list_shows_each_image_labels(admin_client, library):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "sandal (" in response.text and "tabby (" in response.text


def test_the_admin_search_finds_images_by_label(admin_client, library):
    response = admin_client.get(CHANGELIST, {"q": "tabby"})

    assert "tom.png" in response.text and "beach.png" not in response.text


def test_an_image_page_shows_its_labels(admin_client, library):
    response = admin_client.get(reverse("admin:gallery_image_change",
                                        args=[library["sandal"].pk]))

    assert response.status_code == 200
    assert "Labels" in response.text and "sandal (" in response.text


def test_the_label_rows_are_read_only(admin_client, library):
    rows = admin_client.get(reverse("admin:labels_imagelabel_changelist"))
    add = admin_client.get(reverse("admin:labels_imagelabel_add"))

    label = library["sandal"].labels.get()
    delete = admin_client.post(reverse("admin:labels_imagelabel_delete", args=[label.pk]),
                               {"post": "yes"})

    assert rows.status_code == 200 and "beach.png" in rows.text
    assert add.status_code == 403
    assert delete.status_code == 403 and library["sandal"].labels.count() == 1
