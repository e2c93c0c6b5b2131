"""GET /api/v1/images/?label=... and the ``labels`` field of the image JSON."""

import pytest
from django.db import connection
from rest_framework.serializers import ModelSerializer
from rest_framework.test import APIClient

from labels.api import ImageLabelSerializer
from labels.models import ImageLabel
from tests.helpers import class_vector, library_image, run_stage

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = "/api/v1/images/"


@pytest.fixture
def library(tiny_head):
    images = {
        "sandal": library_image((1, 2, 3), name="beach.png", vector=class_vector(0)),
        "trainer": library_image((4, 5, 6), name="track.png", vector=class_vector(1)),
        "shirt": library_image((7, 8, 9), name="tee.png", vector=class_vector(2)),
        "cat": library_image((10, 11, 12), name="tom.png", vector=class_vector(3)),
        "gadget": library_image((13, 14, 15), name="delorean.png", vector=class_vector(4)),
        "unlabelled": library_image((16, 17, 18), name="new.png", with_vector=False),
    }
    run_stage("labels")
    return images


def names(response):
    assert response.status_code == 200, response.content
    return sorted(image["name"] for image in response.json()["results"])


@pytest.mark.parametrize("query,found", [
    ("sandal", ["beach.png"]),
    ("Sandals", ["beach.png"]),  # plural, any case
    ("running_shoe", ["track.png"]),
    ("Running  Shoe", ["track.png"]),  # spaces and underscores alike
    ("shoe", ["beach.png", "track.png"]),  # WordNet: both are shoes
    ("footwear", ["beach.png", "track.png"]),
    ("footgear", ["beach.png", "track.png"]),  # a synonym of footwear
    ("T-shirt", ["tee.png"]),  # a synonym of the class "jersey"
    ("tee shirt", ["tee.png"]),
    ("clothing", ["tee.png"]),
    ("cat", ["tom.png"]),
    ("flux capacitor", ["delorean.png"]),  # a class outside WordNet, by its name
    ("dog", []),
    ("xyzzy", []),
])
def test_it_finds_images_by_label_name_synonym_or_broader_term(api_client, library, query,
                                                               found):
    assert names(api_client.get(URL, {"label": query})) == found


def test_a_label_below_the_minimum_score_does_not_match(api_client, library):
    # The sandal's 2nd and 3rd labels are long shots (the tiny head is sure of each class).
    beach = api_client.get(f"{URL}{library['sandal'].pk}/").json()
    assert [label["score"] < 0.05 for label in beach["labels"][1:]] == [True, True]
    other = beach["labels"][1]["name"]

    assert "beach.png" not in names(api_client.get(URL, {"label": other}))


def test_it_combines_with_the_other_filters(api_client, library):
    assert names(api_client.get(URL, {"label": "shoe", "q": "track"})) == ["track.png"]
    assert names(api_client.get(URL, {"label": "shoe", "kind": "original"})) == []


def test_an_empty_label_is_no_filter_as_for_the_name_filter(api_client, library):
    assert len(names(api_client.get(URL, {"label": "", "q": ""}))) == 6
    assert len(names(api_client.get(URL, {"label": "   ", "q": "  "}))) == 6


@pytest.mark.parametrize("bad,message", [
    ("x" * 101, "Ensure this field has no more than 100 characters."),
])
def test_it_refuses_a_bad_label_and_says_why(api_client, library, bad, message):
    response = api_client.get(URL, {"label": bad})

    assert response.status_code == 400
    assert response.json() == {"label": [message]}


def test_every_image_shows_its_labels_best_first(api_client, library):
    listed = {image["name"]: image for image in api_client.get(URL).json()["results"]}
    detail = api_client.get(f"{URL}{library['sandal'].pk}/").json()

    labels = listed["beach.png"]["labels"]
    assert [label["name"] for label in labels][:1] == ["sandal"]
    assert labels[0]["wnid"] == "n04133789"
    assert len(labels) == 3 and labels[0]["score"] > 0.9
    assert [label["score"] for label in labels] == sorted(
        (label["score"] for label in labels), reverse=True)
    assert detail["labels"] == labels
    assert listed["new.png"]["labels"] == []


def test_the_labels_json_is_what_the_label_fields_give(api_client, library):
    listed = {image["id"]: image["labels"] for image in api_client.get(URL).json()["results"]}

    for image in library.values():
        walked = [ModelSerializer.to_representation(ImageLabelSerializer(), label)
                  for label in ImageLabel.objects.filter(image=image).order_by("rank")]
        assert listed[image.pk] == walked


def test_a_page_of_images_reads_the_labels_in_one_query(api_client, library,
                                                        django_assert_max_num_queries):
    # The session, the user, the count, the page, the labels (and the rules' reads).
    with django_assert_max_num_queries(8):
        assert len(api_client.get(URL).json()["results"]) == 6


VISITORS = ["anonymous", "anonymous-read", "viewer", "editor", "admin"]


@pytest.mark.parametrize("kind", VISITORS)
def test_labels_are_visible_to_whoever_may_view(kind, library, make_user, settings):
    client = APIClient()
    if kind == "anonymous-read":
        settings.ANONYMOUS_ACCESS = "read"
    elif kind != "anonymous":
        client.force_login(make_user(kind))

    listed = client.get(URL, {"label": "footwear"})
    detail = client.get(f"{URL}{library['sandal'].pk}/")

    if kind == "anonymous":
        assert (listed.status_code, detail.status_code) == (401, 401)
        assert "labels" not in detail.json()
    else:
        assert names(listed) == ["beach.png", "track.png"]
        assert detail.json()["labels"][0]["name"] == "sandal"


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.parametrize("text", ["sandal", "footwear", "an unknown thing"])
def test_the_label_filter_reads_the_labels_it_needs_from_their_indexes(text):
    from gallery.selectors import image_list
    from labels.selectors import images_with_label

    sql, params = images_with_label(image_list(), text=text).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]

    # The labels of the classes asked for, once; never each image's labels in turn.
    label_reads = [step for step in plan if "labels_imagelabel" in step or " U0" in step]
    assert label_reads and all("label_class_score" in step or "label_lowered_name" in step
                               for step in label_reads), plan
    assert not any("CORRELATED" in step for step in plan), plan
