"""What every vector index answers."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    image_id: int
    # Cosine similarity in full float32 precision (not yet clipped for display).
    score: float


class VectorIndex(ABC):
    @abstractmethod
    def search(self, *, extractor: str, query: np.ndarray, k: int, kind: str = "all",
               min_similarity: float | None = None,
               exclude_image_id: int | None = None) -> list[Hit]:
        """The ``k`` images most similar to ``query`` (a unit vector), best first.

        Only vectors of ``extractor`` are compared; ``kind`` (an ``Image.Kind``) keeps
        originals or uploads only; ``exclude_image_id`` leaves one image out (the query itself).
        """

