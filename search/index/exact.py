"""The exact in-process index: one normalised float32 matrix per extractor.

The matrix holds what searches compare: each row's augmented vector where the worker
has made one (search/augmentation.py), else its plain vector. The augmentation step
keeps a second instance over the plain vectors only (``column="vector"``).

A matrix is loaded from the database once, on the first search for its extractor,
and then kept in step incrementally. Database triggers (migration search/0002)
append the id of every vector row written, by anyone, to ``VectorChange``. Before
each search the index reads ``max(id)`` of that log (one primary-key lookup); only
if it moved does it read the new entries and then exactly those vector rows: a row
that still exists is (re)loaded, one that is gone is dropped. So rows written by a
feature worker, the admin or a second web process are seen by the next query, and
nothing that did not change is read again. If the log went backwards (it was
emptied), everything is reloaded.

The log is read in id order, which is commit order on SQLite (writes are
serialised), the database this index serves by default.

One lock guards the matrices: a search never sees a half-applied change. Scans are
bound by memory bandwidth, so running them one at a time costs no throughput.

A scan is split over a small pool of threads (one per core, SEARCH_SCAN_THREADS)
and the BLAS library is kept to one thread per call. Left to itself, OpenBLAS
keeps its own threads spinning for a while after each call, and on a small
machine that spinning takes the cores from the next request's model inference
(ResNet50 ran 2.5x slower right after a scan). Python's pool threads sleep instead.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.conf import settings
from threadpoolctl import threadpool_limits

from core.limits import cores_available
from features.models import FeatureVector
from gallery.models import Image
from search.changelog import LogReader, log_bounds
from search.index import searchable_vector
from search.index.base import Hit, VectorIndex
from search.models import VectorChange
from search.similarity import VectorMatrix

logger = logging.getLogger(__name__)

CHUNK = 2000
# Rows fetched by id at once (well under SQLite's limit on query parameters).
ID_CHUNK = 500


class ExactIndex(VectorIndex):
    def __init__(self, *, column: str = "searchable"):
        if column not in ("searchable", "vector"):
            raise ValueError(f"Unknown column {column}")
        self.column = column
        # Reentrant: a search holds it across its two passes (query expansion), and each
        # pass takes it again.
        self._lock = threading.RLock()
        self._synced_for_search: VectorMatrix | None = None
        self._matrices: dict[str, VectorMatrix] = {}
        self._applied = 0  # the last change-log id applied to every loaded matrix
        self._reader = LogReader()
        self._parts = max(1, settings.SEARCH_SCAN_THREADS or cores_available())
        self._pool = ThreadPoolExecutor(self._parts, thread_name_prefix="search-scan")
        _one_blas_thread()

    def size(self, *, extractor: str) -> int:
        with self._lock:
            return self._synced(extractor).size

    def memory_bytes(self, *, extractor: str) -> int:
        with self._lock:
            matrix = self._matrices.get(extractor)
            return matrix.nbytes if matrix else 0

    def search(self, *, extractor: str, **options) -> list[Hit]:
        # Both passes of an expanded search read the change log once, and see one state.
        with self._lock:
            self._synced_for_search = self._synced(extractor)
            try:
                return super().search(extractor=extractor, **options)
            finally:
                self._synced_for_search = None

    def _search(self, *, extractor, query, k, kind="all", min_similarity=None,
                exclude_image_ids=(), with_vectors=False) -> list[Hit]:
        with self._lock:
            matrix = self._synced_for_search
            if matrix is None:
                matrix = self._synced(extractor)
            if matrix.size == 0 or matrix.dim != query.size:
                return []
            found = matrix.search(query, k, only_flag=Image.Kind(kind).is_original,
                                  exclude_items=exclude_image_ids, min_similarity=min_similarity)
            return [Hit(image_id, score,
                        matrix.vector_of_item(image_id).copy() if with_vectors else None)
                    for image_id, score in found]

    def matrix(self, extractor: str) -> VectorMatrix:
        """The extractor's matrix, in step with the database; the caller holds ``lock``."""
        return self._synced(extractor)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def forget(self, extractor: str) -> None:
        """Drop the extractor's matrix: the next use reads it whole. The caller holds ``lock``."""
        self._matrices.pop(extractor, None)

    def _synced(self, extractor: str) -> VectorMatrix:
        """The extractor's matrix with every logged change applied (called under the lock)."""
        first, latest = log_bounds()
        if latest < self._applied:
            logger.info("The vector change log was reset; reloading the index")
            self._matrices.clear()
        elif self._matrices and first > self._applied + 1:
            # Pruned past this process while it was away (READER_TIMEOUT): read it all again.
            logger.info("The vector change log moved on without this process; reloading")
            self._matrices.clear()
        elif latest > self._applied and self._matrices:
            # Only loaded matrices need the changes: one loaded below is read whole.
            self._apply_changes(self._applied, latest)
        self._applied = latest
        if extractor not in self._matrices or self._matrices[extractor].dim == 0:
            # One extractor serves at a time: after a switch the previous matrix goes.
            self._matrices.clear()
            matrix = self._matrices[extractor] = _load_all(extractor, self.column)
            matrix.pool, matrix.parts = self._pool, self._parts
        self._reader.caught_up(latest)
        return self._matrices[extractor]

    def _apply_changes(self, after: int, upto: int) -> None:
        changed: dict[str, set[int]] = {}
        entries = (VectorChange.objects.filter(id__gt=after, id__lte=upto)
                   .values_list("extractor", "vector_id").iterator(chunk_size=10_000))
        for extractor, vector_id in entries:
            if extractor in self._matrices:
                changed.setdefault(extractor, set()).add(vector_id)
        for extractor, vector_ids in changed.items():
            _reload_rows(self._matrices[extractor], extractor, sorted(vector_ids), self.column)


