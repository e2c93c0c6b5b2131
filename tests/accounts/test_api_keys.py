"""API keys: made, listed, used as 'Authorization: Bearer <key>', revoked."""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.keys import api_key_create, key_user
from accounts.models import ApiKey
from gallery.models import Image
from tests.helpers import make_image_bytes

pytestmark = pytest.mark.django_db
KEYS = reverse("api-keys")


@pytest.fixture
def editor(make_user):
    return make_user("editor", username="ed")


@pytest.fixture
def signed_in(editor):
    client = APIClient()
    client.force_login(editor)
    return client


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(signed_in, editor):
    response = signed_in.post(KEYS, {"name": "backup script"}, format="json")

    assert response.status_code == 201
    body = response.json()
    key = body.pop("key")
    stored = ApiKey.objects.get()
    assert body == {"id": stored.prefix, "name": "backup script",
                    "created_at": body["created_at"], "last_used_at": None}
    assert key.startswith(stored.prefix + ".") and len(key) == 41
    assert key not in stored.hashed_key and key.split(".")[1] not in stored.id
    assert stored.user == editor
    assert "key" not in signed_in.get(KEYS).json()[0]


def test_it_lists_only_your_own_keys(signed_in, editor, admin):
    api_key_create(user=editor, name="mine")
    api_key_create(user=admin, name="the admin's")

    response = signed_in.get(KEYS)

    assert [key["name"] for key in response.json()] == ["mine"]


def test_a_key_acts_as_its_user_without_a_csrf_token(editor):
    _, key = api_key_create(user=editor, name="uploader")
    client = bearer(key)
    client.enforce_csrf_checks = True
    file = io.BytesIO(make_image_bytes())
    file.name = "from-script.jpg"

    response = client.post("/api/v1/images/", {"file": file}, format="multipart")

    assert response.status_code == 201
    assert Image.objects.get().uploaded_by == editor
    assert ApiKey.objects.get().last_used_at is not None


def test_a_used_key_and_its_user_are_read_in_one_query(editor, django_assert_num_queries):
    _, key = api_key_create(user=editor, name="script")
    key_user(key)  # notes the use: the next minute's requests write nothing

    with django_assert_num_queries(1):
        assert key_user(key).username == "ed"


def test_a_key_reads_image_files_too(editor, add_image):
    _, key = api_key_create(user=editor, name="reader")
    image = add_image()

    response = bearer(key).get(f"/images/{image.filename}")

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/images/", "/images/nothing.jpg", "/api/images"])
def test_a_made_up_key_gets_401(path):
    response = bearer("AbCd1234.not-a-real-key-at-all-xxxxxxxxxxxxx").get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ImageSim"'
    assert response.json()["code"] == "invalid_key"
    assert "not valid" in response.json()["detail"]


def test_a_revoked_key_gets_401(signed_in, editor):
    api_key, key = api_key_create(user=editor, name="old")
    assert bearer(key).get("/api/v1/images/").status_code == 200

    response = signed_in.delete(reverse("api-key-detail", args=[api_key.prefix]))

    assert response.status_code == 204
    assert bearer(key).get("/api/v1/images/").status_code == 401
    assert not ApiKey.objects.exists()


def test_a_key_of_a_disabled_account_gets_401(editor):
    _, key = api_key_create(user=editor, name="old")
    editor.is_active = False
    editor.save()

    assert bearer(key).get("/api/v1/images/").status_code == 401


def test_you_cannot_revoke_someone_elses_key(signed_in, admin):
    api_key, _ = api_key_create(user=admin, name="the admin's")

    response = signed_in.delete(reverse("api-key-detail", args=[api_key.prefix]))

    assert response.status_code == 404
    assert response.json() == {"detail": f"You have no API key {api_key.prefix!r}.",
                               "code": "not_found"}
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


@pytest.mark.parametrize("name,message", [("", "This field may not be blank."),
                                          ("x" * 51, "Ensure this field has no more than 50 "
                                                     "characters.")])
def test_a_key_needs_a_name(signed_in, name, message):
    response = signed_in.post(KEYS, {"name": name}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": [message]}
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("body,message", [({}, "This field is required."),
                                          ({"name": ""}, "This field may not be blank.")])
def test_a_form_without_a_name_is_a_clear_400(signed_in, body, message):
    response = signed_in.post(KEYS, body, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"name": [message]}
    assert not ApiKey.objects.exists()


def test_a_viewer_makes_no_keys(make_user):
    client = APIClient()
    client.force_login(make_user("viewer"))

    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "x"}, format="json").status_code == 403
    assert not ApiKey.objects.exists()


def test_anonymous_visitors_get_401_for_keys():
    assert APIClient().get(KEYS).status_code == 401


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_key_cannot_list_make_or_revoke_keys(editor, method):
    own, key = api_key_create(user=editor, name="leaked")
    path = KEYS if method != "delete" else reverse("api-key-detail", args=[own.prefix])

    response = getattr(bearer(key), method)(path, {"name": "spawn"} if method == "post" else None,
                                            format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "API keys are managed from a signed-in session (the page's \"API keys\"), "
                  "not with an API key.",
        "code": "session_required"}
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["leaked"]
