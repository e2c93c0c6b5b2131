"""?label= with the senses that count and each class's own threshold: "dress" is no t-shirt,
"shoe" finds clogs, "hat" a sombrero, and a label matches only as sure as its class needs."""

import json

import pytest

from labels import thresholds
from tests.helpers import LABEL_CLASS, class_vector, library_image, run_stage

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = "/api/v1/images/"


@pytest.fixture
def wardrobe(tiny_head):
    for number, (name, kind) in enumerate([
            ("tee.png", "jersey"), ("jeans.png", "jean"), ("clogs.png", "clog"),
            ("trainers.png", "running_shoe"), ("sandals.png", "sandal"),
            ("stetson.png", "cowboy_hat"), ("sombrero.png", "sombrero")]):
        library_image((number, 1, 2), name=name, vector=class_vector(LABEL_CLASS[kind]))
    run_stage("labels")


def names(response):
    assert response.status_code == 200, response.content
    return sorted(image["name"] for image in response.json()["results"])


@pytest.mark.parametrize("query,found", [
    ("dress", []),  # WordNet's "dress = apparel, clothes" sense is not the one that counts
    ("shoe", ["clogs.png", "sandals.png", "trainers.png"]),  # shoes as in a shoe shop
    ("shoes", ["clogs.png", "sandals.png", "trainers.png"]),
    ("hat", ["sombrero.png", "stetson.png"]),
    ("footwear", ["clogs.png", "sandals.png", "trainers.png"]),  # a broader word
    ("clothing", ["jeans.png", "sombrero.png", "stetson.png", "tee.png"]),
    ("pants", ["jeans.png"]),
    ("t-shirt", ["tee.png"]),  # a name of the class "jersey"
])
def test_a_word_finds_its_own_classes_and_those_below_it_never_broader_ones(
        api_client, wardrobe, query, found):
    assert names(api_client.get(URL, {"label": query})) == found


@pytest.fixture
def jersey_needs_half(monkeypatch, tmp_path):
    """A class threshold table where "jersey" needs 50% and every other class MIN_SCORE."""
    table = tmp_path / "class_thresholds.json"
    table.write_text(json.dumps({"default": 0.05, "thresholds": {"n03595614": 0.5}}))
    monkeypatch.setattr(thresholds, "DATA", table)
    thresholds.class_thresholds.cache_clear()
    yield
    thresholds.class_thresholds.cache_clear()


def test_a_label_matches_only_at_its_class_threshold(api_client, tiny_head, jersey_needs_half):
    # Two photos whose second label is as probable: a jersey behind a sandal, a running
    # shoe behind a cat.
    library_image((1, 2, 3), name="beach.png",
                  vector=class_vector(LABEL_CLASS["sandal"], mix=LABEL_CLASS["jersey"], weight=0.85))
    library_image((4, 5, 6), name="tom.png",
                  vector=class_vector(LABEL_CLASS["tabby"], mix=LABEL_CLASS["running_shoe"], weight=0.85))
    run_stage("labels")
    seconds = {image["name"]: image["labels"][1] for image in
               api_client.get(URL).json()["results"]}
    assert [seconds["beach.png"]["name"], seconds["tom.png"]["name"]] == ["jersey", "running shoe"]
    assert 0.05 < seconds["beach.png"]["score"] < 0.5
    assert abs(seconds["beach.png"]["score"] - seconds["tom.png"]["score"]) < 0.05

    assert names(api_client.get(URL, {"label": "jersey"})) == []
    assert names(api_client.get(URL, {"label": "running shoe"})) == ["tom.png"]
    assert names(api_client.get(URL, {"label": "sandal"})) == ["beach.png"]
