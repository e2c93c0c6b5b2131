"""A small deterministic extractor for tests: no model, instant, stable.

Its vector is a downscaled 8x8 colour picture, centred and normalised, so images
that look alike get similar vectors, as with the real model.
"""

import numpy as np

from core.vectors import normalise
from features.extractors.base import Extractor
from features.extractors.imaging import open_rgb


class FakeExtractor(Extractor):
    dim = 8 * 8 * 3

    @property
    def fingerprint(self) -> str:
        return "fake-colour-8x8-v1"

    def preprocess(self, data: bytes) -> np.ndarray:
        return np.asarray(open_rgb(data, size=(8, 8)), dtype=np.float32).ravel() / 255.0

    def infer(self, batch: np.ndarray) -> np.ndarray:
        centred = batch - 0.5
        return normalise(centred)
