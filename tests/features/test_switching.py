"""Switching extractor: the library is re-embedded in the background, searches answer from
the previous extractor's vectors until the new set is complete, then switch at once."""

import io

import numpy as np
import pytest

from features.extractors.loader import get_extractor
from features.models import FeatureVector, ServingExtractor
from tests.helpers import (
    STORED_TOLERANCE,
    add_vector,
    library_image,
    make_image_bytes,
    replace_stored,
    unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

SEARCH, STATUS = "/api/v1/search/", "/api/v1/features/status/"
OLD, NEW = "fake-colour-8x8-v1", "fake-colour-4x4-v1"
COLOURS = [(200, 30, 30), (180, 50, 40), (30, 200, 30), (40, 170, 60), (30, 30, 200),
           (60, 40, 170), (200, 200, 30)]


def upload(data):
    file = io.BytesIO(data)
    file.name = "query.png"
    return file


def search(api_client, **data):
    response = api_client.post(SEARCH, data, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["extractor"], [(item["id"], item["similarity"]) for item in body["results"]]


def cosine_ranking(query, images, extractor, exclude=None):
    """The images that score above 0 (shown as 0 below that, in no telling order), best first."""
    rows = FeatureVector.objects.filter(extractor=extractor)
    vectors = {row.image_id: row.vector for row in rows}
    scored = sorted((-float(vectors[i.pk] @ query), i.pk) for i in images if i.pk != exclude)
    return [(pk, pytest.approx(-score, abs=STORED_TOLERANCE)) for score, pk in scored[:6] if score < 0]


def positive(answer):
    extractor, results = answer
    return extractor, [(pk, similarity) for pk, similarity in results if similarity > 0]


@pytest.fixture
def library(api_client):
    images = [library_image(colour) for colour in COLOURS]
    # The first look at the status fixes the serving extractor: the configured one.
    assert api_client.get(STATUS).json()["serving"]["extractor"] == OLD
    return images


def test_searches_use_the_old_vectors_until_the_new_set_is_complete_then_switch_at_once(
        api_client, settings, library, make_worker):
    query_image = library[0]
    query_data = make_image_bytes("PNG", color=(190, 40, 35))
    before = search(api_client, image_id=query_image.pk)
    before_upload = search(api_client, file=upload(query_data))

    settings.FEATURE_PRESET = "fake-colour-4x4"
    status = api_client.get(STATUS).json()
    assert (status["extractor"], status["switching"], status["serving"]["extractor"]) == (
        NEW, True, OLD)
    assert (status["counts"]["with_vectors"], status["serving"]["counts"]["with_vectors"]) == (
        0, len(library))

    during = []

    def after_each_batch(job):
        during.append((search(api_client, image_id=query_image.pk),
                       search(api_client, file=upload(query_data)),
                       api_client.get(STATUS).json()))

    make_worker(extractor=get_extractor(), batch_size=2, publish=after_each_batch).run_until_idle()

    # Four batches of two: every answer meanwhile was the old one, whole.
    assert len(during) == 4
    for by_image, by_upload, status in during:
        assert by_image == before and by_upload == before_upload
        assert status["switching"] is True and status["serving"]["extractor"] == OLD
    assert during[-1][2]["counts"]["with_vectors"] == len(library)
    # Then the new vectors, all of them.
    new_query = FeatureVector.objects.get(image=query_image, extractor=NEW).vector
    assert positive(search(api_client, image_id=query_image.pk)) == (
        NEW, cosine_ranking(new_query, library, NEW, exclude=query_image.pk))
    assert positive(search(api_client, file=upload(query_data))) == (
        NEW, cosine_ranking(get_extractor().extract([query_data])[0], library, NEW))
    status = api_client.get(STATUS).json()
    assert (status["switching"], status["serving"]["extractor"]) == (False, NEW)
    assert ServingExtractor.objects.get().preset == "fake-colour-4x4"


def test_an_image_that_cannot_be_read_does_not_hold_the_switch_back(
        api_client, settings, library, make_worker, media_root):
    replace_stored(library[3].file.name, b"no longer a picture")
    settings.FEATURE_PRESET = "fake-colour-4x4"

    make_worker(extractor=get_extractor()).run_until_idle()

    status = api_client.get(STATUS).json()
    assert (status["switching"], status["counts"]["failed"]) == (False, 1)
    assert search(api_client, image_id=library[0].pk)[0] == NEW


def test_the_switch_waits_for_the_augmented_vectors(api_client, settings, library, make_worker):
    settings.SEARCH_AUGMENT = True
    settings.FEATURE_PRESET = "fake-colour-4x4"

    make_worker(extractor=get_extractor()).run_until_idle()

    assert api_client.get(STATUS).json()["switching"] is False
    assert not FeatureVector.objects.filter(extractor=NEW, augmented__isnull=True).exists()


def test_vectors_of_an_extractor_this_version_cannot_build_serve_until_replaced(
        api_client, make_worker):
    # A library left by an earlier version: its vectors, none of the configured extractor.
    images = [library_image(colour, with_vector=False) for colour in COLOURS[:4]]
    for n, image in enumerate(images):
        add_vector(image, unit(n), extractor="resnet50-from-an-earlier-version")

    by_image = search(api_client, image_id=images[0].pk)
    by_upload = api_client.post(SEARCH, {"file": upload(make_image_bytes("PNG"))},
                                format="multipart")

    assert by_image[0] == "resnet50-from-an-earlier-version" and len(by_image[1]) == 3
    assert by_upload.status_code == 503
    assert by_upload.json()["code"] == "switching_extractor"
    assert "search by upload is back when that completes" in by_upload.json()["detail"]

    make_worker(extractor=get_extractor()).run_until_idle()

    assert search(api_client, file=upload(make_image_bytes("PNG")))[0] == OLD


def test_a_new_library_serves_the_configured_extractor_from_the_start(api_client):
    body = api_client.get(STATUS).json()

    assert (body["switching"], body["serving"]["extractor"]) == (False, OLD)
    assert np.array_equal(ServingExtractor.objects.values_list("fingerprint", "preset").get(),
                          (OLD, "fake-colour-8x8"))
