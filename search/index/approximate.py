"""The approximate in-process index: the machine's snapshot, plus the changes since, exactly.

For libraries too large to scan whole at every search. The feature worker writes a
snapshot of the searched vectors to disk now and then (search/index/refresh.py); every
process of the machine opens it memory-mapped and read-only (search/index/snapshot.py),
so the pages are shared and a restart reads nothing but the rows that changed since.

A search asks the snapshot's faiss index (IVF lists of 8-bit codes) for about a hundred
candidates and scores them again from the snapshot's copy of the stored vectors (the
very vectors the exact index compares, so scores are exact cosine, with no database
read), and merges them with an exact scan of the *delta*: the rows written since the
snapshot.

The delta comes from the vector change log (search/changelog.py), as the exact index's
updates do: every change past the snapshot's position is read, its row is masked out
of the snapshot (a deleted or rewritten vector is never answered from it) and loaded
into the delta if it still exists. When the worker publishes a newer snapshot the next
search opens it, and the delta starts again from its position. With no usable snapshot
(none written yet, or the log no longer reaches back to it) every row is in the delta:
the index is then the exact one.
"""

import logging
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection

from gallery.models import Image
from search.changelog import LogReader, log_bounds
from search.index.base import Hit, VectorIndex
from search.index.exact import ID_CHUNK, _load, _load_all, _one_blas_thread, _rows
from search.index.snapshot import (Snapshot, database_identity, manifest_current,
                                   snapshot_folder, snapshot_open, snapshot_pin)
from search.models import VectorChange
from search.similarity import VectorMatrix, top_k

logger = logging.getLogger(__name__)

# Candidates taken from the snapshot per hit asked for (at least MIN_CANDIDATES), then
# re-checked exactly: how far past the k-th the codes' ranking may be wrong.
CANDIDATES_PER_HIT = 8
MIN_CANDIDATES = 96
# A kind filter keeping at most this many snapshot rows is answered by an exact scan of
# those rows (the IVF lists probed may hold none of them).
EXACT_FILTER_ROWS = 4096
# How often (seconds) a search looks for a newer snapshot on disk.
LOOK_EVERY = 1.0


def index_root() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


