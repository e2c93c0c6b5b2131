"""import_original_app with the real ResNet50 (marker realmodel): vectors made the original
app's way (Keras' load_img, preprocess_input, ResNet50 with average pooling) are reused for
the resnet50-gap preset without extracting the library again; vectors made another way
(ImageSim's default preset) are not."""

import io
import shutil

import numpy as np
import pytest
from django.core.management import call_command

from features.extractors.loader import get_extractor
from features.models import FeatureTask, FeatureVector
from gallery.models import Image
from tests.features.test_realmodel import ORIGINALS, weights_path

pytestmark = [pytest.mark.realmodel, pytest.mark.django_db(transaction=True)]
PHOTOS = sorted(["dress_1.jpg", "hat_2.jpg", "shoes_3.jpg", "pants_4.jpg", "shirt_5.jpg"])


def original_app_vectors(paths, weights) -> np.ndarray:
    """The original app's feature loop, as it was."""
    import keras
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    model = keras.applications.ResNet50(weights=weights, include_top=False, pooling="avg")
    batch = np.stack([preprocess_input(img_to_array(load_img(path, target_size=(224, 224))))
                      for path in paths])
    return model.predict(batch, verbose=0).astype(np.float32)


@pytest.fixture
def gap_configured(settings):
    settings.FEATURE_EXTRACTOR = "features.extractors.resnet50.ResNet50Extractor"
    settings.FEATURE_WEIGHTS = weights_path()
    settings.FEATURE_PRESET = "resnet50-gap"
    return get_extractor()


def old_app(folder, vectors_of):
    (folder / "images").mkdir(parents=True)
    for name in PHOTOS:
        shutil.copy(ORIGINALS / name, folder / "images" / name)
    np.save(folder / "original_features.npy",
            vectors_of([folder / "images" / name for name in PHOTOS]))
    np.save(folder / "original_filenames.npy", np.array(PHOTOS))
    return folder


def run(folder) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_original_app", str(folder), stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_the_original_apps_vectors_are_reused_for_the_gap_preset(tmp_path, gap_configured):
    folder = old_app(tmp_path / "old-app",
                     lambda paths: original_app_vectors(paths, weights_path()))

    lines, err = run(folder)

    fingerprint = gap_configured.fingerprint
    assert lines[1].startswith(f"Its vectors agree with {fingerprint} on 5 images")
    assert lines[-1] == (f"{folder}: 5 imported, 0 already there, 0 bad. "
                         f"5 vectors reused for {fingerprint}.")
    assert Image.objects.filter(is_original=True).count() == 5
    assert FeatureVector.objects.filter(extractor=fingerprint).count() == 5
    assert not FeatureTask.objects.exists()


def test_vectors_made_another_way_are_not_reused(tmp_path, gap_configured, settings):
    gem = get_extractor(preset="resnet50-gem")
    folder = old_app(tmp_path / "old-app",
                     lambda paths: gem.extract([path.read_bytes() for path in paths]))

    lines, err = run(folder)

    assert f"do not agree with {gap_configured.fingerprint} on 5 images" in err
    assert not FeatureVector.objects.exists()
    assert FeatureTask.objects.filter(extractor=gap_configured.fingerprint).count() == 5
