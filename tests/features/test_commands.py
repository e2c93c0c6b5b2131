"""precompute_originals and seed_originals: idempotent, the load path, a wrong fingerprint."""

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from features.extractors.loader import get_extractor
from features.models import FeatureJob, FeatureTask, FeatureVector
from gallery.models import Image
from tests.helpers import make_image_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


@pytest.fixture
def originals(tmp_path, settings):
    folder = tmp_path / "originals"
    folder.mkdir()
    for n, colour in enumerate([(200, 10, 10), (10, 200, 10), (10, 10, 200)]):
        (folder / f"shipped-{n}.jpg").write_bytes(make_image_bytes(color=colour))
    (folder / "LICENSES.md").write_text("not an image: skipped")
    settings.FEATURE_ORIGINALS_DIR = folder
    settings.FEATURE_ORIGINALS_FILE = tmp_path / "fixtures" / "original_features.npz"
    return folder


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_precompute_imports_originals_extracts_them_and_writes_the_features_file(originals,
                                                                                 settings):
    out, _ = run("precompute_originals")

    fingerprint = get_extractor().fingerprint
    images = list(Image.objects.order_by("filename"))
    assert [(i.filename, i.is_original) for i in images] == [
        ("shipped-0.jpg", True), ("shipped-1.jpg", True), ("shipped-2.jpg", True)]
    assert FeatureVector.objects.filter(extractor=fingerprint).count() == 3
    with np.load(settings.FEATURE_ORIGINALS_FILE) as data:
        assert str(data["extractor"]) == fingerprint
        assert list(data["filenames"]) == ["shipped-0.jpg", "shipped-1.jpg", "shipped-2.jpg"]
        assert list(data["sha256"]) == [i.sha256 for i in images]
        expected = get_extractor().extract([(originals / i.filename).read_bytes() for i in images])
        assert np.allclose(data["vectors"], expected, atol=1e-6)
    assert f"Originals: 3 in {originals}, 3 added." in out
    # Nothing is left queued: the vectors are there already.
    assert not FeatureTask.objects.exists() and not FeatureJob.objects.exists()


def test_precompute_twice_adds_nothing_the_second_time(originals):
    run("precompute_originals")

    out, _ = run("precompute_originals")

    assert f"Originals: 3 in {originals}, 0 added." in out
    assert Image.objects.count() == 3 and FeatureVector.objects.count() == 3


def test_precompute_takes_another_folder(tmp_path, originals, settings):
    other = tmp_path / "more"
    other.mkdir()
    (other / "extra.png").write_bytes(make_image_bytes("PNG", color=(90, 90, 9)))

    run("precompute_originals", str(other))

    assert list(Image.objects.values_list("filename", "is_original")) == [("extra.png", True)]


def test_precompute_of_a_missing_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="No folder"):
        run("precompute_originals", str(tmp_path / "nowhere"))


def test_load_seeds_vectors_from_the_file_without_the_model(originals, settings, monkeypatch):
    run("precompute_originals")
    shipped = settings.FEATURE_ORIGINALS_FILE.read_bytes()
    Image.objects.all().delete()
    settings.FEATURE_ORIGINALS_FILE.write_bytes(shipped)
    monkeypatch.setattr(type(get_extractor()), "infer", lambda *a: pytest.fail("model ran"))

    out, _ = run("precompute_originals", "--load")

    assert Image.objects.filter(is_original=True).count() == 3
    assert FeatureVector.objects.count() == 3
    assert f"Original vectors: 3 loaded from {settings.FEATURE_ORIGINALS_FILE}." in out


def test_load_refuses_vectors_of_another_extractor(originals, settings):
    run("precompute_originals")
    rewrite_fingerprint(settings.FEATURE_ORIGINALS_FILE, "resnet50-other-weights")
    FeatureVector.objects.all().delete()

    with pytest.raises(CommandError) as error:
        run("precompute_originals", "--load")

    assert "was made by extractor resnet50-other-weights" in str(error.value)
    assert f"uses {get_extractor().fingerprint}" in str(error.value)
    assert not FeatureVector.objects.exists()


def test_seed_imports_originals_and_loads_their_vectors(originals, settings):
    run("precompute_originals")
    Image.objects.all().delete()

    out, err = run("seed_originals")

    assert out == (f"Originals: 3 in {originals}, 3 added.\n"
                   f"Original vectors: 3 loaded from {settings.FEATURE_ORIGINALS_FILE}.\n")
    assert err == ""
    assert FeatureVector.objects.count() == 3
    assert not FeatureTask.objects.exists()


def test_seed_is_idempotent(originals, settings):
    run("precompute_originals")
    run("seed_originals")

    out, _ = run("seed_originals")

    assert out == (f"Originals: 3 in {originals}, 0 added.\n"
                   f"Original vectors: 0 loaded from {settings.FEATURE_ORIGINALS_FILE}.\n")
    assert Image.objects.count() == 3 and FeatureVector.objects.count() == 3


def test_seed_without_a_features_file_imports_images_and_says_so(originals, settings):
    out, err = run("seed_originals")

    assert out == (
        f"Originals: 3 in {originals}, 3 added.\n"
        f"No features file at {settings.FEATURE_ORIGINALS_FILE}: originals have no precomputed "
        "vectors (run 'manage.py precompute_originals', or generate features in the app).\n")
    assert Image.objects.count() == 3 and not FeatureVector.objects.exists()
    # They wait for the worker like any upload.
    assert FeatureTask.objects.count() == 3


