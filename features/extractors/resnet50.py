"""ResNet50 (ImageNet weights, no classifier): 2048-d vectors, framed and pooled by a preset.

The model runs on OpenVINO (features/extractors/openvino_runtime.py; the default, for
CPUs) or on TensorFlow (FEATURE_RUNTIME=tensorflow, for NVIDIA GPUs). This module alone
imports TensorFlow and Keras, and only to build the TensorFlow model or to convert one
for OpenVINO (once per machine).

Fingerprint: the preset's name, then a hash of model name + weights identity + the
preset's recipe (features/extractors/presets.py).

Runtime and precision are deliberately NOT part of the fingerprint: OpenVINO's vectors
stay within cosine 0.9999 of TensorFlow's, bfloat16 ones within 0.999 of float32 ones,
so a library extracted on one machine and queries made on another compare correctly,
and scale-out workers on mixed hardware share one index instead of each re-extracting
the whole library.
"""

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from core.errors import Unavailable
from core.vectors import normalise
from features.extractors.base import Extractor
from features.extractors.folding import fold_batch_norms
from features.extractors.imaging import centre_crop_sampled, squash_nearest
from features.extractors.precision import choose_precision, cpu_has_native_bf16
from features.extractors.presets import RESNET50_PRESETS, Preset

logger = logging.getLogger(__name__)

# resnet50.preprocess_input ("caffe" mode): RGB -> BGR, minus the ImageNet channel means.
_BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_MB = 1024 * 1024
# A converted copy of the Keras ImageNet weights (for machines without internet) holds the
# same tensor values as the file Keras downloads, so both get one identity and precomputed
# vectors move between machines with and without internet.
KNOWN_WEIGHTS = {"94760440:8a14391596d604a5efde080585746464c3060550": "imagenet"}

_identity_cache: dict[tuple, str] = {}
NO_WEIGHTS_HELP = (
    "Set FEATURE_WEIGHTS to the path of a local ResNet50 weights file "
    "(resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5), or to 'imagenet' on a "
    "machine with internet access, and restart ImageSim."
)
# What a client is told: where the weights are, and Keras' or OpenVINO's own words, are for
# the server's log (the operator's commands print them too).
NO_WEIGHTS = ("The model weights are not available, so features cannot be made and search by "
              "upload is off. An administrator finds why in the server's log and sets "
              "FEATURE_WEIGHTS.")
_logged_problems: set[str] = set()


def _no_weights(problem: str) -> Unavailable:
    if problem not in _logged_problems:  # once per process, not once per request
        _logged_problems.add(problem)
        logger.warning("%s", problem)
    return Unavailable(NO_WEIGHTS, code="no_weights")


def weights_identity(weights: str) -> str:
    """'imagenet', or size + SHA-256 of the first and last MB of the file (cached)."""
    if weights == "imagenet":
        return "imagenet"
    path = Path(weights).expanduser()
    try:
        stat = path.stat()
    except OSError:
        return f"missing:{weights}"
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _identity_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            digest.update(handle.read(_MB))
            handle.seek(max(0, stat.st_size - _MB))
            digest.update(handle.read(_MB))
        identity = f"{stat.st_size}:{digest.hexdigest()[:40]}"
        _identity_cache[key] = KNOWN_WEIGHTS.get(identity, identity)
    return _identity_cache[key]


