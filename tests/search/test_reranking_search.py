"""Search with re-ranking on (as shipped), through the API, on SQLite and on PostgreSQL:
the library compared by its augmented vectors, the query expanded with its first hits,
and each result shown with the plain cosine of the query's and its own vector."""

import io

import numpy as np
import pytest

from core.vectors import normalise
from features.extractors.loader import get_extractor
from features.models import FeatureVector
from search.reranking import augment_all
from tests.helpers import STORED_TOLERANCE, fingerprint, library_image, make_image_bytes, run_stage

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = "/api/v1/search/"


@pytest.fixture(autouse=True)
def reranking_on(settings):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    settings.SEARCH_QUERY_EXPANSION, settings.SEARCH_EXPANSION_NEIGHBOURS = True, 3


def colours(n):
    """Shades of a few hues: the fake extractor puts each hue's shades near each other."""
    hues = [(200, 40, 40), (40, 190, 60), (50, 60, 210), (210, 190, 40)]
    return [tuple(min(255, c + 9 * (i // 4)) for c in hues[i % 4]) for i in range(n)]


@pytest.fixture
def library():
    images = [library_image(colour, original=i % 3 == 0) for i, colour in enumerate(colours(20))]
    run_stage("augmentation")
    return images


def reference(query, *, plain_query=None, exclude=None, k=6, keep=lambda image_id: True):
    """The expected answer, computed densely: ranked by the augmented library and the
    expanded query, shown with the plain cosine to ``plain_query`` (default ``query``)."""
    rows = list(FeatureVector.objects.filter(extractor=fingerprint()).order_by("id"))
    plain = np.stack([row.vector for row in rows])
    augmented = augment_all(plain, np.array([row.pk for row in rows]), k=4)[0]
    image_ids = np.array([row.image_id for row in rows])
    first = augmented @ query
    first[image_ids == exclude] = -np.inf
    top = np.lexsort((image_ids, -first))[:3]
    expanded = normalise(query + (np.maximum(first[top], 0) ** 3) @ augmented[top])
    scores = augmented @ expanded
    order = [i for i in np.lexsort((image_ids, -scores))
             if image_ids[i] != exclude and keep(int(image_ids[i]))][:k]
    shown = plain @ (query if plain_query is None else plain_query)
    return [(int(image_ids[i]), pytest.approx(float(min(1.0, max(0.0, shown[i]))), abs=STORED_TOLERANCE))
            for i in order]


def found(response):
    assert response.status_code == 200, response.content
    return [(item["id"], item["similarity"]) for item in response.json()["results"]]


def test_search_by_library_image_uses_its_augmented_vector_and_expands_it(api_client, library):
    image = library[5]
    row = FeatureVector.objects.get(image=image)

    response = api_client.post(URL, {"image_id": image.pk}, format="multipart")

    assert found(response) == reference(row.augmented, plain_query=row.vector, exclude=image.pk)


def test_search_by_upload_expands_the_uploaded_vector_over_the_augmented_library(
        api_client, library):
    data = make_image_bytes("JPEG", color=(205, 45, 45))
    file = io.BytesIO(data)
    file.name = "query.jpg"

    response = api_client.post(URL, {"file": file}, format="multipart")

    assert found(response) == reference(get_extractor().extract([data])[0])


def test_expansion_draws_on_the_whole_library_and_the_answer_keeps_the_filter(
        api_client, library):
    image = library[1]
    row = FeatureVector.objects.get(image=image)
    originals = {i.pk for i in library if i.is_original}

    response = api_client.post(URL, {"image_id": image.pk, "kind": "original"},
                               format="multipart")

    assert found(response) == reference(row.augmented, plain_query=row.vector, exclude=image.pk,
                                        keep=originals.__contains__)


def test_an_image_not_yet_augmented_is_found_by_its_plain_vector(api_client, library):
    newcomer = library_image((199, 41, 41))  # the worker has not run since
    plain = FeatureVector.objects.get(image=newcomer)
    assert plain.augmented is None

    response = api_client.post(URL, {"image_id": library[0].pk, "k": 20}, format="multipart")

    assert newcomer.pk in [image_id for image_id, _ in found(response)]


def test_with_both_off_the_scores_are_plain_cosines(api_client, library, settings):
    settings.SEARCH_AUGMENT = settings.SEARCH_QUERY_EXPANSION = False
    run_stage("augmentation")  # the worker clears the augmented vectors
    image = library[2]
    vectors = {row.image_id: row.vector for row in FeatureVector.objects.all()}
    expected = sorted(((-float(vectors[i.pk] @ vectors[image.pk]), i.pk) for i in library
                       if i.pk != image.pk))[:6]

    response = api_client.post(URL, {"image_id": image.pk}, format="multipart")

    assert found(response) == [(pk, pytest.approx(max(0.0, -score), abs=STORED_TOLERANCE))
                               for score, pk in expected]
