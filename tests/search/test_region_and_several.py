"""POST /api/v1/search/ with a region of the query image, and with several query images."""

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from core.vectors import normalise
from features.extractors.loader import get_extractor
from features.models import FeatureVector
from gallery.services import image_create
from tests.helpers import (
    STORED_TOLERANCE,
    add_vector,
    library_image,
    make_image_bytes,
    stored_files,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/v1/search/"
RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)
LEFT_HALF = {"x": 0, "y": 0, "width": 0.5, "height": 1}
RIGHT_HALF = {"x": 0.5, "y": 0, "width": 0.5, "height": 1}


def two_halves(left=RED, right=BLUE, fmt="PNG") -> bytes:
    """A 128 x 64 picture: one colour on the left half, another on the right."""
    picture = PILImage.new("RGB", (128, 64), left)
    picture.paste(PILImage.new("RGB", (64, 64), right), (64, 0))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def upload(data, name="query.png"):
    file = io.BytesIO(data)
    file.name = name
    return file


def post(api_client, **data):
    return api_client.post(URL, data, format="multipart")


def names(response):
    return [match["name"] for match in response.json()["results"]]


@pytest.fixture
def colours():
    return {name: library_image(colour, name=f"{name}.png")
            for name, colour in [("red", RED), ("green", GREEN), ("blue", BLUE)]}


@pytest.mark.parametrize("region, first", [(LEFT_HALF, "red.png"), (RIGHT_HALF, "blue.png")])
def test_a_region_of_an_upload_finds_what_is_in_that_region(api_client, colours, region,
                                                           first):
    response = post(api_client, file=upload(two_halves()), **region)

    assert response.status_code == 200
    assert names(response)[0] == first
    assert response.json()["query"] == {"image_id": None, "image_ids": [], "name": "query.png",
                                        "region": {k: float(v) for k, v in region.items()}}
    assert len(stored_files()) == 2 * 3  # the three library images and their thumbnails


def test_a_region_of_a_library_image_is_extracted_from_its_file(api_client, colours):
    both = image_create(name="both.png", data=two_halves()).image
    add_vector(both, get_extractor().extract([two_halves()])[0])

    left = post(api_client, image_id=both.pk, **LEFT_HALF)
    right = post(api_client, image_id=both.pk, **RIGHT_HALF)

    assert left.status_code == right.status_code == 200
    assert names(left)[0] == "red.png" and names(right)[0] == "blue.png"
    # The picture the region was cut from is not a result of its own search.
    assert "both.png" not in names(left) + names(right)
    assert right.json()["query"]["image_ids"] == [both.pk]


def test_a_region_is_cut_from_the_picture_as_a_browser_shows_it(api_client, colours):
    """A photo stored sideways with an EXIF orientation: the box is drawn on the upright one."""
    sideways = PILImage.new("RGB", (64, 128), BLUE)
    sideways.paste(PILImage.new("RGB", (64, 64), RED), (0, 0))  # red on top when stored
    exif = PILImage.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: the stored top becomes the right
    out = io.BytesIO()
    sideways.save(out, "JPEG", exif=exif.tobytes(), quality=95)

    response = post(api_client, file=upload(out.getvalue(), "sideways.jpg"), **RIGHT_HALF)

    assert response.status_code == 200
    assert names(response)[0] == "red.png"


@pytest.mark.parametrize("region, errors", [
    ({"x": 0, "y": 0, "width": 0.5},
     {"height": ["A region needs x, y, width and height together (missing: height)."]}),
    ({"x": 0, "y": 0, "width": 0, "height": 1},
     {"width": ["A region's width and height must be more than 0."]}),
    ({"x": 0.6, "y": 0, "width": 0.5, "height": 1},
     {"x": ["The region must lie inside the image: x + width and y + height at most 1."]}),
    ({"x": -0.1, "y": 0, "width": 0.5, "height": 1},
     {"x": ["Ensure this value is greater than or equal to 0.0."]}),
    ({"x": "left", "y": 0, "width": 0.5, "height": 1}, {"x": ["A valid number is required."]}),
])
def test_a_bad_region_is_refused_with_the_reason(api_client, colours, region, errors):
    response = post(api_client, file=upload(two_halves()), **region)

    assert response.status_code == 400
    assert response.json() == errors


def test_a_region_too_small_for_the_model_is_refused(api_client, colours):
    response = post(api_client, file=upload(two_halves()), x=0, y=0, width=0.05, height=0.05)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The region is 6 x 3 pixels of this 128 x 64 image; draw one at least 16 "
                  "pixels wide and high.", "code": "region_too_small"}


