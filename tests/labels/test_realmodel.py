"""Labels from the real ResNet50 and the real ImageNet classifier on real photos (marker
realmodel; FEATURE_WEIGHTS, LABEL_HEAD_WEIGHTS and LABEL_CLASS_INDEX name the files,
bin/shared-weights sets them to ../shared/models). Skipped only where the files are absent
and CI is not set."""

import csv
import os
from pathlib import Path

import pytest

from features.extractors.loader import get_extractor
from labels.models import ImageLabel
from labels.wordnet import label_query
from tests.features.test_realmodel import LABELS, ORIGINALS, SHARED, weights_path
from tests.helpers import add_vector, run_stage

pytestmark = [pytest.mark.realmodel, pytest.mark.django_db]
KINDS = ("shoes", "hat", "t-shirt", "pants")


def head_paths() -> tuple[str, str]:
    models = SHARED / "models"
    paths = (os.environ.get("LABEL_HEAD_WEIGHTS") or str(models / "resnet50_imagenet_head.npz"),
             os.environ.get("LABEL_CLASS_INDEX") or str(models / "imagenet_class_index.json"))
    if not all(Path(path).is_file() for path in paths):
        message = f"The ImageNet classifier files are missing: {paths}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return paths


@pytest.fixture
def real_labels(settings, request):
    """The originals of a few kinds, with vectors of the real extractor (the preset of the
    test's parameter) and the labels the worker's refresh gives them: {name: (kind, labels)}."""
    from gallery.services import image_create

    settings.LABEL_HEAD_WEIGHTS, settings.LABEL_CLASS_INDEX = head_paths()
    settings.FEATURE_EXTRACTOR = "features.extractors.resnet50.ResNet50Extractor"
    settings.FEATURE_WEIGHTS = weights_path()
    settings.FEATURE_PRESET = request.param
    extractor = get_extractor()
    with open(LABELS) as handle:
        rows = [row for row in csv.DictReader(handle) if row["label"] in KINDS]
    datas = [(ORIGINALS / row["filename"]).read_bytes() for row in rows]
    images = [image_create(name=row["filename"], data=data, is_original=True).image
              for row, data in zip(rows, datas)]
    for image, vector in zip(images, extractor.extract(datas)):
        add_vector(image, vector, extractor=extractor.fingerprint)
    run_stage("labels")
    return {image.name: (row["label"], list(ImageLabel.objects.filter(image=image)))
            for image, row in zip(images, rows)}


PRESETS = ["resnet50-gem", "resnet50-gap"]


@pytest.mark.parametrize("real_labels", PRESETS, indirect=True)
def test_shoe_photos_get_footwear_labels_in_their_top_5(real_labels):
    # WordNet's "footgear" is footwear proper (shoes, boots, clogs, sandals; its other
    # sense, hosiery, would let a "sock" count). On the dev set every one of the 30 shoe
    # photos has one in its top 5 (bench/labels.py); of these 5, shoes_5.jpg (turquoise
    # spiked ankle boots on a patterned wall) comes out as a vase with either preset.
    footgear = label_query("footgear").wnids
    shoes = {name: labels for name, (kind, labels) in real_labels.items() if kind == "shoes"}
    missed = [name for name, labels in shoes.items()
              if not {label.wnid for label in labels} & footgear]

    assert len(shoes) == 5 and all(len(labels) == 5 for labels in shoes.values())
    assert len(missed) <= 1, {name: [label.name for label in shoes[name]] for name in missed}


@pytest.mark.parametrize("real_labels", PRESETS, indirect=True)
def test_the_sandal_photo_is_a_sandal_and_the_filter_finds_it_as_a_shoe(real_labels,
                                                                         api_client):
    sandal = [label.name for label in real_labels["shoes_3.jpg"][1]]

    def found(query):
        response = api_client.get("/api/v1/images/", {"label": query, "page_size": 100})
        assert response.status_code == 200
        return {image["name"] for image in response.json()["results"]}

    assert sandal[0] == "sandal"
    assert "shoes_3.jpg" in found("sandal") & found("Sandals") & found("shoe") & \
        found("footwear")
    # The jeans are found as jeans, and no shoe is.
    jeans = found("jeans")
    assert {"pants_4.jpg", "pants_5.jpg"} <= jeans and not any(
        name.startswith("shoes_") for name in jeans)


@pytest.mark.parametrize("real_labels", PRESETS, indirect=True)
def test_shoe_finds_the_clogs_and_boots_and_dress_finds_no_other_garment(real_labels,
                                                                         api_client):
    def found(query):
        response = api_client.get("/api/v1/images/", {"label": query, "page_size": 100})
        assert response.status_code == 200
        return {image["name"] for image in response.json()["results"]}

    # shoes_2.jpg: cowboy boots; shoes_3.jpg: sandals; shoes_4.jpg: clogs (with either preset).
    assert {"shoes_2.jpg", "shoes_3.jpg", "shoes_4.jpg"} <= found("shoe")
    assert all(name.startswith("shoes_") for name in found("shoe"))
    # These are hats, T-shirts, trousers and shoes: none is a dress.
    assert found("dress") == set()