_blas_limit = None


def _one_blas_thread() -> None:
    """Keep BLAS calls to one thread, for the whole process (see the module notes)."""
    global _blas_limit
    if _blas_limit is None:
        _blas_limit = threadpool_limits(limits=1, user_api="blas")


def _rows(extractor: str, column: str):
    rows = FeatureVector.objects.filter(extractor=extractor)
    if column == "searchable":
        rows = rows.annotate(searchable=searchable_vector())
    return rows.values_list("id", "image_id", "image__is_original", column)


def _load_all(extractor: str, column: str) -> VectorMatrix:
    count = FeatureVector.objects.filter(extractor=extractor).count()
    dim = FeatureVector.objects.filter(extractor=extractor).values_list("dim", flat=True).first()
    # Room for every row now (and a little more), so loading never copies the matrix.
    matrix = VectorMatrix(int(dim or 0), capacity=count + count // 16 + 64)
    _load(matrix, _rows(extractor, column).order_by("id"))
    return matrix


def _reload_rows(matrix: VectorMatrix, extractor: str, vector_ids: list[int], column: str) -> None:
    """Drop the given rows, then load those of them that still exist."""
    matrix.remove(vector_ids)
    for start in range(0, len(vector_ids), ID_CHUNK):
        _load(matrix, _rows(extractor, column).filter(id__in=vector_ids[start:start + ID_CHUNK]))


def _load(matrix: VectorMatrix, rows) -> None:
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            _add(matrix, batch)
            batch = []
    _add(matrix, batch)


def _add(matrix: VectorMatrix, batch: list) -> None:
    good = [row for row in batch if len(row[3]) == matrix.dim]
    if len(good) != len(batch):
        logger.warning("Skipped %d vectors whose length is not %d", len(batch) - len(good),
                       matrix.dim)
    if good:
        keys, items, flags, vectors = zip(*good)
        matrix.add(keys, items, flags, np.stack(vectors))
