"""Who may do what, through every door: both API layers, the files, the page.

Each row is one request; each column one kind of visitor. Anonymous visitors get
401 (403 is for signed-in users without the right), and ANONYMOUS_ACCESS=read lets
them read and search but never change anything.
"""

import io

import pytest
from rest_framework.test import APIClient

from gallery.models import Image
from gallery.services import image_create
from tests.helpers import library_image, make_image_bytes

pytestmark = pytest.mark.django_db

VISITORS = ["anonymous", "anonymous-read", "viewer", "editor", "admin"]


def upload(name="new.jpg", color=(10, 200, 90)):
    file = io.BytesIO(make_image_bytes("JPEG", color=color))
    file.name = name
    return file


@pytest.fixture
def library(make_user):
    """An original and an admin's upload (both with vectors), and an editor's own upload."""
    editor = make_user("editor", username="eddie")
    original = library_image((200, 30, 30), original=True)
    others = library_image((30, 200, 30))
    own = image_create(name="mine.jpg", data=make_image_bytes(color=(9, 9, 9)),
                       uploaded_by=editor).image
    return {"editor": editor, "original": original, "others": others, "own": own}


@pytest.fixture
def visitor(request, make_user, library, settings):
    """An API client for the visitor kind named by the test's parameter."""
    kind = request.param
    client = APIClient()
    if kind == "anonymous-read":
        settings.ANONYMOUS_ACCESS = "read"
    elif kind == "editor":
        client.force_login(library["editor"])
    elif kind != "anonymous":
        client.force_login(make_user(kind))
    client.kind = kind
    return client


def expect(client, *, anonymous, read, viewer, editor, admin):
    return {"anonymous": anonymous, "anonymous-read": read, "viewer": viewer,
            "editor": editor, "admin": admin}[client.kind]


READS = [
    ("GET", "/api/v1/images/"),
    ("GET", "/api/v1/images/{others}/"),
    ("GET", "/api/v1/features/status/"),
    ("GET", "/api/images"),
    ("GET", "/api/check-features"),
    ("GET", "/images/{others_file}"),
    ("GET", "/images/thumb/{others_file}"),
    ("GET", "/api/schema/?format=json"),
    ("GET", "/api/docs/"),
]


def fill(path: str, library) -> str:
    return path.format(others=library["others"].pk, others_file=library["others"].filename,
                       own=library["own"].pk, own_file=library["own"].filename,
                       original_file=library["original"].filename)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("method,path", READS)
