"""The image JSON as written out (ImageSerializer.to_representation) is what DRF's walk of
the serializer's fields gives, for every kind of image and every role."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from gallery import services
from gallery.api.serializers import ImageSerializer
from gallery.api.trash import TrashedImageSerializer
from gallery.models import Image
from tests.helpers import distinct_colour, make_image_bytes

pytestmark = pytest.mark.django_db


def walked(image: Image, context: dict) -> dict:
    return serializers.ModelSerializer.to_representation(ImageSerializer(context=context), image)


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_the_image_json_is_what_the_fields_give(role, make_user):
    owner = make_user("editor", username="owner")
    for n, (name, uploaded_by, original) in enumerate([
            ("shipped.jpg", None, True), ("imported.png", None, False),
            ("mine.jpg", owner, False), ("café ünïcode.gif", owner, False)]):
        data = make_image_bytes(name.rsplit(".", 1)[1].upper().replace("JPG", "JPEG"),
                                color=distinct_colour(n + 1))
        services.image_create(name=name, data=data, uploaded_by=uploaded_by,
                              is_original=original)
    request = APIRequestFactory().get("/api/v1/images/")
    request.user = owner if role == "editor" else make_user(role)
    context = {"request": request}
    images = list(Image.objects.select_related("uploaded_by").order_by("pk"))

    written = ImageSerializer(images, many=True, context=context).data

    assert written == [walked(image, context) for image in images]
    assert [image["can_delete"] for image in written] == (
        [False, True, True, True] if role == "admin" else
        [False, False, True, True] if role == "editor" else [False] * 4)


def test_a_trashed_images_json_is_what_the_fields_give(make_user):
    owner = make_user("editor", username="owner")
    image = services.image_create(name="gone.jpg", data=make_image_bytes(),
                                  uploaded_by=owner).image
    services.image_delete(image=image, by=owner)
    request = APIRequestFactory().get("/api/v1/trash/")
    request.user = owner
    context = {"request": request}
    trashed = Image.all_objects.select_related("uploaded_by", "trashed_by").get(pk=image.pk)

    written = TrashedImageSerializer(trashed, context=context).data

    assert written == serializers.ModelSerializer.to_representation(
        TrashedImageSerializer(context=context), trashed)
    assert written["trashed_by"] == "owner" and "labels" not in written
