"""manage.py import_original_app: a made-up library of the original app, with .npy files.

The fake extractor stands in for the original app's preset (settings.ORIGINAL_APP_PRESET),
as the real ResNet50 presets do in production: vectors made with it agree, others do not.
"""

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from features.extractors.loader import get_extractor
from features.models import FeatureTask, FeatureVector
from gallery.models import Image
from tests.helpers import (
    STORED_TOLERANCE,
    distinct_colour,
    make_image_bytes,
    stored_files,
    unit,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]
COUNT = 53  # three more than the original app's 50 originals


def photo(n: int) -> bytes:
    return make_image_bytes("PNG" if n % 3 == 0 else "JPEG", color=distinct_colour(n + 1))


def names() -> list[str]:
    # Numbered as the original app's uploads were: sorted as text, "10.jpg" comes before "2.jpg".
    return [f"{n}.{'png' if n % 3 == 0 else 'jpg'}" for n in range(COUNT)]


def write_library(folder: Path, vectors_of) -> Path:
    """The original app's folder: images/, and its vectors as it saved them (not unit length),
    the first 50 sorted names in the original pair and the rest in the user pair."""
    (folder / "images").mkdir(parents=True)
    datas = {}
    for n, name in enumerate(names()):
        datas[name] = photo(n)
        (folder / "images" / name).write_bytes(datas[name])
    ordered = sorted(names())
    for (features_file, names_file), chunk in [
            (("original_features.npy", "original_filenames.npy"), ordered[:50]),
            (("features.npy", "filenames.npy"), ordered[50:])]:
        np.save(folder / features_file, np.stack([vectors_of(name, datas[name]) * 3.5
                                                  for name in chunk]).astype(np.float32))
        np.save(folder / names_file, np.array(chunk))
    return folder


def extractor_vectors(preset=None):
    extractor = get_extractor(preset=preset)
    return lambda name, data: extractor.extract([data])[0]


@pytest.fixture
def reuse_preset(settings):
    """The configured fake extractor plays the original app's preset."""
    settings.ORIGINAL_APP_PRESET = get_extractor().preset
    return get_extractor()


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_original_app", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    return str(error.value)


def no_model(monkeypatch, extractor):
    """Fail the test if the model runs on more than the agreement sample."""
    real, calls = type(extractor).infer, []

    def infer(self, batch):
        calls.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(type(extractor), "infer", infer)
    return calls


def test_agreeing_vectors_are_reused_and_nothing_is_queued(tmp_path, reuse_preset, monkeypatch):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    calls = no_model(monkeypatch, reuse_preset)

    out, err = run(folder)

    fingerprint = reuse_preset.fingerprint
    assert out.splitlines() == [
        f"{folder}: 53 images (the first 50 in sorted order are originals), vectors for 53 in "
        "original_features.npy, features.npy.",
        f"Its vectors agree with {fingerprint} on 5 images extracted here "
        "(cosine 1.0000 to 1.0000): they are reused.",
        f"{folder}: 53 imported, 0 already there, 0 bad. 53 vectors reused for {fingerprint}.",
    ]
    assert err == ""
    assert calls == [5]  # only the sample went through the model
    assert FeatureVector.objects.filter(extractor=fingerprint).count() == 53
    assert not FeatureTask.objects.exists()
    # Stored as ImageSim stores vectors: unit length, equal to a fresh extraction.
    image = Image.objects.get(filename="7.jpg")
    stored = FeatureVector.objects.get(image=image).vector
    assert np.allclose(stored, reuse_preset.extract([photo(7)])[0], atol=STORED_TOLERANCE)


def test_the_first_50_sorted_images_become_originals_under_their_own_names(tmp_path, reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())

    run(folder)

    originals = sorted(Image.objects.filter(is_original=True).values_list("filename", flat=True))
    assert originals == sorted(names())[:50]
    assert sorted(Image.objects.filter(is_original=False).values_list("filename", flat=True)) \
        == ["7.jpg", "8.jpg", "9.png"]
    # Old links (/images/<name>) keep working: every image kept its name.
    assert sorted(Image.objects.values_list("filename", flat=True)) == sorted(names())
    assert len(stored_files("images")) == 53 and len(stored_files("thumbnails")) == 53


