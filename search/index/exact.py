"""The exact in-process index: one normalised float32 matrix per extractor.

The matrix is loaded from the database once and then kept in step with it
incrementally. Before every search one cheap aggregate query (row count, largest
id and sum of ids for the extractor) is compared with the same three figures of
the rows held; only when they differ are rows loaded or dropped:

- ids above the largest held are new rows: only those are read;
- if the figures still differ, rows were deleted (or committed out of id order):
  the id list alone is read and the difference applied.

So rows written by any process (a feature worker, the admin, a second web
process) are seen at the next query, and nothing is re-read that did not change.
Vectors are written once per (image, extractor) and never updated in place.

One lock guards each extractor's matrix: a search never sees a half-applied
change. Scans are bound by memory bandwidth, so running them one at a time costs
no throughput.
"""

import logging
import threading

import numpy as np
from django.db.models import Count, Max, Sum

from features.models import FeatureVector
from search.index.base import Hit, VectorIndex, only_originals
from search.similarity import VectorMatrix

logger = logging.getLogger(__name__)

CHUNK = 2000
# Rows fetched by id at once (well under SQLite's limit on query parameters).
ID_CHUNK = 500


class ExactIndex(VectorIndex):
    def __init__(self):
        self._lock = threading.Lock()
        self._matrices: dict[str, VectorMatrix] = {}

    def has_vectors(self, *, extractor: str) -> bool:
        return self.size(extractor=extractor) > 0

    def size(self, *, extractor: str) -> int:
        state = _database_state(extractor)
        with self._lock:
            return self._synced(extractor, state).size

    def memory_bytes(self, *, extractor: str) -> int:
        with self._lock:
            matrix = self._matrices.get(extractor)
            return matrix.nbytes if matrix else 0

    def search(self, *, extractor, query, k, kind="all", min_similarity=None,
               exclude_image_id=None) -> list[Hit]:
        state = _database_state(extractor)
        with self._lock:
            matrix = self._synced(extractor, state)
            if matrix.size and matrix.dim != query.size:
                return []
            found = matrix.search(query, k, only_flag=only_originals(kind),
                                  exclude_item=exclude_image_id, min_similarity=min_similarity)
        return [Hit(image_id, score) for image_id, score in found]

    def _synced(self, extractor: str, state: tuple[int, int, int]) -> VectorMatrix:
        """The extractor's matrix, brought in step with ``state`` (called under the lock)."""
        matrix = self._matrices.get(extractor)
        count, _, _ = state
        if matrix is None or matrix.dim == 0:
            # The first load: room for every row now (plus a little), so it never copies.
            matrix = VectorMatrix(_dim_of(extractor), capacity=count + count // 16 + 64)
            if matrix.dim:
                self._matrices[extractor] = matrix
        if _held_state(matrix) == state:
            return matrix
        _load(matrix, _rows(extractor).filter(id__gt=matrix.max_key))
        if _held_state(matrix) != state:
            _reconcile(matrix, extractor)
        return matrix


def _database_state(extractor: str) -> tuple[int, int, int]:
    figures = FeatureVector.objects.filter(extractor=extractor).aggregate(
        count=Count("id"), top=Max("id"), total=Sum("id")
    )
    return figures["count"], int(figures["top"] or 0), int(figures["total"] or 0)


def _held_state(matrix: VectorMatrix) -> tuple[int, int, int]:
    return matrix.size, matrix.max_key, matrix.key_sum


def _dim_of(extractor: str) -> int:
    row = FeatureVector.objects.filter(extractor=extractor).values_list("dim", flat=True).first()
    return int(row or 0)


def _rows(extractor: str):
    return (FeatureVector.objects.filter(extractor=extractor)
            .values_list("id", "image_id", "image__is_original", "vector"))


def _load(matrix: VectorMatrix, rows) -> None:
    batch = []
    for row in rows.order_by("id").iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            _add(matrix, batch)
            batch = []
    _add(matrix, batch)


def _add(matrix: VectorMatrix, batch: list) -> None:
    if not batch:
        return
    good = [row for row in batch if len(row[3]) == matrix.dim]
    if len(good) != len(batch):
        logger.warning("Skipped %d vectors whose length is not %d", len(batch) - len(good),
                       matrix.dim)
    if good:
        keys, items, flags, vectors = zip(*good)
        matrix.add(keys, items, flags, np.stack(vectors))


def _reconcile(matrix: VectorMatrix, extractor: str) -> None:
    """Apply deletions and late commits: compare id lists, read only missing rows."""
    in_database = set(FeatureVector.objects.filter(extractor=extractor)
                      .values_list("id", flat=True).iterator(chunk_size=10_000))
    held = set(matrix.keys.tolist())
    matrix.remove(held - in_database)
    missing = sorted(in_database - held)
    for start in range(0, len(missing), ID_CHUNK):
        _load(matrix, _rows(extractor).filter(id__in=missing[start:start + ID_CHUNK]))