class ApproximateIndex(VectorIndex):
    def __init__(self, *, column: str = "searchable", root: Path | None = None):
        if column not in ("searchable", "vector"):
            raise ValueError(f"Unknown column {column}")
        self.column = column
        self.root = Path(root) if root is not None else index_root()
        self._lock = threading.Lock()
        self._extractor: str | None = None
        self._snapshot: Snapshot | None = None
        self._masked: np.ndarray = np.zeros(0, dtype=bool)
        self._bitmaps: dict = {}
        self._delta = VectorMatrix(0)
        self._applied = 0
        self._looked = -LOOK_EVERY
        self._reader = LogReader()
        # Set while a search runs on this thread: its second pass (query expansion) skips
        # the log read its first pass made.
        self._searching = threading.local()
        _one_blas_thread()

    # ------------------------------------------------------------------ answers

    def size(self, *, extractor: str) -> int:
        with self._lock:
            self._synced(extractor)
            kept = 0 if self._snapshot is None else int((~self._masked).sum())
            return kept + self._delta.size

    @property
    def snapshot_generation(self) -> int | None:
        """The generation searched (None: no snapshot, every row exact)."""
        return None if self._snapshot is None else self._snapshot.generation

    def _search(self, *, extractor, query, k, kind="all", min_similarity=None,
                exclude_image_ids=(), with_vectors=False) -> list[Hit]:
        query = np.asarray(query, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(query))
        query = query / norm if norm > 0 else query
        only = Image.Kind(kind).is_original
        with self._lock:
            if not getattr(self._searching, "synced", False):
                self._synced(extractor)
            found = []  # (score, image id, vector or None)
            if self._delta.size and self._delta.dim == query.size:
                for item, score in self._delta.search(query, k, only_flag=only,
                                                       exclude_items=exclude_image_ids):
                    vector = self._delta.vector_of_item(item)
                    found.append((score, item, vector.copy() if with_vectors else None))
            snapshot = self._snapshot
            if snapshot is not None and snapshot.manifest["dim"] == query.size:
                rows, scores, vectors = self._snapshot_search(query, k, only, exclude_image_ids)
                found += [(float(score), int(item), vector if with_vectors else None)
                          for score, item, vector in zip(scores, snapshot.items[rows], vectors)]
        found.sort(key=lambda hit: (-hit[0], hit[1]))
        if min_similarity is not None:
            found = [hit for hit in found if hit[0] >= min_similarity]
        return [Hit(item, score, vector) for score, item, vector in found[:k]]

    # ------------------------------------------------------------------ neighbour queries
    # (search/index/neighbours.py, under ``lock`` after ``synced``)

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def synced(self, extractor: str) -> None:
        """Bring the index in step with the change log (the caller holds ``lock``)."""
        self._synced(extractor)

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def masked(self) -> np.ndarray:
        """Per snapshot row: changed since (answered by the delta, or gone)."""
        return self._masked

    @property
    def delta(self) -> VectorMatrix:
        return self._delta

    def snapshot_candidates(self, query: np.ndarray, count: int, *, probes: int | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` snapshot rows (not masked) best for ``query`` by the codes, and their
        scores by the codes; fewer when the lists probed (``probes``, else
        SEARCH_APPROXIMATE_PROBES) hold fewer."""
        import faiss

        snapshot = self._snapshot
        if snapshot is None or snapshot.manifest["dim"] != query.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        faiss.omp_set_num_threads(1)
        params = faiss.SearchParametersIVF(nprobe=probes or settings.SEARCH_APPROXIMATE_PROBES)
        allowed = self._allowed(None)
        if allowed is not None:
            params.sel = allowed[0]
        scores, found = snapshot.index.search(
            np.ascontiguousarray(query, dtype=np.float32)[None], count, params=params)
        keep = found[0] >= 0
        return found[0][keep].astype(np.int64), scores[0][keep]

    def snapshot_within(self, query: np.ndarray, radius: float, *, probes: int
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Every snapshot row (not masked) in the ``probes`` lists nearest ``query`` whose
        score by the codes is above ``radius`` (in the lists' order), and those scores: one
        pass over the lists, however many rows that is."""
        import faiss

        snapshot = self._snapshot
        if snapshot is None or snapshot.manifest["dim"] != query.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        faiss.omp_set_num_threads(1)
        params = faiss.SearchParametersIVF(nprobe=probes)
        allowed = self._allowed(None)
        if allowed is not None:
            params.sel = allowed[0]
        _, scores, rows = snapshot.index.range_search(
            np.ascontiguousarray(query, dtype=np.float32)[None], float(radius), params=params)
        return rows.astype(np.int64), scores

    def search(self, *, extractor: str, **options) -> list[Hit]:
        # Both passes of an expanded search read the change log once.
        with self._lock:
            self._synced(extractor)
        self._searching.synced = True
        try:
            return super().search(extractor=extractor, **options)
        finally:
            self._searching.synced = False

    def _snapshot_search(self, query, k, only, exclude):
        """Snapshot rows (not masked, of the kind, not excluded), their exact scores and
        unit vectors, best first."""
        import faiss

        snapshot = self._snapshot
        excluded = snapshot.rows_of_items(exclude)
        allowed = self._allowed(only)
        if allowed is not None and allowed[1] <= EXACT_FILTER_ROWS:
            # Few rows of this kind: scan them all, exactly.
            rows = allowed[2]
        else:
            wanted = max(MIN_CANDIDATES, CANDIDATES_PER_HIT * k) + len(excluded)
            faiss.omp_set_num_threads(1)
            params = faiss.SearchParametersIVF(nprobe=settings.SEARCH_APPROXIMATE_PROBES)
            if allowed is not None:
                params.sel = allowed[0]
            _, found = snapshot.index.search(query[None], wanted, params=params)
            rows = found[0][found[0] >= 0]
        if excluded.size:
            rows = rows[~np.isin(rows, excluded)]
        if rows.size == 0:
            return rows, np.zeros(0, dtype=np.float32), np.zeros((0, query.size), np.float32)
        rows = np.sort(rows)  # reads the mapped vectors in file order
        vectors = snapshot.unit_rows(rows)
        positions, best = top_k(vectors @ query, k)
        return rows[positions], best, vectors[positions]

    def _allowed(self, only: bool | None):
        """(faiss selector, count, rows) of the snapshot rows a search may answer, or None
        when every row may be (no kind filter, nothing masked). Cached until the mask changes."""
        import faiss

        if only is None and not self._masked.any():
            return None
        if only not in self._bitmaps:
            keep = ~self._masked
            if only is not None:
                keep &= self._snapshot.flags == only
            rows = np.flatnonzero(keep)
            bits = np.packbits(keep, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(keep), faiss.swig_ptr(bits))
            selector.bits_array = bits  # keep the bits alive as long as the selector
            self._bitmaps[only] = (selector, len(rows), rows)
        return self._bitmaps[only]

    # ------------------------------------------------------------------ keeping in step

    def _synced(self, extractor: str) -> None:
        """Open the newest snapshot when there is one, and apply the log past it (under the lock)."""
        first, latest = log_bounds()
        reopen = extractor != self._extractor or latest < self._applied or (
            first > self._applied + 1 and self._applied > 0)
        now = time.monotonic()
        if reopen or now - self._looked >= LOOK_EVERY:
            self._looked = now
            manifest = manifest_current(snapshot_folder(self.root, extractor=extractor,
                                                        column=self.column))
            newer = manifest is not None and (
                self._snapshot is None or manifest["generation"] != self._snapshot.generation)
            if reopen or newer:
                self._start(extractor, manifest, first, latest)
        if latest > self._applied:
            self._apply(self._applied, latest)
            self._applied = latest
        if self._snapshot is not None:
            # Before this process's report prunes the log (see snapshot_pin).
            snapshot_pin(snapshot_folder(self.root, extractor=extractor, column=self.column),
                         extractor=extractor, column=self.column)
        self._reader.caught_up(self._applied)

    def _start(self, extractor: str, manifest: dict | None, first: int, latest: int) -> None:
        """Begin again from ``manifest``'s snapshot (or from every row, exactly)."""
        self._extractor = extractor
        usable = (manifest is not None and manifest["extractor"] == extractor
                  and manifest.get("database") == database_identity(
                      connection.settings_dict["NAME"])
                  and manifest["covers"] <= latest and first <= manifest["covers"] + 1)
        if manifest is not None and not usable:
            logger.info("Index snapshot %s no longer matches the change log; searching exactly",
                        manifest["generation"])
        self._bitmaps = {}
        if usable:
            snapshot = snapshot_open(snapshot_folder(self.root, extractor=extractor,
                                                     column=self.column), manifest,
                                     read_ahead="all" if self.column == "searchable" else "index")
            self._snapshot = snapshot
            self._masked = np.zeros(snapshot.size, dtype=bool)
            self._delta = VectorMatrix(int(manifest["dim"]))
            self._applied = manifest["covers"]
        else:
            self._snapshot = None
            self._masked = np.zeros(0, dtype=bool)
            self._delta = _load_all(extractor, self.column)
            self._applied = latest

    def _apply(self, after: int, upto: int) -> None:
        changed = set(VectorChange.objects.filter(id__gt=after, id__lte=upto,
                                                  extractor=self._extractor)
                      .values_list("vector_id", flat=True).iterator(chunk_size=10_000))
        if not changed:
            return
        changed = sorted(changed)
        if self._snapshot is not None:
            rows = self._snapshot.rows_of_keys(changed)
            if rows.size and not self._masked[rows].all():
                self._masked[rows] = True
                self._bitmaps = {}
        if self._delta.dim == 0:
            self._delta = VectorMatrix(_dim_of(self._extractor))
        self._delta.remove(changed)
        for start in range(0, len(changed), ID_CHUNK):
            _load(self._delta, _rows(self._extractor, self.column)
                  .filter(id__in=changed[start:start + ID_CHUNK]))


def _dim_of(extractor: str) -> int:
    from features.models import FeatureVector

    dim = FeatureVector.objects.filter(extractor=extractor).values_list("dim", flat=True).first()
    return int(dim or 0)

