"""The original app's POST /api/search: multipart "file", the top 6 as {filename, similarity, image_url}."""

import io

import numpy as np
import pytest

from features.extractors.loader import get_extractor
from features.models import FeatureVector
from tests.helpers import library_image, make_image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/search"


def upload(data, name="query.jpg"):
    file = io.BytesIO(data)
    file.name = name
    return file


def test_it_answers_in_the_original_apps_shape(api_client):
    images = [library_image((20 * i, 250 - 20 * i, 40), original=i < 4) for i in range(9)]
    query_data = make_image_bytes("JPEG", color=(40, 210, 40))
    query = get_extractor().extract([query_data])[0]
    vectors = {fv.image_id: np.asarray(fv.vector) for fv in FeatureVector.objects.all()}
    ranked = sorted(images, key=lambda image: (-float(np.dot(vectors[image.pk], query)), image.pk))

    response = api_client.post(URL, {"file": upload(query_data)}, format="multipart")

    assert response.status_code == 200
    assert response.json() == {"results": [
        {
            "filename": image.filename,
            "similarity": pytest.approx(max(0.0, float(np.dot(vectors[image.pk], query))),
                                        abs=2e-5),
            "image_url": f"/images/{image.filename}",
        }
        for image in ranked[:6]
    ]}


def test_it_answers_an_error_in_the_original_apps_shape_without_a_file(api_client):
    library_image((200, 30, 30))

    response = api_client.post(URL, {}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Send one query image in the 'file' field.",
        "detail": "Send one query image in the 'file' field.",
        "code": "no_file",
    }


def test_it_rejects_a_file_that_is_not_an_image(api_client):
    library_image((200, 30, 30))

    response = api_client.post(URL, {"file": upload(b"%PDF-1.4 not an image", "doc.jpg")},
                               format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "The file is not an image ImageSim can read.",
        "detail": "The file is not an image ImageSim can read.",
        "code": "not_an_image",
    }


def test_it_says_to_generate_features_first(api_client):
    library_image((200, 30, 30), with_vector=False)

    response = api_client.post(URL, {"file": upload(make_image_bytes("JPEG"))},
                               format="multipart")

    assert response.status_code == 409
    assert response.json() == {
        "success": False,
        "error": "No image has features yet: generate features first.",
        "detail": "No image has features yet: generate features first.",
        "code": "no_features",
    }
