"""The process's classifier head, from LABEL_HEAD_WEIGHTS and LABEL_CLASS_INDEX.

"imagenet" takes Keras' own ResNet50 top layer and class index (downloaded once, into
Keras' cache); paths load a local ``.npz`` (``kernel``, ``bias``) and class index JSON (for
machines without internet; the settings point them at ../shared/models when it is there); "off" for
either makes no labels. A head that cannot be loaded is logged once and not retried until
the settings change: labels are an extra, the library works without them.
"""

import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from labels.head import Head, head_from_arrays, head_load

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: dict[tuple[str, str], Head | None] = {}


def get_head() -> Head | None:
    """The configured head, loaded once per process; None when off or unusable."""
    key = (settings.LABEL_HEAD_WEIGHTS, settings.LABEL_CLASS_INDEX)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(*key)
        return _loaded[key]


def head_forget() -> None:
    """Forget loaded heads (tests change the settings)."""
    with _lock:
        _loaded.clear()


def _load(weights: str, class_index: str) -> Head | None:
    if "off" in (weights.strip().lower(), class_index.strip().lower()):
        return None
    try:
        if weights == "imagenet" or class_index == "imagenet":
            return _keras_head(weights, class_index)
        return head_load(Path(weights).expanduser(), Path(class_index).expanduser())
    except Exception as exc:  # a missing file, a download refused, a malformed array
        logger.warning("No image labels: the classifier (LABEL_HEAD_WEIGHTS=%s, "
                       "LABEL_CLASS_INDEX=%s) could not be loaded: %s", weights, class_index, exc)
        return None


def _keras_head(weights: str, class_index: str) -> Head:
    """Keras' ResNet50 classifier layer and/or class index, where not given by path."""
    import keras

    if weights == "imagenet":
        model = keras.applications.ResNet50(weights="imagenet", include_top=True)
        kernel, bias = model.get_layer("predictions").get_weights()
    else:
        with np.load(Path(weights).expanduser()) as arrays:
            kernel, bias = arrays["kernel"], arrays["bias"]
    if class_index == "imagenet":
        from keras.src.applications.imagenet_utils import CLASS_INDEX_PATH

        class_index = keras.utils.get_file("imagenet_class_index.json", CLASS_INDEX_PATH,
                                           cache_subdir="models")
    return head_from_arrays(kernel, bias, Path(class_index).expanduser().read_bytes())
