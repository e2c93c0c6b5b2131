"""The extractor interface: images in, L2-normalised float32 rows out.

Work is split in two so callers can overlap them: ``preprocess`` (decode and
resize one image; CPU-bound, runs in a thread pool) and ``infer`` (one batch
through the model).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Extractor(ABC):
    dim: int
    # The names FEATURE_PRESET may take for this extractor; the first is the default.
    presets: tuple[str, ...] = ("default",)

    def __init__(self, *, preset: str | None = None):
        self.preset = preset or self.presets[0]
        if self.preset not in self.presets:
            raise ValueError(f"{type(self).__name__} has no preset {self.preset!r} "
                             f"(it has {', '.join(self.presets)})")

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Names the model, weights and preprocessing: vectors compare only within one."""

    def load(self) -> None:
        """Make the model ready; raise core.errors.Unavailable if it cannot be."""

    def weights_problem(self) -> str:
        """Why the model's weights cannot be used, if that is known without loading them
        ("" if not, or if the extractor needs none)."""
        return ""

    def warm_up(self, batch_size: int) -> None:
        """Load and make the first batch of ``batch_size`` as fast as the next ones."""
        self.load()

    def check_available(self) -> None:
        """Raise core.errors.Unavailable if the model cannot load (cheaply where possible)."""
        self.load()

    @abstractmethod
    def preprocess(self, data: bytes) -> np.ndarray:
        """Decode one image file and shape it for the model; raise InvalidInput if unreadable."""

    @abstractmethod
    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run a stacked batch of preprocessed images; return (n, dim) float32, rows of length 1."""

    def extract(self, images: Sequence[bytes]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.infer(np.stack([self.preprocess(data) for data in images]))

