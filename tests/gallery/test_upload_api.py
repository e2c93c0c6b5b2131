"""POST /api/v1/images/: adding images to the library."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gallery.models import Image
from tests.helpers import make_image_bytes, storage_refuses, stored_files

pytestmark = pytest.mark.django_db
URL = reverse("api-images")


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_it_adds_an_image_with_its_thumbnail(api_client, media_root):
    data = make_image_bytes("JPEG", size=(640, 480))
    response = api_client.post(URL, {"file": upload("Beach day.jpg", data)}, format="multipart")

    assert response.status_code == 201
    (result,) = response.json()["results"]
    image = Image.objects.get()
    assert result == {"duplicate": False, "image": {
        "id": image.id, "filename": image.filename, "name": "Beach day.jpg",
        "is_original": False, "width": 640, "height": 480, "format": "JPEG",
        "size_bytes": len(data), "sha256": image.sha256,
        "uploaded_at": result["image"]["uploaded_at"], "uploaded_by": "site-admin",
        "url": f"/images/{image.filename}", "thumbnail_url": f"/images/thumb/{image.filename}",
        "can_delete": True, "labels": [],  # labels come once the worker has its vector
    }}
    stem = image.filename.rsplit(".", 1)[0]
    assert stored_files() == [f"images/{image.filename}", f"thumbnails/{stem}.jpg"]


def test_it_never_uses_the_client_file_name_as_a_path(api_client, media_root):
    data = make_image_bytes("PNG")
    response = api_client.post(URL, {"file": upload("../../etc/passwd.png", data)},
                               format="multipart")

    assert response.status_code == 201
    image = response.json()["results"][0]["image"]
    assert image["name"] == "passwd.png"
    assert "/" not in image["filename"] and ".." not in image["filename"]
    assert all(path.startswith(("images/", "thumbnails/")) for path in stored_files())


def test_it_adds_several_files_in_one_request(api_client, media_root):
    files = [upload(f"{i}.png", make_image_bytes("PNG", color=(i * 40, 0, 0))) for i in range(3)]
    response = api_client.post(URL, {"file": files}, format="multipart")

    assert response.status_code == 201
    assert [r["image"]["name"] for r in response.json()["results"]] == ["0.png", "1.png", "2.png"]
    assert Image.objects.count() == 3
    assert len(stored_files()) == 6


def test_it_answers_a_duplicate_with_the_existing_image(api_client, media_root):
    data = make_image_bytes()
    first = api_client.post(URL, {"file": upload("a.jpg", data)}, format="multipart").json()
    response = api_client.post(URL, {"file": upload("copy.jpg", data)}, format="multipart")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"duplicate": True, "image": first["results"][0]["image"]}]
    assert Image.objects.count() == 1
    assert len(stored_files()) == 2


@pytest.mark.parametrize("name,data,status,code", [
    ("empty.jpg", b"", 400, "empty"),
    ("notes.jpg", b"just some text, not a picture", 400, "not_an_image"),
    ("renamed.jpg", make_image_bytes("PNG"), 400, "extension_mismatch"),
    ("half.jpg", make_image_bytes(size=(300, 300))[:400], 400, "corrupt_image"),
    ("virus.exe", make_image_bytes(), 400, "unsupported_type"),
])
def test_it_refuses_bad_files_and_stores_nothing(api_client, media_root, name, data, status, code):
    response = api_client.post(URL, {"file": upload(name, data)}, format="multipart")

    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["errors"] == [{"name": name, "detail": body["detail"], "code": code,
                               "status": status}]
    assert Image.objects.count() == 0
    assert stored_files() == []


def test_it_refuses_a_file_over_the_limit(api_client, media_root, settings):
    settings.IMAGESIM_MAX_UPLOAD_BYTES = 2**20
    big = make_image_bytes("BMP", size=(1000, 400))
    response = api_client.post(URL, {"file": upload("big.bmp", big)}, format="multipart")

    assert response.status_code == 413
    assert response.json()["detail"] == "The file is larger than the 1 MB limit."
    assert stored_files() == []


def test_one_bad_file_among_several_stores_nothing(api_client, media_root):
    files = [upload("good.jpg", make_image_bytes()), upload("bad.jpg", b"nope")]
    response = api_client.post(URL, {"file": files}, format="multipart")

    assert response.status_code == 400
    assert response.json()["detail"] == "The file is not an image ImageSim can read."
    assert [e["name"] for e in response.json()["errors"]] == ["bad.jpg"]
    assert Image.objects.count() == 0
    assert stored_files() == []


def test_it_asks_for_a_file_when_none_is_sent(api_client):
    response = api_client.post(URL, {}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "No file was uploaded: send one or more images in the 'file' field.",
        "code": "no_file"}


def test_it_refuses_a_json_body(api_client):
    response = api_client.post(URL, {"file": "x"}, format="json")

    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_it_records_the_signed_in_uploader(api_client, make_user):
    user = make_user("editor", username="ada")
    api_client.force_authenticate(user)
    response = api_client.post(URL, {"file": upload("a.jpg", make_image_bytes())},
                               format="multipart")

    assert response.json()["results"][0]["image"]["uploaded_by"] == "ada"
    assert Image.objects.get().uploaded_by == user


def test_it_accepts_a_phone_jpeg_with_embedded_pictures(api_client, media_root):
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (80, 60), "teal").save(
        out, "MPO", save_all=True, append_images=[PILImage.new("RGB", (40, 30), "red")])
    response = api_client.post(URL, {"file": upload("phone.jpg", out.getvalue())},
                               format="multipart")

    assert response.status_code == 201
    image = response.json()["results"][0]["image"]
    assert (image["format"], image["width"], image["height"]) == ("JPEG", 80, 60)


def test_a_failing_thumbnail_store_leaves_no_file_and_no_row(api_client, media_root, monkeypatch,
                                                             caplog):
    storage_refuses(monkeypatch, "save",
                    OSError(28, "No space left on device", str(media_root / "thumbnails")),
                    when=lambda name: name.startswith("thumbnails/"))
    response = api_client.post(URL, {"file": upload("a.jpg", make_image_bytes())},
                               format="multipart")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The image store refused the file; nothing was stored. Try again later; if it "
                  "goes on, an administrator finds why in the server's log.",
        "code": "storage_unavailable"}
    assert str(media_root) not in response.text  # the absolute path is for the log
    assert f"No space left on device: '{media_root / 'thumbnails'}'" in caplog.text
    assert Image.objects.count() == 0
    assert stored_files() == []


def test_images_stored_before_a_failure_are_still_announced(api_client, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    from gallery.signals import images_added

    announced = []
    images_added.connect(lambda sender, images, **kw: announced.extend(images), weak=False,
                         dispatch_uid="test-announced")
    storage_refuses(monkeypatch, "save", OSError("No space left on device"),
                    when=lambda name: Image.objects.exists())
    files = [upload("first.jpg", make_image_bytes(color=(10, 20, 30))),
             upload("second.jpg", make_image_bytes(color=(200, 100, 0)))]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(URL, {"file": files}, format="multipart")
    finally:
        images_added.disconnect(dispatch_uid="test-announced")

    assert response.status_code == 503
    assert [image.name for image in announced] == ["first.jpg"]
    assert list(Image.objects.values_list("name", flat=True)) == ["first.jpg"]
