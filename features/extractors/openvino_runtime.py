"""ResNet50 on OpenVINO's CPU runtime: the default way ImageSim runs the model.

On these CPUs it runs a batch about five times faster than TensorFlow (bfloat16 on AMX:
about 6 ms an image against 30 ms) and starts in a fraction of a second, since it needs
neither TensorFlow nor Keras once the model is converted. Converting does need them:
Keras builds ResNet50 from the weights file and OpenVINO converts that model. The
converted model is kept in FEATURE_MODEL_CACHE, so each machine converts once (about 10
seconds) and every later process, web or worker, loads it directly.
"""

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# Part of the converted file's name: change it when the conversion changes.
CONVERSION = "keras-resnet50-notop|v1"


def converted_path(*, cache_dir: Path, identity: str, size: int) -> Path:
    """Where the model converted from these weights for this input size is kept."""
    key = hashlib.sha256(f"{CONVERSION}|{identity}|{size}".encode()).hexdigest()[:16]
    return cache_dir / f"resnet50-{key}.xml"


def feature_maps_model(*, build_keras: Callable, cache_dir: Path, identity: str, size: int):
    """The OpenVINO model of ResNet50's last feature maps: from the cache, or converted
    from ``build_keras()`` (a Keras ResNet50 without top) and cached for next time."""
    import openvino as ov

    path = converted_path(cache_dir=cache_dir, identity=identity, size=size)
    core = ov.Core()
    if path.is_file() and path.with_suffix(".bin").is_file():
        return core.read_model(path)
    keras_model = build_keras()
    with warnings.catch_warnings():
        # OpenVINO traces the model with its inputs in a list; Keras notes that the
        # structure differs from the one it was built with, which changes nothing.
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        model = ov.convert_model(keras_model)
    try:
        _save(ov, model, path)
    except OSError as exc:
        # Still usable from memory; the next process converts again.
        logger.warning("Could not keep the converted ResNet50 in %s (%s)", cache_dir, exc)
    else:
        logger.info("Converted ResNet50 for OpenVINO into %s", path)
    return model


def _save(ov, model, path: Path) -> None:
    """Write the model so that another process never reads half a file: both files go to
    a scratch folder beside the cache, then the weights and last the description (whose
    presence means "ready") are renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".converting-") as scratch:
        staged = Path(scratch) / path.name
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), path.with_suffix(".bin"))
        os.replace(staged, path)


def compiled_runner(model, *, precision: str) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch (n, size, size, 3) to its float32 feature maps,
    computed in ``precision`` ("bfloat16" or "float32"); safe to call from any thread."""
    import openvino as ov

    hint = "bf16" if precision == "bfloat16" else "f32"
    compiled = ov.Core().compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": hint,
        # One request at a time, each using every core: a search waits for no batch.
        "PERFORMANCE_HINT": "LATENCY",
    })
    request = compiled.create_infer_request()
    lock = threading.Lock()

    def run(batch: np.ndarray) -> np.ndarray:
        with lock:
            # share_outputs=False: the result is a copy, not the request's own buffer.
            return request.infer(batch, share_outputs=False)[0]

    return run
