"""The duplicates API: listing groups, keeping some and deleting the others, "not
duplicates" remembered, resolving everything with the keeper rule, and who may do what."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from gallery.models import Image
from gallery.services import image_create
from tests.helpers import (
    add_vector,
    distinct_colour,
    make_image_bytes,
    run_stage,
    storage_refuses,
    stored_files,
    unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/v1/duplicates/"
_colours = iter(range(1, 100_000))


def near(base: np.ndarray, seed: int, distance: float = 0.2) -> np.ndarray:
    vector = base + distance * unit(seed, base.size)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def photo(vector, *, size=(64, 48), by=None, original=False, name="photo.png"):
    """A library image of ``size`` pixels with the given vector, uploaded by ``by``."""
    data = make_image_bytes("PNG", size=size, color=distinct_colour(next(_colours)))
    image = image_create(name=name, data=data, uploaded_by=by, is_original=original).image
    add_vector(image, vector)
    return image


def found():
    run_stage("duplicates")


def listed(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()


def ids(group):
    return [image["id"] for image in group["images"]]


@pytest.fixture
def group(make_user):
    """One group of three: an original (small), the keeper (most pixels) and a third; and a
    lone image that is no one's duplicate."""
    editor = make_user("editor", username="eddie")
    base = unit(1)
    images = {
        "original": photo(base, size=(40, 30), original=True, name="original.png"),
        "keeper": photo(near(base, 2), size=(120, 90), name="big.png"),
        "editors": photo(near(base, 3), size=(64, 48), by=editor, name="editors.png"),
        "lone": photo(unit(9)),
    }
    found()
    return {"editor": editor, **images}


def test_it_lists_groups_with_their_images_best_keeper_first(api_client, group):
    body = listed(api_client)

    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    assert (body["threshold"], body["default_threshold"], body["min_threshold"]) == (0.9, 0.9,
                                                                                     0.8)
    [listed_group] = body["results"]
    assert ids(listed_group) == [group["keeper"].pk, group["editors"].pk, group["original"].pk]
    similarities = [float(a @ b) for a, b in [
        (group[x].feature_vectors.get().vector, group[y].feature_vectors.get().vector)
        for x, y in [("original", "keeper"), ("original", "editors"), ("keeper", "editors")]]]
    assert listed_group["similarity"] == pytest.approx(max(similarities), abs=1e-5)
    assert listed_group["tier"] == "near-duplicate" and listed_group["size"] == 3
    assert listed_group["id"].startswith(f"{group['original'].pk}-")
    keeper = listed_group["images"][0]
    assert keeper["filename"] == group["keeper"].filename
    assert (keeper["width"], keeper["height"], keeper["can_delete"]) == (120, 90, True)
    assert keeper["url"] == f"/images/{group['keeper'].filename}"
    assert listed_group["images"][2]["can_delete"] is False  # the original


def test_pages_go_through_many_groups(api_client):
    for n in range(5):
        base = unit(100 + n)
        photo(base), photo(near(base, 200 + n, 0.1 + 0.05 * n))
    found()

    first = listed(api_client, page_size=2)
    assert first["count"] == 5 and len(first["results"]) == 2
    third = listed(api_client, page_size=2, page=3)
    assert len(third["results"]) == 1 and third["next"] is None
    similarities = [g["similarity"] for page in (1, 2, 3)
                    for g in listed(api_client, page_size=2, page=page)["results"]]
    assert similarities == sorted(similarities, reverse=True)  # closest first


def test_a_lower_threshold_lists_looser_groups(api_client, group):
    base = group["lone"].feature_vectors.get().vector
    loose = photo(near(base, 50, 0.6))  # about 0.86 alike
    found()

    assert listed(api_client)["count"] == 1
    body = listed(api_client, threshold=0.85)
    assert body["threshold"] == 0.85
    assert sorted(map(sorted, map(ids, body["results"]))) == sorted(
        [sorted([group["original"].pk, group["keeper"].pk, group["editors"].pk]),
         sorted([group["lone"].pk, loose.pk])])


