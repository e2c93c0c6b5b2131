"""POST /api/v1/search/: by upload and by library image, on SQLite and on PostgreSQL."""

import io

import numpy as np
import pytest

from core.errors import Unavailable
from features.extractors.loader import get_extractor
from features.models import FeatureTask, FeatureVector
from gallery.models import Image
from search import services
from tests.helpers import (
    STORED_TOLERANCE,
    add_vector,
    library_image,
    make_image_bytes,
    stored_files,
    unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/v1/search/"
RED, DARK_RED, GREEN, BLUE = (200, 30, 30), (170, 40, 40), (30, 200, 30), (30, 30, 200)


def upload(data=None, name="query.jpg"):
    file = io.BytesIO(make_image_bytes("JPEG", color=RED) if data is None else data)
    file.name = name
    return file


def result(image, similarity):
    return {
        "id": image.pk, "filename": image.filename, "name": image.name,
        "similarity": pytest.approx(similarity, abs=STORED_TOLERANCE),
        "url": f"/images/{image.filename}", "thumbnail_url": f"/images/thumb/{image.filename}",
        "is_original": image.is_original,
    }


def expected_results(query, images, k=6, keep=lambda image: True):
    """The brute-force answer: cosine similarity to every stored vector, best first."""
    vectors = {fv.image_id: np.asarray(fv.vector) for fv in FeatureVector.objects.all()}
    scored = sorted(
        ((float(np.dot(vectors[image.pk], query)), image) for image in images if keep(image)),
        key=lambda pair: (-pair[0], pair[1].pk),
    )
    return [result(image, max(0.0, min(1.0, score))) for score, image in scored[:k]]


def post(api_client, **data):
    return api_client.post(URL, data, format="multipart")


def test_it_finds_the_images_most_similar_to_an_uploaded_file(api_client):
    red = library_image(RED)
    dark_red = library_image(DARK_RED, original=True)
    green = library_image(GREEN)
    query_data = make_image_bytes("JPEG", color=RED)
    query = get_extractor().extract([query_data])[0]

    response = post(api_client, file=upload(query_data, name="my query.jpg"))

    assert response.status_code == 200
    assert response.json() == {
        "results": expected_results(query, [red, dark_red, green]),
        "query": {"image_id": None, "image_ids": [], "name": "my query.jpg", "region": None},
        "extractor": "fake-colour-8x8-v1",
    }
    assert [item["id"] for item in response.json()["results"]] == [red.pk, dark_red.pk, green.pk]


def test_it_keeps_nothing_of_an_uploaded_query(api_client, media_root):
    library_image(RED)
    files_before = stored_files()

    response = post(api_client, file=upload())

    assert response.status_code == 200
    assert Image.objects.count() == 1
    assert FeatureVector.objects.count() == 1
    assert stored_files() == files_before


def test_it_leaves_no_temporary_file_of_a_large_query(api_client, settings, tmp_path,
                                                     monkeypatch):
    library_image(RED)
    # Every upload past one byte streams to a temporary file here.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    during = []
    search_by_upload = services.search_by_upload

    def watched(**options):
        during.extend((tmp_path / "uploads").iterdir())
        return search_by_upload(**options)

    monkeypatch.setattr(services, "search_by_upload", watched)
    response = post(api_client, file=upload())

    assert response.status_code == 200
    assert len(during) == 1  # the query was on disk while it was searched...
    assert list((tmp_path / "uploads").iterdir()) == []  # ...and is gone after


def test_it_searches_by_a_library_image_without_returning_that_image(api_client):
    red = library_image(RED)
    dark_red = library_image(DARK_RED)
    blue = library_image(BLUE, original=True)
    query = np.asarray(FeatureVector.objects.get(image=red).vector)

    response = post(api_client, image_id=red.pk)

    assert response.status_code == 200
    assert response.json() == {
        "results": expected_results(query, [dark_red, blue]),
        "query": {"image_id": red.pk, "image_ids": [red.pk], "name": red.name, "region": None},
        "extractor": "fake-colour-8x8-v1",
    }


def test_it_orders_results_exactly_as_a_brute_force_computation(api_client):
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(40)]
    query = np.asarray(FeatureVector.objects.get(image=images[0]).vector)

    response = post(api_client, image_id=images[0].pk, k=25)

    assert response.status_code == 200
    assert response.json()["results"] == expected_results(query, images[1:], k=25)


