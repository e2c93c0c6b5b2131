"""The extractor interface, with the fake; the ResNet50 extractor's behaviour without weights."""

import numpy as np
import pytest

from core.errors import InvalidInput, Unavailable
from features.extractors.fake import FakeExtractor
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


def test_resnet50_without_its_weights_file_says_how_to_provide_them(tmp_path):
    extractor = ResNet50Extractor(weights=str(tmp_path / "missing.h5"), precision="float32")

    with pytest.raises(Unavailable) as error:
        extractor.check_available()
    with pytest.raises(Unavailable) as on_use:
        extractor.extract([make_image_bytes()])

    assert error.value.status_code == 503
    assert "FEATURE_WEIGHTS" in error.value.message and ".h5" in error.value.message
    assert on_use.value.message == error.value.message


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


def test_resnet50_preprocessing_matches_keras_preprocess_input():
    keras_resnet50 = pytest.importorskip("keras.applications.resnet50")
    from features.extractors.imaging import open_rgb

    data = make_image_bytes(size=(300, 200), color=(10, 120, 240))
    ours = ResNet50Extractor(weights="imagenet").preprocess(data)
    picture = np.asarray(open_rgb(data, size=(224, 224)), dtype=np.float32)

    assert ours.shape == (224, 224, 3)
    assert np.allclose(ours, keras_resnet50.preprocess_input(picture.copy()), atol=1e-4)


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
