"""Scores people can read: neighbours less alike than SEARCH_BLEND_FLOOR are not blended,
and a result's similarity is the plain cosine of query and result, whatever ranked it."""

import numpy as np
import pytest

from features.models import FeatureVector
from tests.helpers import STORED_TOLERANCE, add_vector, library_image, run_stage

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = "/api/v1/search/"


def orthonormal(n: int, dim: int = 192) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(dim, n)))
    return q.T


AXES = orthonormal(12)


def direction(*parts: tuple[int, float]) -> np.ndarray:
    vector = sum(weight * AXES[axis] for axis, weight in parts)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


@pytest.fixture(autouse=True)
def reranking_as_shipped(settings):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    settings.SEARCH_QUERY_EXPANSION, settings.SEARCH_EXPANSION_NEIGHBOURS = True, 3
    settings.SEARCH_BLEND_FLOOR = 0.55


@pytest.fixture
def mixed_library():
    """Four shoes alike to each other (about 0.8), four shirts likewise and a little alike
    to the shoes, and one unrelated picture whose nearest others (the shirts) are only
    about 0.45 alike to it."""
    shoes = [direction((0, 2.0), (1 + n, 1.0)) for n in range(4)]
    shirts = [direction((5, 2.0), (0, 0.5), (6 + n, 1.0)) for n in range(4)]
    unrelated = direction((5, 0.58), (11, 1.0))
    vectors = {"shoe": shoes, "shirt": shirts, "unrelated": [unrelated]}
    images = {kind: [library_image((n, len(kind), 9), with_vector=False) for n in range(len(vs))]
              for kind, vs in vectors.items()}
    for kind, vs in vectors.items():
        for image, vector in zip(images[kind], vs):
            add_vector(image, vector)
    run_stage("augmentation")
    return images


def test_an_image_whose_neighbours_are_all_below_the_floor_keeps_its_own_vector(mixed_library):
    row = FeatureVector.objects.get(image=mixed_library["unrelated"][0])
    neighbours = FeatureVector.objects.exclude(pk=row.pk)
    assert max(float(other.vector @ row.vector) for other in neighbours) < 0.55
    assert np.allclose(row.augmented, row.vector, atol=STORED_TOLERANCE)

    shoe = FeatureVector.objects.get(image=mixed_library["shoe"][0])
    assert not np.allclose(shoe.augmented, shoe.vector, atol=1e-3)  # its kind is blended in


def test_with_no_floor_the_same_image_is_pulled_towards_its_neighbours(mixed_library, settings):
    settings.SEARCH_BLEND_FLOOR = 0.0
    run_stage("augmentation")  # another recipe: every vector is blended again
    row = FeatureVector.objects.get(image=mixed_library["unrelated"][0])
    shirts = FeatureVector.objects.filter(image__in=mixed_library["shirt"])
    assert all(float(row.augmented @ s.vector) > float(row.vector @ s.vector) for s in shirts)


def test_each_result_shows_the_plain_cosine_of_query_and_result(api_client, mixed_library):
    query = mixed_library["shoe"][0]
    plain = {row.image_id: row.vector for row in FeatureVector.objects.all()}

    response = api_client.post(URL, {"image_id": query.pk, "k": 8}, format="json")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [item["similarity"] for item in results] == [
        pytest.approx(max(0.0, float(plain[item["id"]] @ plain[query.pk])), abs=STORED_TOLERANCE)
        for item in results]
    # The other shoes first, and the unrelated picture after every shoe and shirt.
    kinds = {image.pk: kind for kind, images in mixed_library.items() for image in images}
    assert [kinds[item["id"]] for item in results[:3]] == ["shoe"] * 3
    assert kinds[results[-1]["id"]] == "unrelated"


def test_min_similarity_applies_to_the_similarity_shown(api_client, mixed_library):
    query = mixed_library["shoe"][0]

    response = api_client.post(URL, {"image_id": query.pk, "k": 8, "min_similarity": 0.5},
                               format="json")

    similarities = [item["similarity"] for item in response.json()["results"]]
    assert len(similarities) == 3 and min(similarities) >= 0.5