def test_reading_needs_a_role_or_anonymous_read(visitor, library, method, path):
    response = visitor.generic(method, fill(path, library))

    assert response.status_code == expect(visitor, anonymous=401, read=200, viewer=200,
                                          editor=200, admin=200)
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="ImageSim"'
        if response["Content-Type"] == "application/json":  # the docs page answers in HTML
            assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_searching_by_library_image_needs_reading_rights(visitor, library):
    response = visitor.post("/api/v1/search/", {"image_id": library["others"].pk}, format="json")

    assert response.status_code == expect(visitor, anonymous=401, read=200, viewer=200,
                                          editor=200, admin=200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("query", ["region", "several"])
def test_searching_by_a_region_or_several_images_needs_reading_rights(visitor, library, query):
    data = ({"file": upload(), "x": 0, "y": 0, "width": 0.5, "height": 1} if query == "region"
            else {"files": [upload()], "image_ids": [library["others"].pk,
                                                     library["original"].pk]})

    response = visitor.post("/api/v1/search/", data, format="multipart")

    assert response.status_code == expect(visitor, anonymous=401, read=200, viewer=200,
                                          editor=200, admin=200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/search/", "/api/search"])
def test_searching_by_upload_needs_reading_rights(visitor, library, path):
    response = visitor.post(path, {"file": upload()}, format="multipart")

    assert response.status_code == expect(visitor, anonymous=401, read=200, viewer=200,
                                          editor=200, admin=200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/images/", "/api/upload-image"])
def test_uploading_needs_the_editor_role(visitor, library, path):
    response = visitor.post(path, {"file": upload()}, format="multipart")

    expected = expect(visitor, anonymous=401, read=401, viewer=403,
                      editor=201 if path == "/api/v1/images/" else 200,
                      admin=201 if path == "/api/v1/images/" else 200)
    assert response.status_code == expected
    assert Image.objects.filter(name="new.jpg").exists() == (expected < 300)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/features/jobs/", "/api/generate-features"])
def test_generating_features_needs_the_editor_role(visitor, library, path, settings):
    settings.FEATURE_EXTRACTOR = "features.extractors.fake.FakeExtractor"

    response = visitor.post(path)

    assert response.status_code == expect(visitor, anonymous=401, read=401, viewer=403,
                                          editor=202 if "v1" in path else 200,
                                          admin=202 if "v1" in path else 200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/images/{own}/", "/api/delete-image/{own_file}"])
def test_an_editor_deletes_their_own_upload(visitor, library, path):
    response = visitor.delete(fill(path, library))

    expected = expect(visitor, anonymous=401, read=401, viewer=403, editor=200, admin=200)
    assert response.status_code in ((204, 200) if expected == 200 else (expected,))
    assert Image.objects.filter(pk=library["own"].pk).exists() == (expected != 200)


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/images/{others}/", "/api/delete-image/{others_file}"])
def test_only_an_admin_deletes_someone_elses_upload(visitor, library, path):
    response = visitor.delete(fill(path, library))

    expected = expect(visitor, anonymous=401, read=401, viewer=403, editor=403, admin=200)
    assert response.status_code in ((204, 200) if expected == 200 else (expected,))
    assert Image.objects.filter(pk=library["others"].pk).exists() == (expected != 200)
    if visitor.kind == "editor":
        assert response.json()["code"] == "not_your_upload"


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_no_one_deletes_an_original(visitor, library):
    response = visitor.delete(f"/api/v1/images/{library['original'].pk}/")

    assert response.status_code == expect(visitor, anonymous=401, read=401, viewer=403,
                                          editor=403, admin=403)
    assert Image.objects.filter(pk=library["original"].pk).exists()


@pytest.mark.parametrize("visitor", ["editor", "admin"], indirect=True)
def test_a_bulk_delete_with_one_upload_not_yours_deletes_nothing(visitor, library):
    ids = [library["own"].pk, library["others"].pk]

    response = visitor.post("/api/v1/images/bulk-delete/", {"ids": ids}, format="json")

    if visitor.kind == "editor":
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can delete only your own uploads; nothing was deleted: "
                      f"{library['others'].filename}",
            "code": "not_your_upload", "not_yours": [library["others"].filename]}
        assert Image.objects.filter(pk__in=ids).count() == 2
    else:
        assert response.json() == {"deleted": 2}


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_the_images_say_which_the_visitor_may_delete(visitor, library):
    response = visitor.get("/api/v1/images/")

    if response.status_code != 200:
        return
    can_delete = {image["name"]: image["can_delete"] for image in response.json()["results"]}
    mine = visitor.kind in ("editor", "admin")
    assert can_delete == {"mine.jpg": mine, library["others"].name: visitor.kind == "admin",
                          library["original"].name: False}


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_the_page_sends_anonymous_visitors_to_sign_in(visitor, library):
    response = visitor.get("/")

    if visitor.kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == "/accounts/sign-in/?next=/"
    else:
        assert response.status_code == 200


def test_a_signed_in_user_without_a_role_is_told_to_ask_for_one(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))

    page = client.get("/")
    api = client.get("/api/v1/images/")

    assert page.status_code == 403
    assert "your account has no role in ImageSim yet" in page.content.decode()
    assert api.status_code == 403
    assert api.json() == {"detail": "Your account is not allowed to do this.",
                          "code": "permission_denied"}