def unit_vector_of(image):
    return normalise(np.asarray(FeatureVector.objects.get(image=image).vector)).ravel()


def test_several_library_images_search_with_the_mean_of_their_vectors(api_client, colours):
    purple = library_image((120, 30, 120), name="purple.png")
    dark = library_image((40, 40, 40), name="dark.png")
    query = normalise(unit_vector_of(colours["red"]) + unit_vector_of(colours["blue"])).ravel()
    others = [colours["green"], purple, dark]
    ranked = sorted(others, key=lambda image: -float(unit_vector_of(image) @ query))

    response = post(api_client, image_ids=[colours["red"].pk, colours["blue"].pk])

    assert response.status_code == 200
    assert names(response) == [image.name for image in ranked]
    assert names(response)[0] == "purple.png"  # between red and blue
    similarities = [match["similarity"] for match in response.json()["results"]]
    assert similarities[0] == pytest.approx(float(unit_vector_of(purple) @ query), abs=STORED_TOLERANCE)
    assert response.json()["query"] == {
        "image_id": None, "image_ids": [colours["red"].pk, colours["blue"].pk],
        "name": "red.png, blue.png", "region": None}


def test_uploads_and_library_images_combine(api_client, colours):
    library_image((120, 30, 120), name="purple.png")

    response = post(api_client, image_ids=[colours["red"].pk],
                    files=[upload(make_image_bytes("PNG", color=BLUE), "blue query.png")])

    assert response.status_code == 200
    assert names(response)[0] == "purple.png"
    assert "red.png" not in names(response)
    assert response.json()["query"]["name"] == "red.png, blue query.png"


def test_several_uploads_alone_make_a_query(api_client, colours):
    response = post(api_client, files=[upload(make_image_bytes("PNG", color=RED), "a.png"),
                                       upload(make_image_bytes("PNG", color=RED), "b.png")])

    assert response.status_code == 200
    assert names(response)[0] == "red.png"


@pytest.mark.parametrize("data, status, body", [
    ({"image_ids": list(range(1, 12))}, 400,
     {"image_ids": ["Ensure this field has no more than 10 elements."]}),
    ({"image_ids": [999_998, 999_999]}, 400,
     {"detail": "No images with these ids in the library: 999998, 999999.",
      "code": "unknown_image_ids"}),
    ({"image_ids": "abc"}, 400, {"image_ids": {"0": ["A valid integer is required."]}}),
])
def test_bad_lists_of_query_images_are_refused(api_client, colours, data, status, body):
    response = post(api_client, **data)

    assert response.status_code == status
    assert response.json() == body


def test_an_image_named_twice_is_refused(api_client, colours):
    response = post(api_client, image_ids=[colours["red"].pk, colours["red"].pk])

    assert response.status_code == 400
    assert response.json()["code"] == "repeated_image_ids"


def test_more_than_ten_query_images_in_all_are_refused(api_client, colours):
    files = [upload(make_image_bytes("PNG", color=RED), f"{n}.png") for n in range(9)]

    response = post(api_client, files=files, image_ids=[colours["red"].pk, colours["blue"].pk])

    assert response.status_code == 400
    assert response.json() == {"detail": "Search with 1 to 10 query images (11 sent).",
                               "code": "too_many_query_images"}


def test_query_images_without_features_are_named(api_client, colours):
    waiting = library_image((90, 90, 10), name="waiting.png", with_vector=False)

    response = post(api_client, image_ids=[colours["red"].pk, waiting.pk])

    assert response.status_code == 409
    assert response.json() == {
        "detail": "waiting.png has no features yet: generate features, then search again.",
        "code": "query_has_no_features"}


@pytest.mark.parametrize("data, errors", [
    ({"image_id": "RED", "image_ids": ["BLUE"]},
     {"files": ["To search by several images, put them all in 'files' and 'image_ids' (not "
                "'file' or 'image_id')."]}),
    ({"image_ids": ["RED", "BLUE"], **LEFT_HALF},
     {"x": ["A region applies to one query image, not to several."]}),
])
def test_several_images_do_not_mix_with_one_image_fields_or_regions(api_client, colours, data,
                                                                    errors):
    ids = {"RED": colours["red"].pk, "BLUE": colours["blue"].pk}
    data = {key: ([ids[v] for v in value] if isinstance(value, list) else ids.get(value, value))
            for key, value in data.items()}

    response = post(api_client, **data)

    assert response.status_code == 400
    assert response.json() == errors
