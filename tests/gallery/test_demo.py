"""The demo library: seeded by bin/serve unless DEMO_ORIGINALS is off, removed by remove_demo."""

import io

import pytest
from django.core.management import CommandError, call_command

from features.extractors.loader import get_extractor
from features.models import FeatureVector
from gallery.models import Image
from gallery.services import images_delete
from tests.helpers import distinct_colour, make_image_bytes, stored_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


@pytest.fixture
def demo(tmp_path, settings):
    """A demo folder of three photos with their precomputed vectors, as shipped."""
    folder = tmp_path / "originals"
    folder.mkdir()
    for n in range(3):
        (folder / f"demo-{n}.jpg").write_bytes(make_image_bytes(color=distinct_colour(n + 100)))
    (folder / "LICENSES.md").write_text("not an image")
    settings.FEATURE_ORIGINALS_DIR = folder
    settings.FEATURE_ORIGINALS_FILE = tmp_path / "original_features.npz"
    run("precompute_originals")
    # A library that has not seen them yet: rows and files gone.
    Image.objects.update(is_original=False)
    images_delete(images=list(Image.objects.all()))
    assert stored_files() == []
    return folder


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_shipped_demo_is_the_fifty_clothing_photos_with_their_licence():
    from django.conf import settings

    names = sorted(p.name for p in settings.FEATURE_ORIGINALS_DIR.glob("*.jpg"))
    kinds = sorted({name.rsplit("_", 1)[0] for name in names})
    licences = (settings.FEATURE_ORIGINALS_DIR / "LICENSES.md").read_text()

    assert len(names) == 50
    assert kinds == ["dress", "hat", "longsleeve", "outwear", "pants", "shirt", "shoes",
                     "shorts", "skirt", "t-shirt"]
    assert "CC0-1.0" in licences and "clothing-dataset-small" in licences
    assert all(name in licences for name in names)
    assert (settings.FEATURE_ORIGINALS_DIR / "CC0-1.0.txt").is_file()


def test_seeding_adds_the_demo_originals_with_their_vectors(demo):
    out = run("seed_originals")

    assert sorted(Image.objects.values_list("name", "is_original")) == [
        ("demo-0.jpg", True), ("demo-1.jpg", True), ("demo-2.jpg", True)]
    assert FeatureVector.objects.filter(extractor=get_extractor().fingerprint).count() == 3
    assert f"Originals: 3 in {demo}, 3 added." in out


def test_with_demo_originals_off_the_library_starts_without_them(demo, settings):
    settings.DEMO_ORIGINALS = False

    out = run("seed_originals")

    assert out == "DEMO_ORIGINALS is off: the demo originals are not added.\n"
    assert not Image.objects.exists()


def test_remove_demo_deletes_the_demo_originals_rows_files_and_vectors(demo, add_image):
    run("seed_originals")
    upload = add_image("mine.jpg")

    out = run("remove_demo")

    assert out == "Removed 3 demo originals; bin/serve will not add them again.\n"
    assert list(Image.objects.all()) == [upload]
    assert not FeatureVector.objects.filter(image__name__startswith="demo-").exists()
    assert sorted(stored_files()) == sorted([upload.file.name, upload.thumbnail.name])


def test_a_removed_demo_is_not_seeded_again(demo):
    run("seed_originals")
    run("remove_demo")

    out = run("seed_originals")

    assert out == ("The demo originals were removed from this library (manage.py remove_demo): "
                   "not added again.\n")
    assert not Image.objects.exists()


def test_remove_demo_leaves_other_originals_alone(demo, add_image):
    run("seed_originals")
    other = add_image("kept.jpg", is_original=True, data=make_image_bytes(color=(1, 2, 3)))

    run("remove_demo")

    assert list(Image.objects.all()) == [other]


def test_remove_demo_without_the_originals_folder_says_what_to_set(settings, tmp_path):
    settings.FEATURE_ORIGINALS_DIR = tmp_path / "none"

    with pytest.raises(CommandError, match="No originals folder at .*none: it says which images "
                                           r"are the demo \(set FEATURE_ORIGINALS_DIR\)."):
        run("remove_demo")
