"""The label filter's count and pages as read at a million images (labels/querysets.py):
the same images, in the same newest-first order, as the plain queries, trash left out."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallery.models import Image
from gallery.selectors import image_list
from gallery.trash import image_restore, images_trash
from labels import querysets
from labels.selectors import images_with_label
from tests.helpers import (LABEL_CLASS, add_vector, class_vector, library_image, run_stage,
                           sqlite_plan)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = "/api/v1/images/"


@pytest.fixture
def shoes(tiny_head):
    """Sandals and clogs (originals and uploads, one both a sandal and a clog) among cats,
    some trashed and one restored; returns the shoes a user should see, newest first, by
    kind."""
    made = []
    for number in range(14):
        if number % 3 == 2:
            vector = class_vector(LABEL_CLASS["tabby"])
        elif number == 4:
            vector = class_vector(LABEL_CLASS["sandal"], mix=LABEL_CLASS["clog"], weight=0.95)
        else:
            vector = class_vector(LABEL_CLASS["sandal" if number % 2 else "clog"])
        made.append(library_image((number, 9, 9), name=f"{number:02d}.png",
                                  original=number % 4 == 0, vector=vector))
    # Uploaded before the others (moved in from another library, say): last, though made
    # second.
    Image.objects.filter(pk=made[1].pk).update(uploaded_at=timezone.now() - timedelta(days=400))
    run_stage("labels")
    images_trash(images=[made[3], made[6]])  # their labels go with them
    image_restore(image=made[6])
    add_vector(made[6], class_vector(LABEL_CLASS["clog"]))  # as the worker does once back
    run_stage("labels")
    # A trashed image whose labels are still there (written as it was being trashed).
    Image.all_objects.filter(pk=made[7].pk).update(trashed_at=timezone.now())
    gone = {3, 7}
    visible = [image for number, image in enumerate(made)
               if number % 3 != 2 and number not in gone][::-1]
    visible.append(visible.pop(visible.index(made[1])))
    return {"all": [image.name for image in visible],
            "original": [image.name for image in visible if image.is_original],
            "upload": [image.name for image in visible if not image.is_original]}


def every_page(client, params, page_size):
    names, counts, page = [], set(), 1
    while True:
        answer = client.get(URL, {**params, "page": page, "page_size": page_size})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        names += [image["name"] for image in body["results"]]
        counts.add(body["count"])
        if body["next"] is None:
            return names, counts
        page += 1


# 0: every page sorted from the label index (the whole library) or the plain way (a kind);
# 0.5 (on SQLite, of all kinds): the first and last pages walked, those between sorted or
# plain; 1000: every page walked.
@pytest.mark.parametrize("walk_factor", [0, 0.5, 1000])
@pytest.mark.parametrize("kind", ["all", "original", "upload"])
@pytest.mark.parametrize("page_size", [1, 3])
def test_every_page_shows_the_labels_live_images_newest_first_with_their_count(
        api_client, shoes, monkeypatch, walk_factor, kind, page_size):
    monkeypatch.setattr(querysets, "WALK_FACTOR", walk_factor)

    names, counts = every_page(api_client, {"label": "shoe", "kind": kind}, page_size)

    assert names == shoes[kind]
    assert counts == {len(shoes[kind])}


# The walk from one end reads twice the entries it expects, then leaves the page to the
# plain plan: here the label's images are a batch at the other end.
@pytest.mark.parametrize("shoes_first,walk_factor", [(True, 1000), (False, 1)])
def test_a_label_whose_images_lie_together_is_paged_right(api_client, tiny_head, monkeypatch,
                                                          shoes_first, walk_factor):
    monkeypatch.setattr(querysets, "WALK_FACTOR", walk_factor)
    batches = [("shoe", 4, LABEL_CLASS["sandal"]), ("cat", 10, LABEL_CLASS["tabby"])]
    for name, size, label in batches if shoes_first else batches[::-1]:
        for number in range(size):
            library_image((number, 7, 7 if name == "cat" else 8), name=f"{name}-{number}.png",
                          vector=class_vector(label))
    run_stage("labels")

    names, counts = every_page(api_client, {"label": "shoe"}, 1)

    assert names == ["shoe-3.png", "shoe-2.png", "shoe-1.png", "shoe-0.png"]
    assert counts == {4}


def test_the_last_page_by_name_is_the_labels_oldest_images(api_client, shoes):
    body = api_client.get(URL, {"label": "footwear", "page": "last", "page_size": 3}).json()

    assert body["count"] == len(shoes["all"]) == 8
    assert [image["name"] for image in body["results"]] == shoes["all"][6:] == ["00.png",
                                                                                "01.png"]


def test_an_image_with_two_of_the_labels_is_counted_and_shown_once(api_client, shoes):
    both = api_client.get(URL, {"q": "04.png"}).json()["results"][0]
    assert [label["name"] for label in both["labels"][:2]] == ["sandal", "clog"]

    body = api_client.get(URL, {"label": "shoe"}).json()

    assert [image["name"] for image in body["results"]].count("04.png") == 1
    assert body["count"] == len(body["results"]) == 8


def test_a_filter_added_after_the_labels_is_counted_and_paged_with_it(shoes):
    found = images_with_label(image_list(), text="shoe").filter(
        name__in=["04.png", "05.png", "06.png"])  # two shoes and a cat

    assert found.count() == 2
    assert [image.name for image in found[:5]] == ["06.png", "04.png"]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_count_and_the_first_and_last_pages_look_up_no_found_image(api_client, shoes):
    with CaptureQueriesContext(connection) as first:
        api_client.get(URL, {"label": "shoe", "page_size": 2})
    with CaptureQueriesContext(connection) as last:
        api_client.get(URL, {"label": "shoe", "page_size": 2, "page": "last"})

    for queries in (first, last):
        reads = [query["sql"] for query in queries.captured_queries
                 if "labels_imagelabel" in query["sql"] and "COUNT" not in query["sql"]
                 and "gallery_image" in query["sql"]]
        count = [query["sql"] for query in queries.captured_queries
                 if "COUNT" in query["sql"] and "labels_imagelabel" in query["sql"]]
        assert len(reads) == 1 and len(count) == 1
        plans = {name: sqlite_plan(sql) for name, sql in [("page", reads[0]), ("count", count[0])]}
        # The page walks the library's newest-first index, sorting nothing; the count reads
        # the label index and the trash's own index, never an image's row.
        assert any(step.startswith(("SCAN gallery_image USING INDEX image_live_newest_first",
                                    "SEARCH gallery_image USING INDEX image_live_newest_first"))
                   for step in plans["page"]), plans["page"]
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plans["page"])
        for plan in plans.values():
            assert not any("SEARCH gallery_image USING INTEGER PRIMARY KEY" in step
                           for step in plan), plan
            # Each of the five classes' labels from the index alone, none from the table.
            assert sum("COVERING INDEX label_class_score" in step for step in plan) == 5, plan
            assert not any("USING INDEX label_class_score" in step for step in plan), plan


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_page_in_the_middle_is_sorted_from_the_label_index_alone(api_client, shoes,
                                                                  monkeypatch):
    monkeypatch.setattr(querysets, "WALK_FACTOR", 0)  # no page near enough an end to walk
    with CaptureQueriesContext(connection) as queries:
        answer = api_client.get(URL, {"label": "shoe", "page_size": 2, "page": 2})

    assert [image["name"] for image in answer.json()["results"]] == shoes["all"][2:4]
    reads = [query["sql"] for query in queries.captured_queries
             if "labels_imagelabel" in query["sql"] and "DISTINCT" in query["sql"]
             and "COUNT" not in query["sql"]]
    assert len(reads) == 1
    plan = sqlite_plan(reads[0])
    # Each class's labels from the index that keeps their images' upload times (a name
    # outside WordNet from its own); the trash from its index; no found image's row.
    assert sum("COVERING INDEX label_class_score" in step for step in plan) == 5, plan
    assert not any("USING INDEX label_class_score" in step for step in plan), plan
    assert not any("SEARCH gallery_image USING INTEGER PRIMARY KEY" in step
                   for step in plan), plan

