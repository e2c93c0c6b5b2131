"""manage.py import_folder: good, bad and duplicate files, subfolders, originals, resuming."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from features.models import FeatureTask
from gallery.imports import files_import, folder_files
from gallery.models import Image
from gallery.services import image_create
from gallery.signals import images_added
from tests.helpers import distinct_colour, fingerprint, make_image_bytes, stored_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]
LIMIT = 30_000  # bytes: the upload limit these tests set, so a noisy picture is "too large"


def noisy_png(size=(200, 200)) -> bytes:
    import numpy as np
    from PIL import Image as PILImage

    pixels = np.random.default_rng(1).integers(0, 256, (*size, 3), dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def picture(n: int, fmt="JPEG") -> bytes:
    return make_image_bytes(fmt, color=distinct_colour(n))


@pytest.fixture(autouse=True)
def small_upload_limit(settings):
    settings.IMAGESIM_MAX_UPLOAD_BYTES = LIMIT


@pytest.fixture
def library_photo():
    """A photo already in the library (uploaded earlier) and also in the folder."""
    data = picture(90)
    image_create(name="uploaded-before.jpg", data=data)
    return data


@pytest.fixture
def photos(tmp_path, library_photo) -> Path:
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    (folder / "beach.jpg").write_bytes(picture(1))
    (folder / "beach copy.jpg").write_bytes(picture(1))  # the same content twice
    (folder / "dog.png").write_bytes(picture(2, "PNG"))
    (folder / "cat.gif").write_bytes(picture(3, "GIF"))
    (folder / "old.jpg").write_bytes(library_photo)  # already in the library
    (folder / "notes.jpg").write_text("a shopping list, not a photo")
    (folder / "cut.jpg").write_bytes(make_image_bytes(size=(300, 300))[:400])
    huge = noisy_png()
    assert len(huge) > LIMIT
    (folder / "huge.png").write_bytes(huge)
    (folder / "readme.txt").write_text("not an image file")
    (folder / ".hidden.jpg").write_bytes(picture(4))
    (folder / "trip" / "hill.jpg").write_bytes(picture(5))
    return folder


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_folder", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> tuple[CommandError, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_folder", *map(str, args), stdout=out, stderr=err)
    return error.value, out.getvalue(), err.getvalue()


def assert_rows_and_files_match():
    """Every row has its file and thumbnail, and every stored file belongs to a row."""
    expected = []
    for image in Image.objects.all():
        expected += [image.file.name, image.thumbnail.name]
    assert stored_files() == sorted(expected)


BAD_LINES = [
    "Bad file cut.jpg: The image is corrupt or truncated",
    f"Bad file huge.png: The file is larger than the {LIMIT / 2**20:g} MB limit.",
    "Bad file notes.jpg: The file is not an image ImageSim can read.",
]


def bad_lines(err: str) -> list[str]:
    lines = sorted(err.splitlines())
    # The truncation message carries Pillow's own words after it.
    return [line.split(" (")[0] if line.startswith("Bad file cut") else line for line in lines]


def test_it_imports_good_images_skips_duplicates_and_reports_bad_files(photos):
    out, err = run(photos)

    assert out == f"{photos}: 3 imported, 2 already there, 3 bad; 1 other files ignored.\n"
    assert bad_lines(err) == BAD_LINES
    names = sorted(Image.objects.values_list("name", flat=True))
    # One of the two copies of the beach photo, whichever came first.
    assert names in (["beach.jpg", "cat.gif", "dog.png", "uploaded-before.jpg"],
                     ["beach copy.jpg", "cat.gif", "dog.png", "uploaded-before.jpg"])
    assert not Image.objects.filter(is_original=True).exists()
    assert_rows_and_files_match()


def test_new_images_are_queued_for_features_as_uploads_are(photos):
    run(photos)

    imported = Image.objects.exclude(name="uploaded-before.jpg")
    queued = FeatureTask.objects.filter(extractor=fingerprint())
    # The earlier upload was queued when it was uploaded; the import queues its three.
    assert sorted(queued.values_list("image_id", flat=True)) == sorted(
        list(imported.values_list("pk", flat=True))
        + [Image.objects.get(name="uploaded-before.jpg").pk])
    assert all(task.job_id for task in queued)


def test_subfolders_are_imported_only_with_recursive(photos):
    run(photos)
    assert not Image.objects.filter(name="hill.jpg").exists()

    out, err = run(photos, "--recursive")

    assert out == f"{photos}: 1 imported, 5 already there, 3 bad; 1 other files ignored.\n"
    assert Image.objects.filter(name="hill.jpg").exists()
    assert Image.objects.count() == 5
    assert_rows_and_files_match()


def test_a_rerun_imports_nothing_twice(photos):
    run(photos, "--recursive")

    out, _ = run(photos, "--recursive")

    assert out == f"{photos}: 0 imported, 6 already there, 3 bad; 1 other files ignored.\n"
    assert Image.objects.count() == 5
    assert_rows_and_files_match()


def test_originals_are_protected_keep_their_names_and_take_over_earlier_uploads(photos):
    run(photos, "--originals")

    originals = Image.objects.filter(is_original=True)
    assert sorted(originals.values_list("name", flat=True)) in (
        ["beach.jpg", "cat.gif", "dog.png", "uploaded-before.jpg"],
        ["beach copy.jpg", "cat.gif", "dog.png", "uploaded-before.jpg"])
    # Shipped files keep their names where those are free and fit for URLs.
    assert set(originals.values_list("filename", flat=True)) >= {"cat.gif", "dog.png"}
    assert not Image.objects.filter(is_original=False).exists()


def test_quiet_prints_only_the_bad_files(photos):
    out, err = run(photos, "--verbosity", "0")

    assert out == ""
    assert bad_lines(err) == BAD_LINES


def test_a_folder_of_bad_files_only_fails(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "a.jpg").write_text("no")
    (folder / "b.png").write_bytes(b"")

    error, out, err = run_failing(folder)

    assert str(error) == "None of the 2 image files could be imported."
    assert out == f"{folder}: 0 imported, 0 already there, 2 bad.\n"
    assert sorted(err.splitlines()) == ["Bad file a.jpg: The file is not an image ImageSim can read.",
                                        "Bad file b.png: The file is empty."]
    assert not Image.objects.exists()


def test_a_folder_without_images_fails_and_says_why(tmp_path):
    folder = tmp_path / "empty"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jpg").write_bytes(picture(1))

    error, _, _ = run_failing(folder)

    assert "No image files (.bmp, .gif, .jpeg, .jpg, .png, .webp) in" in str(error)
    assert "(--recursive includes subfolders)" in str(error)


def test_a_missing_folder_is_refused(tmp_path):
    error, _, _ = run_failing(tmp_path / "nowhere")

    assert str(error) == f"No folder {tmp_path / 'nowhere'}."


def good_folder(tmp_path, count=6) -> Path:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(count):
        (folder / f"photo-{n}.jpg").write_bytes(picture(100 + n))
    return folder


def saves_fail_after(monkeypatch, allowed: int, error: BaseException) -> None:
    """The store takes ``allowed`` files (an image and its thumbnail are two), then fails."""
    from django.core.files.storage import storages

    backend = type(storages["default"])
    real, calls = backend.save, []

    def save(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) > allowed:
            raise error
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(backend, "save", save)


def test_a_store_that_stops_working_stops_the_import_and_a_rerun_resumes_it(
        tmp_path, monkeypatch):
    folder = good_folder(tmp_path)
    # Two images go in whole; the third's thumbnail is refused after its file was stored.
    saves_fail_after(monkeypatch, 5, OSError("Connection reset"))

    error, out, _ = run_failing(folder)

    assert "The image store refused the file; nothing was stored." in str(error)
    assert "The import stopped. Run the same command again to go on where it stopped." \
        in str(error)
    assert out == f"{folder}: 2 imported, 0 already there, 0 bad.\n"
    assert Image.objects.count() == 2
    assert_rows_and_files_match()  # the third image's file went again with its thumbnail
    assert FeatureTask.objects.count() == 2  # what went in is queued

    monkeypatch.undo()
    out, _ = run(folder)

    assert out == f"{folder}: 4 imported, 2 already there, 0 bad.\n"
    assert Image.objects.count() == 6
    assert len(set(Image.objects.values_list("sha256", flat=True))) == 6
    assert_rows_and_files_match()
    assert FeatureTask.objects.count() == 6


def test_an_interrupted_import_leaves_no_half_stored_image_and_resumes(tmp_path, monkeypatch):
    folder = good_folder(tmp_path)
    saves_fail_after(monkeypatch, 6, KeyboardInterrupt())  # Ctrl+C while the 4th is stored

    error, out, _ = run_failing(folder)

    assert error.returncode == 130
    assert str(error) == "Interrupted. Run the same command again to go on where it stopped."
    assert out == f"{folder}: 3 imported, 0 already there, 0 bad.\n"
    assert_rows_and_files_match()
    assert FeatureTask.objects.count() == 3

    monkeypatch.undo()
    out, _ = run(folder)

    assert out == f"{folder}: 3 imported, 3 already there, 0 bad.\n"
    assert Image.objects.count() == 6
    assert_rows_and_files_match()


def test_a_database_that_refuses_a_write_stops_the_import_with_nothing_half_stored(
        tmp_path, monkeypatch):
    from django.db import OperationalError

    folder = good_folder(tmp_path)
    real, calls = Image.objects.create, []

    def create(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 3:
            raise OperationalError("database is locked")
        return real(**kwargs)

    monkeypatch.setattr(Image.objects, "create", create)

    error, out, _ = run_failing(folder)

    assert str(error) == ("The database refused a write (database is locked). The import "
                          "stopped. Run the same command again to go on where it stopped.")
    assert out == f"{folder}: 2 imported, 0 already there, 0 bad.\n"
    assert_rows_and_files_match()
    assert FeatureTask.objects.count() == 2


def test_images_are_announced_in_bounded_batches_as_the_folder_is_read(tmp_path):
    folder = good_folder(tmp_path, count=5)
    announced, consumed = [], []

    def paths():
        for path in sorted(folder_files(folder)):
            consumed.append(path)
            yield path

    def on_added(sender, images, **kwargs):
        announced.append((len(images), len(consumed)))

    images_added.connect(on_added, dispatch_uid="test-batches")
    try:
        counts = files_import(paths(), batch_size=2)
    finally:
        images_added.disconnect(dispatch_uid="test-batches")

    assert counts.imported == 5
    # Each batch is announced before the next files are even listed.
    assert announced == [(2, 2), (2, 4), (1, 5)]