@pytest.mark.parametrize("threshold, message", [
    ("0.5", "The threshold must be between 0.8 and 1 (pairs less alike than 0.8 are not kept)."),
    ("1.01", "The threshold must be between 0.8 and 1 (pairs less alike than 0.8 are not kept)."),
    ("high", "A valid number is required."),
])
def test_a_threshold_out_of_range_is_a_clear_400(api_client, threshold, message):
    response = api_client.get(URL, {"threshold": threshold})
    assert response.status_code == 400
    assert response.json() == {"threshold": [message]}


def resolve(client, key, body=None):
    return client.post(f"{URL}{key}/resolve/", body or {}, format="json")


def test_keeping_one_moves_the_others_to_the_trash_but_never_an_original(
        api_client, group, django_capture_on_commit_callbacks):
    key = listed(api_client)["results"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(api_client, key, {"keep": [group["editors"].pk]})

    assert response.status_code == 200
    assert response.json() == {
        "groups": 1, "kept": [group["editors"].pk], "deleted": [group["keeper"].pk],
        "not_deleted": [{"id": group["original"].pk, "filename": group["original"].filename,
                         "code": "original_protected",
                         "detail": "Original images are protected and never deleted."}]}
    assert not Image.objects.filter(pk=group["keeper"].pk).exists()
    assert Image.all_objects.get(pk=group["keeper"].pk).trashed_at is not None
    stem = group["keeper"].filename.split(".")[0]
    assert len([name for name in stored_files() if stem in name]) == 2  # until purged
    # The original and the kept image are still alike: still one group of two.
    assert [ids(g) for g in listed(api_client)["results"]] == [
        [group["editors"].pk, group["original"].pk]]


def test_without_a_keep_list_the_keeper_rule_chooses(api_client, group):
    key = listed(api_client)["results"][0]["id"]
    body = resolve(api_client, key).json()
    assert (body["kept"], body["deleted"]) == ([group["keeper"].pk], [group["editors"].pk])


@pytest.mark.parametrize("keep, detail", [
    ([], "Keep at least one image, and only images of this group: the keep list is empty."),
    (["lone"], "Keep at least one image, and only images of this group: {lone} are not in it."),
])
def test_a_keep_list_outside_the_group_deletes_nothing(api_client, group, keep, detail):
    key = listed(api_client)["results"][0]["id"]
    keep = [group[name].pk for name in keep]
    response = resolve(api_client, key, {"keep": keep})

    assert response.status_code == 400
    assert response.json() == {"detail": detail.format(lone=group["lone"].pk),
                               "code": "keep_not_in_group", "not_in_group": keep}
    assert Image.objects.count() == 4


def test_an_unknown_group_is_404_and_a_changed_one_409(api_client, group):
    key = listed(api_client)["results"][0]["id"]
    response = resolve(api_client, "12345-abc")
    assert response.status_code == 404 and response.json()["code"] == "unknown_group"
    assert resolve(api_client, "nonsense").status_code == 404

    newcomer = photo(near(group["keeper"].feature_vectors.get().vector, 77, 0.1))
    found()
    response = resolve(api_client, key)
    assert response.status_code == 409
    current = listed(api_client)["results"][0]["id"]
    assert response.json() == {
        "detail": f"Duplicate group '{key}' has changed since it was listed (images were added "
                  "or deleted): list the groups again.",
        "code": "stale_group", "current": current}
    assert Image.objects.filter(pk=newcomer.pk).exists() and Image.objects.count() == 5


def test_not_duplicates_is_remembered_until_a_new_image_joins(api_client, group):
    key = listed(api_client)["results"][0]["id"]
    response = api_client.post(f"{URL}{key}/not-duplicates/", {}, format="json")

    assert response.status_code == 201
    assert response.json()["images"] == sorted(
        [group["original"].pk, group["keeper"].pk, group["editors"].pk])
    assert listed(api_client)["count"] == 0
    # Acting on it now: it is no longer a listed group.
    assert resolve(api_client, key).status_code == 404

    newcomer = photo(near(group["keeper"].feature_vectors.get().vector, 78, 0.1))
    found()
    [back] = listed(api_client)["results"]
    assert sorted(ids(back)) == sorted(
        [group["original"].pk, group["keeper"].pk, group["editors"].pk, newcomer.pk])


def test_resolve_all_keeps_each_groups_keeper(api_client, group):
    other = [photo(unit(300), size=(30, 30)), photo(near(unit(300), 301), size=(90, 90))]
    found()
    response = api_client.post(f"{URL}resolve-all/", {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["groups"] == 2
    assert body["kept"] == sorted([group["keeper"].pk, other[1].pk])
    assert body["deleted"] == sorted([group["editors"].pk, other[0].pk])
    assert [entry["id"] for entry in body["not_deleted"]] == [group["original"].pk]
    # The original could not go: it and the keeper are still a group.
    assert [ids(g) for g in listed(api_client)["results"]] == [
        [group["keeper"].pk, group["original"].pk]]
    assert set(Image.objects.values_list("pk", flat=True)) == {
        group["keeper"].pk, other[1].pk, group["original"].pk, group["lone"].pk}


def test_resolving_leaves_the_files_to_the_purge_so_a_refusing_store_changes_nothing(
        api_client, group, monkeypatch):
    storage_refuses(monkeypatch, "delete", OSError("Access Denied"))
    key = listed(api_client)["results"][0]["id"]
    body = resolve(api_client, key, {"keep": [group["original"].pk]}).json()

    assert body["deleted"] == sorted([group["keeper"].pk, group["editors"].pk])
    assert body["not_deleted"] == []
    assert listed(api_client)["count"] == 0
    assert set(Image.all_objects.trashed()) == {group["keeper"], group["editors"]}


def test_an_image_restored_from_the_trash_is_no_longer_deleted(api_client, group):
    key = listed(api_client)["results"][0]["id"]
    resolve(api_client, key, {"keep": [group["editors"].pk]})

    response = api_client.post(f"/api/v1/trash/{group['keeper'].pk}/restore/")

    assert response.status_code == 200
    assert Image.objects.filter(pk=group["keeper"].pk).exists()


VISITORS = ["anonymous", "anonymous-read", "viewer", "editor", "admin"]


@pytest.fixture
def visitor(request, make_user, group, settings):
    kind = request.param
    client = APIClient()
    if kind == "anonymous-read":
        settings.ANONYMOUS_ACCESS = "read"
    elif kind == "editor":
        client.force_login(group["editor"])
    elif kind != "anonymous":
        client.force_login(make_user(kind))
    client.kind = kind
    return client


def expect(client, **by_kind):
    return by_kind[client.kind.replace("-", "_")]


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_whoever_may_view_may_list(visitor):
    response = visitor.get(URL)
    assert response.status_code == expect(visitor, anonymous=401, anonymous_read=200,
                                          viewer=200, editor=200, admin=200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_resolving_deletes_only_what_the_visitor_may_delete(visitor, group, api_client):
    key = listed(api_client)["results"][0]["id"]
    response = resolve(visitor, key, {"keep": [group["original"].pk]})

    assert response.status_code == expect(visitor, anonymous=401, anonymous_read=401,
                                          viewer=403, editor=200, admin=200)
    if response.status_code != 200:
        assert Image.objects.count() == 4
        return
    body = response.json()
    if visitor.kind == "editor":
        assert body["deleted"] == [group["editors"].pk]
        assert body["not_deleted"] == [{
            "id": group["keeper"].pk, "filename": group["keeper"].filename,
            "code": "not_your_upload", "detail": "You can delete only your own uploads."}]
    else:
        assert body["deleted"] == sorted([group["keeper"].pk, group["editors"].pk])
        assert body["not_deleted"] == []


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_not_duplicates_needs_an_admin_or_an_editor_owning_the_whole_group(visitor, api_client,
                                                                          group):
    key = listed(api_client)["results"][0]["id"]
    response = visitor.post(f"{URL}{key}/not-duplicates/", {}, format="json")
    assert response.status_code == expect(visitor, anonymous=401, anonymous_read=401,
                                          viewer=403, editor=403, admin=201)
    if visitor.kind == "editor":  # the group holds an original and another's upload
        assert response.json() == {
            "detail": "You can mark as not duplicates only groups made entirely of your own "
                      "uploads; this one has originals or others' uploads. Ask an admin.",
            "code": "not_your_group"}
    assert listed(api_client)["count"] == (0 if response.status_code == 201 else 1)


def test_an_editor_marks_a_group_of_their_own_uploads_not_duplicates(api_client, group):
    editor = group["editor"]
    base = unit(500)
    mine = [photo(base, by=editor), photo(near(base, 501), by=editor)]
    found()
    client = APIClient()
    client.force_login(editor)
    [key] = [g["id"] for g in listed(api_client)["results"] if mine[0].pk in ids(g)]

    response = client.post(f"{URL}{key}/not-duplicates/", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["images"], body["decided_by"]) == (sorted(m.pk for m in mine), "eddie")
    assert listed(api_client)["count"] == 1


DECISIONS = f"{URL}decisions/"


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_only_an_admin_undoes_not_duplicates_and_the_group_is_listed_again(visitor, api_client,
                                                                          group):
    key = listed(api_client)["results"][0]["id"]
    decision = api_client.post(f"{URL}{key}/not-duplicates/", {}, format="json").json()

    listing = visitor.get(DECISIONS)
    undone = visitor.delete(f"{DECISIONS}{decision['id']}/")

    assert listing.status_code == expect(visitor, anonymous=401, anonymous_read=401,
                                         viewer=403, editor=200, admin=200)
    if listing.status_code == 200:
        assert listing.json()["results"] == [decision]
    assert undone.status_code == expect(visitor, anonymous=401, anonymous_read=401,
                                        viewer=403, editor=403, admin=204)
    assert listed(api_client)["count"] == (1 if undone.status_code == 204 else 0)


def test_undoing_a_decision_that_is_not_there_answers_404(api_client):
    response = api_client.delete(f"{DECISIONS}999/")

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no \"not duplicates\" decision 999.",
                               "code": "unknown_decision"}


def test_an_admin_undoes_not_duplicates_in_the_admin_site(client, api_client, group):
    from django.urls import reverse

    key = listed(api_client)["results"][0]["id"]
    decision = api_client.post(f"{URL}{key}/not-duplicates/", {}, format="json").json()
    changelist = reverse("admin:duplicates_duplicatedismissal_changelist")

    shown = client.get(changelist)
    client.post(reverse("admin:duplicates_duplicatedismissal_delete", args=[decision["id"]]),
                {"post": "yes"})

    assert shown.status_code == 200 and f"not duplicates #{decision['id']}" in shown.text
    assert listed(api_client)["count"] == 1


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_resolve_all_follows_the_delete_rules(visitor, group):
    response = visitor.post(f"{URL}resolve-all/", {}, format="json")
    assert response.status_code == expect(visitor, anonymous=401, anonymous_read=401,
                                          viewer=403, editor=200, admin=200)
    remaining = set(Image.objects.values_list("pk", flat=True))
    if visitor.kind == "editor":
        assert remaining == {group[n].pk for n in ("original", "keeper", "lone")}
    elif visitor.kind == "admin":
        assert remaining == {group[n].pk for n in ("original", "keeper", "lone")}
    else:
        assert len(remaining) == 4


def test_a_page_of_groups_reads_its_images_labels_in_one_query(api_client,
                                                                django_assert_max_num_queries):
    for n in range(6):
        base = unit(300 + n)
        photo(base), photo(near(base, 400 + n, 0.1))
    found()
    listed(api_client)  # groups formed and kept: the next pages read only the page

    # The session, the user, the rules, the state of the pairs (four aggregates), the
    # pairs of the page, its images, their labels: the same for 2 groups or 20.
    with django_assert_max_num_queries(14):
        body = listed(api_client)
    assert body["count"] == 6 and all(len(group["images"]) == 2 for group in body["results"])
    assert all(image["labels"] == [] for group in body["results"] for image in group["images"])