def test_disagreeing_vectors_are_not_reused_and_the_images_are_queued(tmp_path, reuse_preset):
    dim = reuse_preset.dim
    folder = write_library(tmp_path / "old-app",
                           lambda name, data: unit(sum(map(ord, name)), dim))

    out, err = run(folder)

    assert "do not agree with" in err and "they are not reused" in err
    assert out.splitlines()[-1] == (f"{folder}: 53 imported, 0 already there, 0 bad. New images "
                                    f"are queued for features with {reuse_preset.fingerprint}, "
                                    "the configured extractor.")
    assert not FeatureVector.objects.exists()
    assert FeatureTask.objects.filter(extractor=reuse_preset.fingerprint).count() == 53


def test_vectors_of_a_preset_that_does_not_serve_are_kept_and_the_images_still_queued(
        tmp_path, settings):
    # The original app's preset is the 4x4 fake; searches use the configured 8x8 one.
    settings.ORIGINAL_APP_PRESET = "fake-colour-4x4"
    other = get_extractor(preset="fake-colour-4x4")
    configured = get_extractor()
    assert other.fingerprint != configured.fingerprint
    folder = write_library(tmp_path / "old-app", extractor_vectors("fake-colour-4x4"))

    out, _ = run(folder)

    assert out.splitlines()[-1] == (
        f"{folder}: 53 imported, 0 already there, 0 bad. 53 vectors reused for "
        f"{other.fingerprint}. New images are queued for features with "
        f"{configured.fingerprint}, the configured extractor.")
    assert FeatureVector.objects.filter(extractor=other.fingerprint).count() == 53
    assert FeatureTask.objects.filter(extractor=configured.fingerprint).count() == 53


def test_a_rerun_adds_nothing_and_a_half_done_import_is_completed(tmp_path, reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    run(folder)
    # As if the last import had stopped after storing some images but before their vectors.
    FeatureVector.objects.filter(image__filename__in=["1.jpg", "2.jpg"]).delete()

    out, _ = run(folder)

    assert out.splitlines()[-1] == (f"{folder}: 0 imported, 53 already there, 0 bad. "
                                    f"2 vectors reused for {reuse_preset.fingerprint}.")
    assert Image.objects.count() == 53
    assert FeatureVector.objects.count() == 53


def test_bad_images_are_reported_and_the_others_imported(tmp_path, reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    (folder / "images" / "40.jpg").write_text("not a photo")

    out, err = run(folder)

    assert "Bad file 40.jpg: The file is not an image ImageSim can read." in err.splitlines()
    assert out.splitlines()[-1] == (f"{folder}: 52 imported, 0 already there, 1 bad. "
                                    f"52 vectors reused for {reuse_preset.fingerprint}.")


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "filenames.npy").unlink(),
     "features.npy is there but filenames.npy is not"),
    (lambda f: np.save(f / "original_filenames.npy", np.array(sorted(names())[:49])),
     "original_features.npy holds 50 vectors but original_filenames.npy 49 names"),
    (lambda f: np.save(f / "features.npy", np.ones((3, 7), dtype=np.float32)),
     "features.npy holds 7-d vectors; fake-colour-8x8 makes 192-d ones"),
    (lambda f: np.save(f / "filenames.npy", np.array([{"a": 1}] * 3, dtype=object)),
     "filenames.npy cannot be read without unpickling it"),
    (lambda f: (f / "original_features.npy").write_bytes(b"garbage"),
     "original_features.npy cannot be read"),
    (lambda f: np.save(f / "filenames.npy", np.array(sorted(names())[:3])),
     "is listed twice in the vector files"),
])
def test_bad_vector_files_are_refused_before_anything_is_written(tmp_path, reuse_preset,
                                                                 damage, message):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    damage(folder)

    error = run_failing(folder)

    assert message in error
    assert error.endswith("Nothing was imported. Fix the files, or run with --no-vectors to "
                          "import the images and extract them here.")
    assert not Image.objects.exists() and stored_files() == []