def test_seed_without_a_fixtures_folder_does_nothing(tmp_path, settings):
    settings.FEATURE_ORIGINALS_DIR = tmp_path / "none"

    out, err = run("seed_originals")

    assert out == f"No originals folder at {tmp_path / 'none'}: nothing to seed.\n"
    assert not Image.objects.exists()


def test_seed_refuses_vectors_of_another_extractor_but_lets_the_server_start(originals,
                                                                             settings):
    run("precompute_originals")
    rewrite_fingerprint(settings.FEATURE_ORIGINALS_FILE, "resnet50-other-weights")
    FeatureVector.objects.all().delete()

    out, err = run("seed_originals")

    assert out == f"Originals: 3 in {originals}, 0 added.\n"
    assert err.startswith(f"Original vectors not loaded: The features file "
                          f"{settings.FEATURE_ORIGINALS_FILE} was made by extractor "
                          "resnet50-other-weights")
    assert not FeatureVector.objects.exists()


def test_an_upload_of_a_shipped_image_becomes_original_when_seeded(originals):
    from gallery.services import image_create

    upload = image_create(name="mine.jpg", data=(originals / "shipped-0.jpg").read_bytes()).image

    run("seed_originals")

    upload.refresh_from_db()
    assert upload.is_original and Image.objects.count() == 3


def rewrite_fingerprint(path, fingerprint):
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["extractor"] = np.array(fingerprint)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def test_seed_of_a_damaged_file_reports_it(originals, settings):
    settings.FEATURE_ORIGINALS_FILE.parent.mkdir(parents=True)
    settings.FEATURE_ORIGINALS_FILE.write_bytes(b"not a zip")

    out, err = run("seed_originals")

    assert err.startswith(f"Original vectors not loaded: The features file "
                          f"{settings.FEATURE_ORIGINALS_FILE} cannot be read")




def test_seed_without_model_weights_says_how_to_provide_them(originals, settings, monkeypatch,
                                                             tmp_path):
    from features.extractors.resnet50 import ResNet50Extractor

    run("precompute_originals")
    Image.objects.all().delete()
    missing = ResNet50Extractor(weights=str(tmp_path / "none.h5"), precision="float32")
    monkeypatch.setattr("features.management.commands.seed_originals.get_extractor",
                        lambda: missing)

    out, err = run("seed_originals")

    assert out == f"Originals: 3 in {originals}, 3 added.\n"
    assert err == (f"Original vectors not loaded: The ResNet50 weights file {tmp_path / 'none.h5'}"
                   " does not exist. Set FEATURE_WEIGHTS to the path of a local ResNet50 weights "
                   "file (resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5), or to 'imagenet' "
                   "on a machine with internet access, and restart ImageSim.\n")
    assert Image.objects.count() == 3 and not FeatureVector.objects.exists()


MISNAMED = "The file is named .png but its content is JPEG: rename it to .jpg."


@pytest.fixture
def bad_originals(originals):
    (originals / "broken.jpg").write_bytes(b"not an image at all")
    (originals / "misnamed.png").write_bytes(make_image_bytes(color=(90, 90, 90)))
    return originals


def test_seed_skips_bad_originals_with_a_warning_each_and_lets_the_server_start(bad_originals,
                                                                               settings):
    out, err = run("seed_originals")

    assert out.startswith(f"Originals: 3 in {bad_originals}, 3 added.\n")
    assert err == ("Original skipped: broken.jpg: The file is not an image ImageSim can read.\n"
                   "Original skipped: misnamed.png: " + MISNAMED + "\n")
    assert sorted(Image.objects.values_list("filename", flat=True)) == [
        "shipped-0.jpg", "shipped-1.jpg", "shipped-2.jpg"]


def test_precompute_refuses_a_folder_with_a_bad_original_and_names_it(bad_originals, settings):
    with pytest.raises(CommandError) as error:
        run("precompute_originals")

    assert str(error.value) == (
        "Some originals cannot be imported; fix or remove them and run again: "
        "broken.jpg: The file is not an image ImageSim can read.; "
        "misnamed.png: " + MISNAMED)
    assert not settings.FEATURE_ORIGINALS_FILE.exists()



@pytest.fixture
def refusing_store(monkeypatch):
    from django.core.files.storage import storages

    def save(self, name, *args, **kwargs):
        raise OSError("Connection reset")

    monkeypatch.setattr(type(storages["default"]), "save", save)


def test_seed_with_a_store_that_refuses_says_so_and_lets_the_server_start(originals,
                                                                         refusing_store):
    out, err = run("seed_originals")

    assert out == ""
    assert err == ("Originals not seeded: The image store refused the file (Connection reset); "
                   "nothing was stored. Try again later.\n")
    assert not Image.objects.exists()


def test_precompute_with_a_store_that_refuses_stops_and_says_so(originals, refusing_store,
                                                                settings):
    with pytest.raises(CommandError) as error:
        run("precompute_originals")

    assert str(error.value) == ("The image store refused the file (Connection reset); nothing "
                                "was stored. Try again later.")
    assert not Image.objects.exists() and not settings.FEATURE_ORIGINALS_FILE.exists()
