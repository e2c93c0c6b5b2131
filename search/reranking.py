"""Re-ranking with the library's own structure: the pure maths, no Django.

Two well-known unsupervised steps on unit vectors:

- database-side augmentation: every stored vector is replaced by itself blended with
  its ``k`` nearest other stored vectors, each weighted by its similarity to the power
  ``alpha``. Photos of one kind pull together, so a query near one of them is near all.
  Only neighbours at least ``floor`` alike are blended: in a small or mixed library a
  photo's nearest others can be of another kind altogether, and blending those in would
  make it look like them.
  Neighbours are always found among the *plain* vectors, so one image's augmented
  vector depends only on the plain vectors; that is what lets the worker keep them
  right incrementally (search/augmentation.py) and equal to a recomputation.
- alpha query expansion: the query is blended the same way with its top hits (those at
  least ``floor`` alike), and the library searched again with that.

Ties between equal similarities go to the smaller id, everywhere, so an incremental
update and a recomputation from scratch pick the same neighbours.
"""

from dataclasses import dataclass

import numpy as np

from core.vectors import normalise

# The exponent of both steps: a neighbour at similarity 0.9 weighs 0.73, one at 0.6 only
# 0.22, so a few close neighbours count and the merely related barely do.
ALPHA = 3.0
# Rows compared at once when augmenting a whole matrix (bounds the n x n product).
BLOCK = 1024


@dataclass(frozen=True)
class Reranking:
    """Which steps run, and how many neighbours each blends (0: the step is off)."""

    augment_neighbours: int = 0
    expand_neighbours: int = 0
    alpha: float = ALPHA
    floor: float = 0.0

    @classmethod
    def configured(cls, settings) -> "Reranking":
        """The steps Django's settings switch on (SEARCH_AUGMENT, SEARCH_QUERY_EXPANSION)."""
        return cls(
            augment_neighbours=settings.SEARCH_AUGMENT_NEIGHBOURS if settings.SEARCH_AUGMENT else 0,
            expand_neighbours=(settings.SEARCH_EXPANSION_NEIGHBOURS
                               if settings.SEARCH_QUERY_EXPANSION else 0),
            floor=settings.SEARCH_BLEND_FLOOR,
        )

    @property
    def name(self) -> str:
        steps = [f"augmentation (k={self.augment_neighbours})"] if self.augment_neighbours else []
        steps += [f"query expansion (k={self.expand_neighbours})"] if self.expand_neighbours else []
        return " + ".join(steps) or "none"

    @property
    def recipe(self) -> str:
        """What the stored augmented vectors depend on: changing it means recomputing them."""
        return f"dba-k{self.augment_neighbours}-a{self.alpha:g}-f{self.floor:g}"


def nearest(scores: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first, ties to the smaller id.

    Entries of -inf (excluded) are never returned.
    """
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    if scores.size > k:
        # Everything tied with the k-th score stays a candidate, so ids break the tie.
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(scores.size)
    order = candidates[np.lexsort((ids[candidates], -scores[candidates]))][:k]
    return order[scores[order] > -np.inf]


def blend(vector: np.ndarray, neighbours: np.ndarray, similarities: np.ndarray,
          alpha: float = ALPHA, floor: float = 0.0) -> np.ndarray:
    """``vector`` plus its neighbours weighted by similarity ** alpha, at length 1; those
    less alike than ``floor`` weigh nothing."""
    similarities = np.asarray(similarities, dtype=np.float32)
    weights = np.where(similarities >= floor, np.maximum(similarities, 0) ** alpha, 0)
    summed = np.asarray(vector, dtype=np.float32) + weights @ np.asarray(neighbours, np.float32)
    return normalise(summed)


def augment_all(matrix: np.ndarray, ids: np.ndarray, k: int, alpha: float = ALPHA,
                floor: float = 0.0) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Every row augmented from scratch: (augmented rows, each row's neighbour positions,
    their similarities). ``matrix`` holds unit rows; ``ids`` break ties."""
    matrix = np.asarray(matrix, dtype=np.float32)
    ids = np.asarray(ids)
    out = np.empty_like(matrix)
    positions, similarities = [], []
    for start in range(0, len(matrix), BLOCK):
        block = matrix[start:start + BLOCK] @ matrix.T
        for offset, scores in enumerate(block):
            row = start + offset
            scores[row] = -np.inf
            found = nearest(scores, ids, k)
            positions.append(found)
            similarities.append(scores[found].copy())
            out[row] = blend(matrix[row], matrix[found], scores[found], alpha, floor)
    return out, positions, similarities


def expand(query: np.ndarray, hits: np.ndarray, scores: np.ndarray, alpha: float = ALPHA,
           floor: float = 0.0) -> np.ndarray:
    """Alpha query expansion: the query blended with its top hits' vectors."""
    return blend(query, hits, scores, alpha, floor)