class ResNet50Extractor(Extractor):
    dim = 2048
    presets = tuple(RESNET50_PRESETS)

    def __init__(self, *, weights: str | None = None, precision: str | None = None,
                 preset: str | None = None, runtime: str | None = None):
        super().__init__(preset=preset)
        # "openvino" (the default; CPUs) or "tensorflow" (NVIDIA GPUs).
        self.runtime = runtime or settings.FEATURE_RUNTIME
        self.recipe: Preset = RESNET50_PRESETS[self.preset]
        self.weights = weights if weights is not None else settings.FEATURE_WEIGHTS
        self.precision_setting = precision or settings.FEATURE_PRECISION
        self.precision: str | None = None  # decided at load
        self._lock = threading.Lock()
        self._infer = None
        self._error: Unavailable | None = None

    @property
    def fingerprint(self) -> str:
        recipe = f"ResNet50|{weights_identity(self.weights)}|{self.recipe.recipe}"
        return f"{self.preset}-" + hashlib.sha256(recipe.encode()).hexdigest()[:16]

    def load(self) -> None:
        """Build the model once per process (thread-safe); Unavailable if there are no weights."""
        if self._infer is not None:
            return
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._infer is None:
                try:
                    self._infer = self._build()
                except Unavailable as exc:
                    self._error = exc
                    raise

    def weights_problem(self) -> str:
        """Why the weights cannot be used, if that is known without loading them ("" if not)."""
        if self.weights != "imagenet" and not os.path.isfile(os.path.expanduser(self.weights)):
            return f"The ResNet50 weights file {self.weights} does not exist. " + NO_WEIGHTS_HELP
        return ""

    def check_available(self) -> None:
        """A missing weights file is known without building the model (web processes
        of a scale-out deployment never load it); 'imagenet' needs a real try."""
        if self._error is not None:
            raise self._error
        if self.weights != "imagenet" and self._infer is None:
            if problem := self.weights_problem():
                raise _no_weights(problem)
            return
        self.load()

    def _build(self):
        if self.weights != "imagenet" and (problem := self.weights_problem()):
            raise _no_weights(problem)
        if self.runtime == "openvino":
            maps = self._build_openvino()
        else:
            maps = self._build_tensorflow()
        logger.info("ResNet50 loaded (%s, %s, %s, %s)", self.preset, self.weights, self.runtime,
                    self.precision)
        return lambda batch: pool(maps(batch), self.recipe)

    def _keras_model(self, *, dtype: str = "float32"):
        """Keras' ResNet50 without its top, batch norms folded, computing in ``dtype``."""
        # oneDNN's convolutions: TensorFlow turns them on by itself only on CPUs with
        # AVX512/AMX, yet they are faster on AVX2 ones too (about a quarter here). Only an
        # environment variable read at import switches them, so set it before that.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
        import keras

        weights = self.weights if self.weights == "imagenet" else os.path.expanduser(self.weights)
        try:
            # Built and folded in float32 (Keras' default policy, never changed here).
            model = keras.applications.ResNet50(weights=weights, include_top=False,
                                                input_shape=(self.recipe.size, self.recipe.size, 3))
        except Exception as exc:  # Keras raises many kinds: download, HDF5, shapes.
            raise _no_weights(f"The ResNet50 weights {self.weights} could not be loaded "
                              f"({exc}). " + NO_WEIGHTS_HELP) from None
        return fold_batch_norms(model, dtype=dtype)

    def _build_openvino(self):
        from features.extractors import openvino_runtime

        # OpenVINO runs on the CPU here: the CPU alone decides the precision.
        self.precision = choose_precision(self.precision_setting, cpu_bf16=cpu_has_native_bf16(),
                                          gpu_capabilities=[])
        model = openvino_runtime.feature_maps_model(
            build_keras=self._keras_model, cache_dir=Path(settings.FEATURE_MODEL_CACHE),
            identity=weights_identity(self.weights), size=self.recipe.size)
        return openvino_runtime.compiled_runner(model, precision=self.precision)

    def _build_tensorflow(self):
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
        import tensorflow as tf

        size = (self.recipe.size, self.recipe.size)
        gpus = tf.config.list_physical_devices("GPU")
        capabilities = [tuple(tf.config.experimental.get_device_details(gpu).get(
            "compute_capability", (0, 0))) for gpu in gpus]
        self.precision = choose_precision(self.precision_setting, cpu_bf16=cpu_has_native_bf16(),
                                          gpu_capabilities=capabilities)
        model = self._keras_model(dtype=self.precision)

        def run(batch):
            return tf.cast(model(batch, training=False), tf.float32)

        # Batches (the workers) run as a plain graph, where oneDNN is fastest. One image
        # alone (a search query) too in bfloat16 (about 45 ms here); in float32 it runs
        # XLA-compiled instead, as oneDNN's float32 kernels are slow at batch size 1 (about
        # 90 ms against 60 ms), while XLA's bfloat16 ones are slower still (about 130 ms).
        batched = tf.function(run, input_signature=[
            tf.TensorSpec([None, *size, 3], tf.float32)])
        single = batched
        if self.precision != "bfloat16":
            single = tf.function(run, jit_compile=True, input_signature=[
                tf.TensorSpec([1, *size, 3], tf.float32)])

        def maps(batch):
            return (single(batch) if len(batch) == 1 else batched(batch)).numpy()

        return maps

    def preprocess(self, data: bytes) -> np.ndarray:
        frame = squash_nearest if self.recipe.framing == "squash" else centre_crop_sampled
        picture = np.asarray(frame(data, size=self.recipe.size), dtype=np.float32)
        return picture[..., ::-1] - _BGR_MEANS

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.load()
        return normalise(self._infer(np.ascontiguousarray(batch, dtype=np.float32)))

    def warm_up(self, batch_size: int) -> None:
        """Load, then run one batch of that size: TensorFlow traces the graph and oneDNN
        makes its kernels for the shape on the first call (about a second here)."""
        self.load()
        self.infer(np.zeros((max(2, batch_size), self.recipe.size, self.recipe.size, 3),
                            np.float32))


def pool(maps: np.ndarray, preset: Preset) -> np.ndarray:
    """The last feature maps (batch, h, w, 2048; after a ReLU, so >= 0) to one row per image."""
    if preset.pooling == "avg":
        return maps.mean(axis=(1, 2))
    p = float(preset.gem_p)
    # GeM as usually written: the floor keeps the power's input positive; a channel that
    # is zero everywhere pools to about 1e-6 instead of exactly 0, which changes nothing.
    return np.power(np.power(np.maximum(maps, 1e-6), p).mean(axis=(1, 2)), 1.0 / p)
