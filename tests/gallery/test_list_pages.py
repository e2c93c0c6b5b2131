"""Pages of the library read keys first (core/pagination.py), from indexes made for them
(gallery/models.py), so a page deep in a large library costs about what the first does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery.models import Image
from gallery.selectors import image_list

pytestmark = pytest.mark.django_db
URL = reverse("api-images")


def names(response):
    return [image["name"] for image in response.json()["results"]]


@pytest.fixture
def library(add_image, make_user):
    editor = make_user("editor", username="eddie")
    images = [add_image(f"photo-{n:02d}.jpg", is_original=n % 4 == 0) for n in range(14)]
    Image.objects.filter(pk__in=[image.pk for image in images[1::3]]).update(uploaded_by=editor)
    return images


@pytest.mark.both_databases
@pytest.mark.parametrize("kind", ["all", "original", "upload"])
def test_every_page_holds_the_next_images_newest_first_with_who_uploaded_them(
        api_client, library, kind):
    expected = list(image_list(kind=kind).values_list("name", "uploaded_by__username"))
    seen = []
    for page in range(1, 5):
        response = api_client.get(URL, {"kind": kind, "page_size": 4, "page": page})
        if response.status_code == 404:
            break
        seen += [(image["name"], image["uploaded_by"]) for image in response.json()["results"]]
    assert seen == expected and len(seen) == len(set(seen))


@pytest.mark.both_databases
def test_a_page_past_the_middle_is_read_from_the_other_end(api_client, library):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"page_size": 4, "page": "last"})

    assert names(response) == list(image_list(kind="all").values_list("name", flat=True))[12:]
    # Its keys: the oldest two, oldest first (then turned around), skipping nothing.
    keys = [query["sql"] for query in queries.captured_queries
            if "LIMIT" in query["sql"] and '"gallery_image"."uploaded_at" ASC' in query["sql"]]
    assert len(keys) == 1 and "OFFSET" not in keys[0], keys


@pytest.mark.both_databases
def test_a_page_of_the_trash_is_read_the_same_way(api_client, library, admin_user):
    api_client.force_authenticate(admin_user)
    for image in library[:5]:
        if not image.is_original:
            assert api_client.delete(f"{URL}{image.pk}/").status_code == 204

    second = api_client.get("/api/v1/trash/", {"page_size": 2, "page": 2}).json()

    assert second["count"] == 3
    assert [image["name"] for image in second["results"]] == ["photo-01.jpg"]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " / ".join(row[-1] for row in cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.parametrize("kind, index", [("all", "image_live_newest_first"),
                                         ("original", "image_live_originals"),
                                         ("upload", "image_live_uploads")])
def test_sqlite_finds_a_deep_pages_images_and_the_count_in_the_live_index(library, kind, index):
    images = image_list(kind=kind)

    assert f"USING INDEX {index}" in plan(images.values_list("pk")[5000:5060])
    assert f"INDEX {index}" in plan(images.values("pk").order_by())


def real_counts() -> dict:
    return {kind: Image.objects.of_kind(kind).count() for kind in ("all", "original", "upload")}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_library_counts_stay_right_through_adds_trash_restores_purges_and_kind_changes(
        library, add_image, admin_user):
    from gallery.selectors import live_count
    from gallery.trash import image_restore, images_purge, images_trash

    def kept():
        return {kind: live_count(kind=kind) for kind in ("all", "original", "upload")}

    assert kept() == real_counts() == {"all": 14, "original": 4, "upload": 10}
    images_trash(images=library[1:4], by=admin_user)
    image_restore(image=library[2])
    images_purge(images=[Image.all_objects.get(pk=library[1].pk)])
    Image.objects.filter(pk=library[5].pk).update(is_original=True)
    Image.objects.filter(pk=library[6].pk).delete()
    add_image("later.jpg", is_original=True)
    with connection.cursor() as cursor:  # a write no Django code sees
        cursor.execute("UPDATE gallery_image SET is_original = 0 WHERE id = %s", [library[0].pk])

    assert kept() == real_counts() == {"all": 12, "original": 5, "upload": 7}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.parametrize("kind", ["all", "original", "upload"])
def test_a_page_of_the_whole_library_takes_its_count_without_counting_the_images(
        api_client, library, kind):
    # Counting a million images took over half of each page's time.
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"kind": kind, "page_size": 2, "page": 2})

    assert response.json()["count"] == real_counts()[kind]
    assert not [query["sql"] for query in queries.captured_queries
                if "COUNT(" in query["sql"] and '"gallery_image"' in query["sql"]]
    # A name filter is counted (the kept counts are of the whole library).
    assert api_client.get(URL, {"kind": kind, "q": "photo-1"}).json()["count"] == \
        Image.objects.of_kind(kind).filter(name__icontains="photo-1").count()


NAMES = ["Beach day.jpg", "beach-night.jpg", "BEACH_50%.jpg", "city.jpg", "dog_1.jpg",
         "Café crème.jpg", "holiday 2026.jpg"]


# How many of them each text finds (the trashed city.jpg never; "day day" only in the
# renamed one). SQLite's LIKE, as Django's icontains there, folds ASCII letters alone.
FOUND = {"beach": 3, "EACH": 3, "h_5": 1, "50%": 1, "_1": 1, "ca": 1, "café": 1, "crème": 1,
         ".jpg": 6, "day day": 1, "nothing like it": 0, "CAFÉ": {"sqlite": 0, "postgresql": 1}}



@pytest.mark.both_databases
@pytest.mark.parametrize("text", ["beach", "EACH", "h_5", "50%", "_1", "ca", "café", "CAFÉ",
                                  "crème", ".jpg", "day day", "nothing like it"])
def test_a_name_search_finds_what_a_scan_of_every_name_finds(api_client, add_image, text):
    from gallery.services import images_delete

    images = {name: add_image(name) for name in NAMES}
    images_delete(images=[images["city.jpg"]])
    Image.objects.filter(pk=images["holiday 2026.jpg"].pk).update(name="holiday day 2026.jpg")
    scanned = sorted(Image.objects.filter(name__icontains=text).values_list("name", flat=True))

    response = api_client.get(URL, {"q": text, "page_size": 50})

    assert sorted(names(response)) == scanned
    found = FOUND[text]
    assert response.json()["count"] == len(scanned) == (
        found[connection.vendor] if isinstance(found, dict) else found)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_rare_name_is_found_from_the_names_index_not_by_reading_every_name(api_client, library):
    # Reading every name took 0.4 to 0.7 s at a million images.
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"q": "photo-07"})

    assert names(response) == ["photo-07.jpg"] and response.json()["count"] == 1
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [query for query in sql if '"gallery_image"."name" LIKE' in query]
    assert [query for query in sql if "gallery_imagename" in query]
