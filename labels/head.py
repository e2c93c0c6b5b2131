"""The ImageNet classifier layer, applied to stored vectors: pure NumPy, no Django.

ResNet50's top layer is softmax(pooled @ kernel + bias) over the 1000 ImageNet classes,
where ``pooled`` is the last feature map averaged over its 7 x 7 positions, *before* any
normalisation. ImageSim stores unit-length vectors (see ``FEATURE_SCALE`` for how they are
brought back to that scale), so labels cost a (n, 2048) x (2048, 1000) product and no
inference.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The length the head expects of a stored unit vector, by preset. The head was trained on
# un-normalised average-pooled features, and only a stored vector's direction is kept, so
# it is multiplied back by a length before the head. Measured on the dev set
# (.venv/bin/python bench/labels.py: 300 photos, 10 garment kinds):
# - the length hardly changes *which* labels come first (from 10 to 60 nearly the same),
#   while length 1 lets the bias decide more often; it sets how sure they are. Each
#   preset's length makes the mean top-1 probability that of the un-normalised
#   average-pooled vectors (0.64 and 0.60): 53 for GeM vectors, 41.5 for average-pooled
#   ones (the median length of average-pooled vectors is 41.2);
# - resnet50-gap: the stored vector is the average-pooled one, normalised, so its labels
#   are Keras' own (the same top 1 for all 300 photos, 5.00 of the top 5 in common on average);
# - resnet50-gem (the default): GeM vectors point elsewhere (top 1 as Keras' for 74%), yet
#   their labels are as sensible: every shoes photo has footwear in its top 5 (100%, as
#   Keras'), and 93.7% of all photos a class of their kind (Keras' own: 95.7%).
# So labels need nothing kept at extraction time, and an existing library is labelled from
# its stored vectors. Extractors not listed (the tests' fake one) are used as stored.
FEATURE_SCALE = {"resnet50-gap": 41.5, "resnet50-gem": 53.0}


@dataclass(frozen=True)
class Head:
    kernel: np.ndarray  # (dim, classes) float32
    bias: np.ndarray  # (classes,) float32
    wnids: list[str]  # WordNet 3.0 id of each class, e.g. n04133789
    names: list[str]  # its display name, e.g. "sandal"
    identity: str  # names the weights and class index: labels are redone when it changes

    @property
    def dim(self) -> int:
        return self.kernel.shape[0]


def head_from_arrays(kernel, bias, class_index_json: bytes) -> Head:
    """A head from its arrays and a Keras-style class index, {"0": [wnid, name], ...}."""
    kernel = np.asarray(kernel, dtype=np.float32)
    bias = np.asarray(bias, dtype=np.float32).ravel()
    classes = kernel.shape[1] if kernel.ndim == 2 else -1
    if classes < 1 or bias.shape != (classes,):
        raise ValueError(f"a head needs kernel (dim, classes) and bias (classes,), "
                         f"not {kernel.shape} and {bias.shape}")
    digest = hashlib.sha256(kernel.tobytes() + bias.tobytes() + class_index_json).hexdigest()
    try:
        class_index = json.loads(class_index_json)
        entries = [class_index[str(number)] for number in range(classes)]
        wnids = [str(entry[0]) for entry in entries]
        names = [str(entry[1]).replace("_", " ") for entry in entries]
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"the class index must name classes 0 to {classes - 1} as "
                         f'{{"0": ["n01440764", "tench"], ...}}') from None
    return Head(kernel, bias, wnids, names, digest[:16])


def head_load(weights: Path, class_index: Path) -> Head:
    """A head from an ``.npz`` with ``kernel`` and ``bias`` and a class index JSON file."""
    with np.load(weights) as arrays:
        kernel, bias = arrays["kernel"], arrays["bias"]
    return head_from_arrays(kernel, bias, Path(class_index).read_bytes())


def class_probabilities(head: Head, vectors: np.ndarray, *, scale: float) -> np.ndarray:
    """(n, classes) softmax probabilities of stored vectors (rows) multiplied by ``scale``."""
    logits = (np.asarray(vectors, dtype=np.float32) * np.float32(scale)) @ head.kernel + head.bias
    logits -= logits.max(axis=1, keepdims=True)
    odds = np.exp(logits)
    return odds / odds.sum(axis=1, keepdims=True)


def top_classes(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most probable classes of each row, best first, and their probabilities."""
    k = min(k, probabilities.shape[1])
    part = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(probabilities, part, axis=1), axis=1, kind="stable")
    classes = np.take_along_axis(part, order, axis=1)
    return classes, np.take_along_axis(probabilities, classes, axis=1)