def test_it_returns_six_results_unless_asked_for_another_number(api_client):
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(12)]

    default = post(api_client, image_id=images[0].pk)
    three = post(api_client, image_id=images[0].pk, k=3)

    assert len(default.json()["results"]) == 6
    assert len(three.json()["results"]) == 3


def test_it_returns_at_most_100_results(api_client):
    images = [library_image((i % 256, i // 256, 0), vector=unit(i)) for i in range(105)]

    response = post(api_client, image_id=images[0].pk, k=100)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize("kind, keep", [
    ("original", lambda image: image.is_original),
    ("upload", lambda image: not image.is_original),
    ("all", lambda image: True),
])
def test_it_filters_by_originals_or_uploads(api_client, kind, keep):
    images = [library_image((i, 0, 0), vector=unit(i), original=i % 3 == 0) for i in range(15)]
    query = np.asarray(FeatureVector.objects.get(image=images[1]).vector)

    response = post(api_client, image_id=images[1].pk, kind=kind, k=20)

    assert response.status_code == 200
    assert response.json()["results"] == expected_results(query, images[:1] + images[2:], k=20,
                                                          keep=keep)


def test_it_leaves_out_results_below_the_minimum_similarity(api_client):
    red = library_image(RED)
    dark_red = library_image(DARK_RED)
    library_image(GREEN)
    library_image(BLUE)
    query = np.asarray(FeatureVector.objects.get(image=red).vector)

    response = post(api_client, image_id=red.pk, min_similarity=0.9)

    assert response.status_code == 200
    assert response.json()["results"] == expected_results(query, [dark_red])


def test_it_compares_only_vectors_of_the_current_extractor(api_client):
    red = library_image(RED)
    other = library_image(DARK_RED, with_vector=False)
    add_vector(other, np.asarray(FeatureVector.objects.get(image=red).vector),
               extractor="another-model-v1")

    response = post(api_client, file=upload())

    assert [item["id"] for item in response.json()["results"]] == [red.pk]


def test_it_sees_added_and_deleted_images_at_once(api_client):
    red = library_image(RED)
    assert [r["id"] for r in post(api_client, file=upload()).json()["results"]] == [red.pk]

    dark_red = library_image(DARK_RED)
    assert [r["id"] for r in post(api_client, file=upload()).json()["results"]] == [
        red.pk, dark_red.pk]

    assert api_client.delete(f"/api/v1/images/{red.pk}/").status_code == 204
    assert [r["id"] for r in post(api_client, file=upload()).json()["results"]] == [dark_red.pk]


def test_it_says_to_generate_features_when_no_image_has_any(api_client):
    library_image(RED, with_vector=False)
    library_image(GREEN, with_vector=False)

    for response in (post(api_client, file=upload()),
                     post(api_client, image_id=Image.objects.first().pk)):
        assert response.status_code == 409
        assert response.json() == {
            "detail": "No image has features yet: generate features first.",
            "code": "no_features",
        }


def test_it_says_when_the_query_image_has_no_features_yet(api_client):
    library_image(RED)
    pending = library_image(GREEN, with_vector=False, name="pending.png")

    response = post(api_client, image_id=pending.pk)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "pending.png has no features yet: generate features, then search again.",
        "code": "query_has_no_features",
    }


def test_it_says_to_wait_when_the_features_are_being_extracted(api_client):
    waiting = library_image(RED, with_vector=False, name="waiting.png")
    FeatureTask.objects.create(image=waiting, extractor="any")

    response = post(api_client, file=upload())

    assert response.status_code == 409
    assert response.json() == {
        "detail": "No image has features yet: they are being extracted, "
                  "search again in a moment.",
        "code": "no_features",
    }


def test_it_says_the_query_image_is_queued_when_its_features_are_on_the_way(api_client):
    library_image(RED)
    queued = library_image(GREEN, with_vector=False, name="queued.png")
    FeatureTask.objects.create(image=queued, extractor="any")

    response = post(api_client, image_id=queued.pk)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "queued.png is queued for feature extraction: search again in a moment.",
        "code": "query_has_no_features",
    }


def test_it_answers_503_when_the_model_cannot_load(api_client, monkeypatch):
    library_image(RED)

    def fail():
        raise Unavailable("The model weights are missing: set FEATURE_WEIGHTS.",
                          code="model_unavailable")

    monkeypatch.setattr(get_extractor(), "load", fail)
    response = post(api_client, file=upload())

    assert response.status_code == 503
    assert response.json() == {"detail": "The model weights are missing: set FEATURE_WEIGHTS.",
                               "code": "model_unavailable"}


def test_it_answers_404_for_an_unknown_image(api_client):
    library_image(RED)

    response = post(api_client, image_id=999_999)

    assert response.status_code == 404
    assert response.json() == {"detail": "No image 999999 in the library.", "code": "not_found"}


@pytest.mark.parametrize("data, errors", [
    ({}, {"file": ["Send a query: an image file in 'file', or a library image's id in "
                   "'image_id'."]}),
    ({"image_id": "abc"}, {"image_id": ["A valid integer is required."]}),
    ({"image_id": 0}, {"image_id": ["Ensure this value is greater than or equal to 1."]}),
    ({"image_id": 1, "k": 0}, {"k": ["Ensure this value is greater than or equal to 1."]}),
    ({"image_id": 1, "k": 101}, {"k": ["Ensure this value is less than or equal to 100."]}),
    ({"image_id": 1, "k": "six"}, {"k": ["A valid integer is required."]}),
    ({"image_id": 1, "kind": "favourites"}, {"kind": ['"favourites" is not a valid choice.']}),
    ({"image_id": 1, "min_similarity": 1.5},
     {"min_similarity": ["Ensure this value is less than or equal to 1.0."]}),
    ({"image_id": 1, "min_similarity": -0.1},
     {"min_similarity": ["Ensure this value is greater than or equal to 0.0."]}),
    ({"image_id": 1, "min_similarity": "nan"}, {"min_similarity": ["A valid number is required."]}),
])
def test_it_rejects_bad_options(api_client, data, errors):
    library_image(RED)

    response = post(api_client, **data)

    assert response.status_code == 400
    assert response.json() == errors


def test_it_rejects_a_file_and_an_image_id_together(api_client):
    red = library_image(RED)

    response = post(api_client, file=upload(), image_id=red.pk)

    assert response.status_code == 400
    assert response.json() == {"file": ["Send either an image file or an image_id, not both."]}


@pytest.mark.parametrize("data, status, body", [
    (b"this is not an image", 400,
     {"detail": "The file is not an image ImageSim can read.", "code": "not_an_image"}),
    (make_image_bytes("JPEG")[:300], 400, None),
])
def test_it_rejects_a_file_that_is_not_a_whole_image(api_client, media_root, data, status, body):
    library_image(RED)
    files_before = stored_files()

    response = post(api_client, file=upload(data))

    assert response.status_code == status
    if body is None:
        assert response.json()["code"] == "corrupt_image"
        assert response.json()["detail"].startswith("The image is corrupt or truncated")
    else:
        assert response.json() == body
    assert stored_files() == files_before


def test_it_rejects_an_empty_file_in_plain_words(api_client):
    library_image(RED)

    for response in (post(api_client, file=upload(b"")),
                     post(api_client, files=[upload(b"")]),
                     api_client.post("/api/search", {"file": upload(b"")}, format="multipart")):
        assert response.status_code == 400
        assert response.json()["detail"] == "The file is empty."


def test_it_takes_its_options_as_json_too(api_client):
    red = library_image(RED)
    dark_red = library_image(DARK_RED)

    response = api_client.post(URL, {"image_id": red.pk, "k": 1}, format="json")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [dark_red.pk]


def test_it_refuses_a_query_file_over_the_size_limit(api_client, settings):
    library_image(RED)
    settings.IMAGESIM_MAX_UPLOAD_BYTES = 1024

    response = post(api_client, file=upload(make_image_bytes("BMP", size=(64, 64)), "big.bmp"))

    assert response.status_code == 413
    assert response.json() == {"detail": "The file is larger than the 0.000976562 MB limit.",
                               "code": "too_large"}


def test_it_refuses_a_query_with_too_many_pixels(api_client, settings):
    library_image(RED)
    settings.IMAGESIM_MAX_IMAGE_PIXELS = 1000

    response = post(api_client, file=upload(make_image_bytes("PNG", size=(100, 100)), "q.png"))

    assert response.status_code == 413
    assert response.json() == {"detail": "The image is 100x100 pixels; the limit is 1,000 pixels.",
                               "code": "too_many_pixels"}


def test_it_refuses_an_image_format_it_does_not_support(api_client):
    library_image(RED)

    response = post(api_client, file=upload(make_image_bytes("TIFF"), "scan.tiff"))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "TIFF images are not supported: search with a JPEG, PNG, GIF, BMP or WebP image.",
        "code": "unsupported_type",
    }
