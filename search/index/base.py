"""What every vector index answers, and query expansion, which works the same on all."""

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from search.reranking import ALPHA, expand


@dataclass(frozen=True)
class Hit:
    image_id: int
    # Cosine similarity in full float32 precision (not yet clipped for display).
    score: float
    # The vector the score was computed from, when asked for (query expansion).
    vector: np.ndarray | None = None


class VectorIndex(ABC):
    def search(self, *, extractor: str, query: np.ndarray, k: int, kind: str = "all",
               min_similarity: float | None = None, exclude_image_ids: Collection[int] = (),
               expand_neighbours: int = 0, alpha: float = ALPHA,
               floor: float = 0.0) -> list[Hit]:
        """The ``k`` images most similar to ``query`` (a unit vector), best first.

        Only vectors of ``extractor`` are compared; ``kind`` (an ``Image.Kind``) keeps
        originals or uploads only; ``exclude_image_ids`` leaves images out (the query
        images themselves). With ``expand_neighbours`` the query is first blended with that many of
        its best hits in the whole library (alpha query expansion; hits less alike than
        ``floor`` are not blended), then searched again.
        """
        if expand_neighbours > 0:
            first = self._search(extractor=extractor, query=query, k=expand_neighbours,
                                 exclude_image_ids=exclude_image_ids, with_vectors=True)
            if first:
                query = expand(query, np.stack([hit.vector for hit in first]),
                               np.array([hit.score for hit in first]), alpha, floor)
        return self._search(extractor=extractor, query=query, k=k, kind=kind,
                            min_similarity=min_similarity, exclude_image_ids=exclude_image_ids)

    @abstractmethod
    def _search(self, *, extractor: str, query: np.ndarray, k: int, kind: str = "all",
                min_similarity: float | None = None, exclude_image_ids: Collection[int] = (),
                with_vectors: bool = False) -> list[Hit]:
        """One search, as ``search`` describes, without expansion; ``with_vectors`` fills
        each hit's vector (the one its score was computed from)."""

