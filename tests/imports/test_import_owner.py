"""import_folder and import_original_app --owner: who the imported images belong to."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from gallery.models import Image
from tests.helpers import distinct_colour, make_image_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(1, 4):
        (folder / f"photo-{n}.jpg").write_bytes(make_image_bytes(color=distinct_colour(n)))
    return folder


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def run(command, *args) -> str:
    out = io.StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_images_imported_with_an_owner_are_that_users_uploads(photos, make_user):
    eddie = make_user("editor", username="eddie")

    run("import_folder", photos, "--owner", "eddie")

    assert sorted(Image.objects.values_list("name", "uploaded_by__username")) == [
        ("photo-1.jpg", "eddie"), ("photo-2.jpg", "eddie"), ("photo-3.jpg", "eddie")]
    image = Image.objects.get(name="photo-1.jpg")
    response = signed_in(eddie).delete(reverse("api-image-detail", args=[image.pk]))
    assert response.status_code == 204
    assert Image.objects.count() == 2


def test_images_imported_without_an_owner_belong_to_no_one_and_only_admins_delete_them(
        photos, make_user):
    editor, admin = make_user("editor", username="eddie"), make_user("admin", username="ada")

    run("import_folder", photos)

    image = Image.objects.get(name="photo-1.jpg")
    assert image.uploaded_by is None
    assert signed_in(editor).delete(reverse("api-image-detail", args=[image.pk])).status_code == 403
    assert signed_in(admin).delete(reverse("api-image-detail", args=[image.pk])).status_code == 204


def test_an_unknown_owner_is_refused_before_anything_is_imported(photos):
    with pytest.raises(CommandError, match="No user named 'nobody': make one with 'manage.py "
                                           "create_user nobody --role editor', or name another."):
        run("import_folder", photos, "--owner", "nobody")

    assert Image.objects.count() == 0


def test_an_owner_does_not_take_over_images_already_in_the_library(photos, make_user):
    make_user("editor", username="eddie")
    run("import_folder", photos)

    run("import_folder", photos, "--owner", "eddie")

    assert set(Image.objects.values_list("uploaded_by", flat=True)) == {None}


def test_the_original_apps_images_get_the_owner_named(tmp_path, photos, make_user):
    make_user("editor", username="eddie")
    photos.rename(tmp_path / "images")

    run("import_original_app", tmp_path, "--no-vectors", "--owner", "eddie")

    assert sorted(Image.objects.values_list("name", "is_original", "uploaded_by__username")) == [
        ("photo-1.jpg", True, "eddie"), ("photo-2.jpg", True, "eddie"),
        ("photo-3.jpg", True, "eddie")]


def test_import_original_app_refuses_an_unknown_owner(tmp_path, photos):
    photos.rename(tmp_path / "images")

    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("import_original_app", tmp_path, "--no-vectors", "--owner", "nobody")

    assert Image.objects.count() == 0
