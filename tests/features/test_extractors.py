"""The extractor interface, with the fake; the ResNet50 extractor's presets and its
behaviour without weights."""

import io

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import Image as PILImage

from core.errors import InvalidInput, Unavailable
from features.checks import check_extractor_settings
from features.extractors.fake import FakeExtractor
from features.extractors.loader import get_extractor
from features.extractors.precision import choose_precision, cpu_flags, cpu_has_native_bf16
from features.extractors.resnet50 import ResNet50Extractor, weights_identity
from tests.helpers import make_image_bytes


def test_it_returns_one_unit_length_float32_row_per_image():
    extractor = FakeExtractor()
    images = [make_image_bytes(color=(200, 30, 30)), make_image_bytes("PNG", color=(0, 90, 250))]

    rows = extractor.extract(images)

    assert rows.dtype == np.float32
    assert rows.shape == (2, extractor.dim)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_it_is_deterministic_and_gives_alike_images_alike_vectors():
    extractor = FakeExtractor()
    red, dark_red, blue = (make_image_bytes(color=c) for c in
                           [(220, 20, 20), (200, 30, 30), (20, 20, 220)])

    first, again = extractor.extract([red]), extractor.extract([red])
    rows = extractor.extract([red, dark_red, blue])

    assert np.array_equal(first, again)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_it_returns_an_empty_matrix_for_no_images():
    assert FakeExtractor().extract([]).shape == (0, FakeExtractor.dim)


def test_it_rejects_a_file_that_is_not_an_image():
    with pytest.raises(InvalidInput) as error:
        FakeExtractor().extract([b"plain text, not a picture"])

    assert error.value.code == "not_an_image"


def test_it_rejects_a_truncated_image():
    with pytest.raises(InvalidInput) as error:
        FakeExtractor().preprocess(make_image_bytes(size=(300, 300))[:400])

    assert error.value.code == "corrupt_image"


def test_resnet50_without_its_weights_file_says_how_to_provide_them(tmp_path, caplog):
    extractor = ResNet50Extractor(weights=str(tmp_path / "missing.h5"), precision="float32")

    with pytest.raises(Unavailable) as error:
        extractor.check_available()
    with pytest.raises(Unavailable) as on_use:
        extractor.extract([make_image_bytes()])

    assert error.value.status_code == 503
    assert "FEATURE_WEIGHTS" in error.value.message and str(tmp_path) not in error.value.message
    assert on_use.value.message == error.value.message
    # The operator learns where it looked, once.
    assert caplog.text.count(f"The ResNet50 weights file {tmp_path / 'missing.h5'} does not "
                             "exist. Set FEATURE_WEIGHTS to the path of a local ResNet50 "
                             "weights file") == 1


def test_resnet50_fingerprint_names_weights_and_preprocessing_but_not_precision(tmp_path):
    weights = tmp_path / "weights.h5"
    weights.write_bytes(b"w" * 3_000_000)
    other = tmp_path / "other.h5"
    other.write_bytes(b"w" * 2_999_999 + b"x")

    f32 = ResNet50Extractor(weights=str(weights), precision="float32").fingerprint
    bf16 = ResNet50Extractor(weights=str(weights), precision="bfloat16").fingerprint
    changed = ResNet50Extractor(weights=str(other), precision="float32").fingerprint

    assert f32 == bf16  # bfloat16 vectors compare with float32 ones (cosine >= 0.999)
    assert f32 != changed
    assert f32.startswith("resnet50-") and len(f32) <= 100
    assert weights_identity(str(weights)) == weights_identity(str(weights))