def test_a_folder_without_vector_files_needs_no_vectors(tmp_path, reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    for name in ["original_features.npy", "original_filenames.npy", "features.npy",
                 "filenames.npy"]:
        (folder / name).unlink()

    assert "No vector files in" in run_failing(folder)

    out, _ = run(folder, "--no-vectors")

    assert out.splitlines()[-1] == (f"{folder}: 53 imported, 0 already there, 0 bad. New images "
                                    f"are queued for features with {reuse_preset.fingerprint}, "
                                    "the configured extractor.")
    assert FeatureTask.objects.count() == 53 and not FeatureVector.objects.exists()


def test_a_folder_without_images_is_refused(tmp_path):
    (tmp_path / "x").mkdir()

    assert run_failing(tmp_path / "x") == (
        f"No images/ folder in {tmp_path / 'x'}: is it the original app's folder?")


def test_vectors_without_an_image_file_are_reported_and_ignored(tmp_path, reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    (folder / "images" / "8.jpg").unlink()

    out, err = run(folder)

    assert "1 vectors name no file of images/ and are ignored: 8.jpg." in err
    assert out.splitlines()[-1] == (f"{folder}: 52 imported, 0 already there, 0 bad. "
                                    f"52 vectors reused for {reuse_preset.fingerprint}.")


def test_a_vector_that_is_not_finite_is_not_reused_and_its_image_is_queued(tmp_path,
                                                                          reuse_preset):
    folder = write_library(tmp_path / "old-app", extractor_vectors())
    vectors = np.load(folder / "features.npy")
    vectors[1, 4] = np.nan  # the user pair holds 7.jpg, 8.jpg, 9.png in that order
    np.save(folder / "features.npy", vectors)
    originals = np.load(folder / "original_features.npy")
    originals[0] = 0.0  # 0.png, the first image the agreement check would take
    np.save(folder / "original_features.npy", originals)

    out, err = run(folder)

    assert err == ("The vector of 0.png is zero or not finite: not reused.\n"
                   "The vector of 8.jpg is zero or not finite: not reused.\n")
    assert "they are reused" in out
    assert out.splitlines()[-1] == (f"{folder}: 53 imported, 0 already there, 0 bad. "
                                    f"51 vectors reused for {reuse_preset.fingerprint}.")
    assert sorted(FeatureTask.objects.values_list("image__filename", flat=True)) == [
        "0.png", "8.jpg"]


def test_without_a_usable_model_the_vectors_are_not_reused_and_the_images_queued(
        tmp_path, reuse_preset, monkeypatch):
    from core.errors import Unavailable

    def no_weights(self):
        raise Unavailable("No model weights here.")

    monkeypatch.setattr(type(reuse_preset), "check_available", no_weights)
    folder = write_library(tmp_path / "old-app", extractor_vectors())

    out, err = run(folder)

    assert err == ("The original app's vectors cannot be checked (No model weights here.): they "
                   "are not reused; its images are queued for extraction.\n")
    assert not FeatureVector.objects.exists()
    assert FeatureTask.objects.count() == 53


def test_an_extractor_without_the_original_apps_preset_queues_the_images(tmp_path, settings):
    settings.ORIGINAL_APP_PRESET = "resnet50-gap"  # which the fake extractor has not
    folder = write_library(tmp_path / "old-app", extractor_vectors())

    out, err = run(folder)

    assert err == (f"{settings.FEATURE_EXTRACTOR} has no preset resnet50-gap: the original app's "
                   "vectors cannot be reused; its images are queued for extraction.\n")
    assert not FeatureVector.objects.exists()
    assert FeatureTask.objects.count() == 53
    assert Image.objects.filter(is_original=True).count() == 50
