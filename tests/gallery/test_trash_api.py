"""The trash: a deleted upload leaves the library (lists, searches, files) but keeps its
files until purged; its owner or an admin restores it or deletes it for good."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from features.models import FeatureTask, FeatureVector
from gallery.models import Image
from gallery.services import image_create, image_delete
from tests.helpers import (
    distinct_colour,
    fingerprint,
    library_image,
    make_image_bytes,
    run_stage,
    storage_refuses,
    stored_files,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
TRASH = "/api/v1/trash/"
_colours = iter(range(1, 100_000))


def upload(by, name="photo.png", data=None):
    data = data or make_image_bytes("PNG", color=distinct_colour(next(_colours)))
    return image_create(name=name, data=data, uploaded_by=by).image


def client_of(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def trash_ids(client):
    return [image["id"] for image in client.get(TRASH).json()["results"]]


def files_of(image):
    stem = image.filename.rsplit(".", 1)[0]
    return [name for name in stored_files() if stem in name]


@pytest.fixture
def people(make_user, admin):
    return {"editor": make_user("editor", username="eddie"),
            "other": make_user("editor", username="olga"),
            "viewer": make_user("viewer", username="vic"), "admin": admin}


def test_a_deleted_upload_waits_in_its_owners_trash_with_its_files(people):
    eddie = client_of(people["editor"])
    image = upload(people["editor"], "shoe.png")

    assert eddie.delete(f"/api/v1/images/{image.pk}/").status_code == 204

    [listed] = eddie.get(TRASH).json()["results"]
    assert (listed["id"], listed["name"], listed["trashed_by"]) == (image.pk, "shoe.png", "eddie")
    trashed_at = Image.all_objects.get(pk=image.pk).trashed_at
    assert listed["purge_at"] == (trashed_at + timedelta(days=30)).isoformat().replace(
        "+00:00", "Z")
    assert eddie.get("/api/v1/images/").json()["count"] == 0
    assert len(files_of(image)) == 2
    # Its owner still sees its thumbnail (for the Trash view); nobody else does.
    assert eddie.get(image.get_thumbnail_url()).status_code == 200
    assert client_of(people["other"]).get(image.get_absolute_url()).status_code == 404
    assert client_of(people["admin"]).get(image.get_absolute_url()).status_code == 200


def test_an_editor_sees_only_their_own_trash_and_an_admin_everyones(people):
    mine, theirs = upload(people["editor"]), upload(people["other"])
    image_delete(image=mine)
    image_delete(image=theirs)

    assert trash_ids(client_of(people["editor"])) == [mine.pk]
    assert trash_ids(client_of(people["other"])) == [theirs.pk]
    assert sorted(trash_ids(client_of(people["admin"]))) == sorted([mine.pk, theirs.pk])


@pytest.mark.parametrize("who, status", [(None, 401), ("viewer", 403)])
def test_visitors_and_viewers_have_no_trash(people, who, status):
    image = upload(people["editor"])
    image_delete(image=image)
    visitor = client_of(people[who] if who else None)

    assert visitor.get(TRASH).status_code == status
    assert visitor.post(f"{TRASH}{image.pk}/restore/").status_code == status
    assert visitor.delete(f"{TRASH}{image.pk}/").status_code == status
    assert visitor.post(f"{TRASH}empty/").status_code == status
    assert Image.all_objects.get(pk=image.pk).trashed_at is not None


def test_restoring_brings_an_image_back_and_queues_it_for_features(
        people, django_capture_on_commit_callbacks):
    image = library_image((1, 2, 3))
    Image.all_objects.filter(pk=image.pk).update(uploaded_by=people["editor"])
    image_delete(image=image)
    assert not FeatureVector.objects.filter(image=image).exists()
    eddie = client_of(people["editor"])

    with django_capture_on_commit_callbacks(execute=True):
        response = eddie.post(f"{TRASH}{image.pk}/restore/")

    assert response.status_code == 200
    assert response.json()["id"] == image.pk and response.json()["can_delete"] is True
    assert [found["id"] for found in eddie.get("/api/v1/images/").json()["results"]] == [image.pk]
    assert trash_ids(eddie) == []
    assert FeatureTask.objects.filter(image=image, extractor=fingerprint()).exists()


def test_an_editor_cannot_restore_or_purge_someone_elses_image(people):
    theirs = upload(people["other"])
    image_delete(image=theirs)
    eddie = client_of(people["editor"])

    for response in (eddie.post(f"{TRASH}{theirs.pk}/restore/"),
                     eddie.delete(f"{TRASH}{theirs.pk}/")):
        assert response.status_code == 404
        assert response.json() == {"detail": f"No image {theirs.pk} in your trash.",
                                   "code": "not_found"}
    assert eddie.post(f"{TRASH}empty/").json() == {"deleted": 0}
    assert Image.all_objects.get(pk=theirs.pk).trashed_at is not None
    assert len(files_of(theirs)) == 2


def test_a_live_image_or_a_missing_id_is_not_in_the_trash(people, api_client):
    live = upload(people["editor"])

    assert api_client.post(f"{TRASH}{live.pk}/restore/").status_code == 404
    assert api_client.delete(f"{TRASH}{live.pk}/").status_code == 404
    assert api_client.delete(f"{TRASH}{2**70}/").status_code == 404
    assert Image.objects.get() == live


def test_deleting_for_good_frees_the_files(people, django_capture_on_commit_callbacks):
    image, kept = upload(people["editor"]), upload(people["editor"])
    image_delete(image=image)
    image_delete(image=kept)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(people["editor"]).delete(f"{TRASH}{image.pk}/")

    assert response.status_code == 204
    assert not Image.all_objects.filter(pk=image.pk).exists()
    assert files_of(image) == [] and len(files_of(kept)) == 2


def test_emptying_the_trash_frees_only_your_own_unless_admin(
        people, django_capture_on_commit_callbacks):
    mine, theirs = upload(people["editor"]), upload(people["other"])
    live = upload(people["editor"])
    image_delete(image=mine)
    image_delete(image=theirs)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(people["editor"]).post(f"{TRASH}empty/")
    assert response.json() == {"deleted": 1}
    assert files_of(mine) == [] and len(files_of(theirs)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(people["admin"]).post(f"{TRASH}empty/")
    assert response.json() == {"deleted": 1}
    assert files_of(theirs) == []
    assert list(Image.all_objects.all()) == [live] and len(files_of(live)) == 2


def test_a_store_that_refuses_keeps_the_image_in_the_trash_and_says_so(
        people, api_client, monkeypatch):
    image = upload(people["editor"])
    image_delete(image=image)
    storage_refuses(monkeypatch, "delete", OSError("Access Denied"))

    response = api_client.post(f"{TRASH}empty/")

    assert response.status_code == 503
    assert response.json() == {
        "detail": f"The image store refused to delete images/{image.filename}; it was kept. "
                  "Try again later; if it goes on, an administrator finds why in the server's "
                  f"log. 0 of 1 deleted; not deleted: {image.filename}",
        "code": "storage_unavailable", "deleted": 0, "not_deleted": [image.filename]}
    assert trash_ids(api_client) == [image.pk] and len(files_of(image)) == 2


def test_originals_never_go_to_the_trash(api_client):
    original = library_image((4, 5, 6), original=True)

    assert api_client.delete(f"/api/v1/images/{original.pk}/").status_code == 403
    assert trash_ids(api_client) == []
    assert Image.objects.get() == original


def test_a_trashed_image_is_not_found_by_search(api_client):
    query = library_image((10, 200, 10))
    gone = library_image((12, 198, 12))
    image_delete(image=gone)

    response = api_client.post("/api/v1/search/", {"image_id": query.pk, "k": 8}, format="json")

    assert response.status_code == 200
    assert gone.pk not in [result["id"] for result in response.json()["results"]]


def test_uploading_trashed_content_again_restores_it(people):
    data = make_image_bytes("PNG", color=(9, 99, 199))
    image = upload(people["editor"], "first.png", data=data)
    image_delete(image=image)
    eddie = client_of(people["editor"])

    response = eddie.post("/api/v1/images/", {"file": [_file(data)]}, format="multipart")

    assert response.status_code == 201
    [result] = response.json()["results"]
    assert (result["duplicate"], result["image"]["id"]) == (False, image.pk)
    assert trash_ids(eddie) == [] and Image.objects.get() == image


def _file(data):
    return SimpleUploadedFile("again.png", data, content_type="image/png")


def test_the_command_empties_the_trash_or_only_what_is_older(
        people, django_capture_on_commit_callbacks):
    old, recent = upload(people["editor"]), upload(people["editor"])
    image_delete(image=old)
    image_delete(image=recent)
    Image.all_objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("empty_trash", "--older-than-days", "30")
    assert list(Image.all_objects.all()) == [recent] and files_of(old) == []

    with django_capture_on_commit_callbacks(execute=True):
        call_command("empty_trash")
    assert not Image.all_objects.exists() and stored_files() == []


def test_the_command_refuses_a_negative_age():
    with pytest.raises(CommandError, match="must be a number of days, 0 or more, not '-2'"):
        call_command("empty_trash", "--older-than-days", "-2")


def test_the_daily_purge_frees_what_is_older_than_trash_days_once_a_day(
        people, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.TRASH_DAYS = 30
    monkeypatch.setattr("features.jobs.purge._last_day", None)
    expired, kept = upload(people["editor"]), upload(people["editor"])
    image_delete(image=expired)
    image_delete(image=kept)
    month_ago = timezone.now() - timedelta(days=30, minutes=1)
    Image.all_objects.filter(pk=expired.pk).update(trashed_at=month_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert run_stage("trash purge") == 1  # as the worker runs it, on an idle step
    assert list(Image.all_objects.all()) == [kept] and files_of(expired) == []

    Image.all_objects.filter(pk=kept.pk).update(trashed_at=month_ago)
    assert run_stage("trash purge") == 0  # once a day
    assert Image.all_objects.filter(pk=kept.pk).exists()
