"""A small deterministic extractor for tests: no model, instant, stable.

Its vector is a downscaled colour picture (8x8 by default, 4x4 with the preset
``fake-colour-4x4``), centred and normalised, so images that look alike get similar
vectors, as with the real model. Two presets let tests switch extractors.
"""

import numpy as np

from core.vectors import normalise
from features.extractors.base import Extractor
from features.extractors.imaging import open_rgb

SIDES = {"fake-colour-8x8": 8, "fake-colour-4x4": 4}


class FakeExtractor(Extractor):
    dim = 8 * 8 * 3
    presets = tuple(SIDES)

    def __init__(self, *, preset: str | None = None):
        super().__init__(preset=preset)
        self.side = SIDES[self.preset]
        self.dim = self.side * self.side * 3

    @property
    def fingerprint(self) -> str:
        return f"{self.preset}-v1"

    def preprocess(self, data: bytes) -> np.ndarray:
        picture = open_rgb(data, size=(self.side, self.side))
        return np.asarray(picture, dtype=np.float32).ravel() / 255.0

    def infer(self, batch: np.ndarray) -> np.ndarray:
        centred = batch - 0.5
        return normalise(centred)