def halves(size, first, second, *, orientation=None) -> bytes:
    """A JPEG whose left half is ``first`` and right half ``second`` (EXIF orientation optional)."""
    picture = PILImage.new("RGB", size, second)
    picture.paste(first, (0, 0, size[0] // 2, size[1]))
    exif = PILImage.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def as_rgb(preprocessed):
    """Undo the caffe-style preprocessing: BGR minus the ImageNet means, back to RGB 0..255."""
    return (preprocessed + np.array([103.939, 116.779, 123.68], np.float32))[..., ::-1]


RED, GREEN, BLUE = (220, 20, 20), (20, 200, 20), (20, 20, 220)


def test_the_default_preset_keeps_the_middle_of_a_photo_without_stretching_it():
    picture = PILImage.new("RGB", (900, 300), RED)
    picture.paste(GREEN, (300, 0, 600, 300))  # the middle third: the centre square
    out = io.BytesIO()
    picture.save(out, "PNG")

    rgb = as_rgb(ResNet50Extractor(weights="imagenet").preprocess(out.getvalue()))

    assert rgb.shape == (224, 224, 3)
    assert np.abs(rgb - GREEN).max() <= 1


def test_the_default_preset_turns_a_photo_upright_first():
    # Stored left red / right blue; EXIF orientation 6 says "rotate 90 degrees clockwise
    # to view": upright, red is on top.
    rgb = as_rgb(ResNet50Extractor(weights="imagenet").preprocess(
        halves((400, 200), RED, BLUE, orientation=6)))

    assert np.abs(rgb[20, 20] - RED).max() < 12 and np.abs(rgb[20, 200] - RED).max() < 12
    assert np.abs(rgb[200, 20] - BLUE).max() < 12 and np.abs(rgb[200, 200] - BLUE).max() < 12


def test_the_default_preset_shrinks_a_large_photo_to_the_same_picture_as_a_small_one():
    large = ResNet50Extractor(weights="imagenet").preprocess(halves((4000, 3000), RED, BLUE))
    small = ResNet50Extractor(weights="imagenet").preprocess(halves((400, 300), RED, BLUE))

    assert large.shape == small.shape == (224, 224, 3)
    # Equal away from the edge between the halves, where JPEG blurs differently.
    assert np.abs(large[:, :100] - small[:, :100]).max() < 12
    assert np.abs(large[:, 124:] - small[:, 124:]).max() < 12


def test_the_gap_preset_reads_a_photo_exactly_as_the_original_apps_load_img(tmp_path):
    keras_resnet50 = pytest.importorskip("keras.applications.resnet50")
    from keras.utils import img_to_array, load_img

    path = tmp_path / "photo.jpg"
    path.write_bytes(halves((300, 200), RED, BLUE, orientation=6))

    ours = ResNet50Extractor(weights="imagenet", preset="resnet50-gap").preprocess(
        path.read_bytes())
    theirs = keras_resnet50.preprocess_input(img_to_array(load_img(path, target_size=(224, 224))))

    assert np.array_equal(ours, theirs)


def test_each_resnet50_preset_has_its_own_fingerprint(tmp_path):
    weights = tmp_path / "weights.h5"
    weights.write_bytes(b"w" * 3_000_000)

    default = ResNet50Extractor(weights=str(weights))
    gem = ResNet50Extractor(weights=str(weights), preset="resnet50-gem")
    gap = ResNet50Extractor(weights=str(weights), preset="resnet50-gap")

    assert default.preset == "resnet50-gem" and default.fingerprint == gem.fingerprint
    assert gem.fingerprint.startswith("resnet50-gem-")
    assert gap.fingerprint.startswith("resnet50-gap-")


def test_the_preset_setting_chooses_the_extractors_preset(settings):
    settings.FEATURE_PRESET = "fake-colour-4x4"

    extractor = get_extractor()

    assert (extractor.preset, extractor.dim, extractor.fingerprint) == (
        "fake-colour-4x4", 48, "fake-colour-4x4-v1")
    assert extractor.extract([make_image_bytes()]).shape == (1, 48)


def test_a_preset_the_extractor_does_not_have_is_refused_naming_the_setting(settings):
    settings.FEATURE_PRESET = "resnet50-gem"  # the fake extractor's presets are its own

    with pytest.raises(ImproperlyConfigured) as error:
        get_extractor()

    assert str(error.value) == (
        "FEATURE_PRESET must be one of fake-colour-8x8, fake-colour-4x4 for "
        "features.extractors.fake.FakeExtractor, not 'resnet50-gem'.")
    assert [e.id for e in check_extractor_settings(None)] == ["features.E001"]


@pytest.mark.parametrize(("setting", "cpu_bf16", "gpus", "expected"), [
    ("auto", False, [], "float32"),
    ("auto", True, [], "bfloat16"),
    ("auto", False, [(8, 0)], "bfloat16"),
    ("auto", True, [(7, 5)], "float32"),
    ("float32", True, [(9, 0)], "float32"),
    ("bfloat16", False, [], "bfloat16"),
])
def test_it_uses_bfloat16_only_where_the_hardware_runs_it_unless_forced(setting, cpu_bf16, gpus,
                                                                      expected):
    assert choose_precision(setting, cpu_bf16=cpu_bf16, gpu_capabilities=gpus) == expected


def test_it_reads_bfloat16_support_from_cpu_flags():
    assert cpu_flags("processor: 0\nflags\t\t: fpu sse avx2 amx_bf16\n") == {
        "fpu", "sse", "avx2", "amx_bf16"}
    assert cpu_has_native_bf16({"avx2", "avx512_bf16"})
    assert not cpu_has_native_bf16({"avx2", "avx512f"})
