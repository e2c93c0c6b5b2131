"""import_original_app with the real ResNet50 (marker realmodel): vectors made the original
app's way (Keras' load_img, preprocess_input, ResNet50 with average pooling) are reused for
the resnet50-gap preset without extracting the library again."""

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
PHOTOS = ["dress_1.jpg", "hat_2.jpg", "shoes_3.jpg", "pants_4.jpg", "shirt_5.jpg"]


def original_app_vectors(paths, weights) -> np.ndarray:
    """The original app's feature loop, as it was."""
    import keras
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    model = keras.applications.ResNet50(weights=weights, include_top=False, pooling="avg")
    batch = np.stack([preprocess_input(img_to_array(load_img(path, target_size=(224, 224))))
                      for path in paths])
    return model.predict(batch, verbose=0).astype(np.float32)


def test_the_original_apps_vectors_are_reused_for_the_gap_preset(tmp_path, settings):
    weights = weights_path()
    names = PHOTOS
    settings.FEATURE_EXTRACTOR = "features.extractors.resnet50.ResNet50Extractor"
    settings.FEATURE_WEIGHTS = weights
    settings.FEATURE_PRESET = "resnet50-gap"
    folder = tmp_path / "old-app"
    (folder / "images").mkdir(parents=True)
    for name in names:
        shutil.copy(ORIGINALS / name, folder / "images" / name)
    ordered = sorted(names)
    np.save(folder / "original_features.npy",
            original_app_vectors([folder / "images" / name for name in ordered], weights))
    np.save(folder / "original_filenames.npy", np.array(ordered))

    out, err = io.StringIO(), io.StringIO()
    call_command("import_original_app", str(folder), stdout=out, stderr=err)

    gap = get_extractor()
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"Its vectors agree with {gap.fingerprint} on {len(names)} images")
    assert lines[-1] == (f"{folder}: {len(names)} imported, 0 already there, 0 bad. "
                         f"{len(names)} vectors reused for {gap.fingerprint}.")
    assert Image.objects.filter(is_original=True).count() == len(names)
    assert FeatureVector.objects.filter(extractor=gap.fingerprint).count() == len(names)
    assert not FeatureTask.objects.exists()
