"""Cosine similarity search over a matrix of unit rows: the pure maths, no Django.

Rows and queries are L2-normalised float32, so cosine similarity is one
matrix-vector product. The scan reads the matrix once; choosing the top k is
linear (``argpartition``) and sorting touches only those k.
"""

from collections.abc import Collection
from concurrent.futures import Executor

import numpy as np

from core.vectors import normalise

EXCLUDED = -np.inf


# Below this many rows one thread scans faster than several can be started.
PARALLEL_ROWS = 8192


def scores(matrix: np.ndarray, query: np.ndarray, *, pool: Executor | None = None,
           parts: int = 2) -> np.ndarray:
    """Cosine similarity of ``query`` to every row of ``matrix`` (both unit length).

    With a thread pool the rows are split into ``parts`` blocks scanned at once
    (NumPy lets go of the GIL), which is how a scan reaches the memory bandwidth
    when the BLAS library itself is kept to one thread.
    """
    query = np.asarray(query, dtype=np.float32)
    if pool is None or parts < 2 or len(matrix) < PARALLEL_ROWS:
        return matrix @ query
    out = np.empty(len(matrix), dtype=np.float32)
    bounds = np.linspace(0, len(matrix), parts + 1, dtype=np.int64)

    def scan(block: int) -> None:
        lo, hi = bounds[block], bounds[block + 1]
        np.matmul(matrix[lo:hi], query, out=out[lo:hi])

    for future in [pool.submit(scan, block) for block in range(parts)]:
        future.result()
    return out


def top_k(scores: np.ndarray, k: int, *, min_similarity: float | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Positions and scores of the ``k`` highest scores, best first.

    Entries set to ``EXCLUDED`` (-inf) never come back; ``min_similarity`` drops
    the rest below it. Equal scores come back in position order.
    """
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if scores.size > k:
        candidates = np.argpartition(-scores, k - 1)[:k]
    else:
        candidates = np.arange(scores.size)
    # Best first, ties by position (lexsort's last key is the primary one).
    order = candidates[np.lexsort((candidates, -scores[candidates]))]
    best = scores[order]
    keep = best > EXCLUDED
    if min_similarity is not None:
        keep &= best >= min_similarity
    return order[keep].astype(np.int64), best[keep].astype(np.float32)


def as_similarity(score: float) -> float:
    """A cosine score shown to users: clipped to 0..1 (ResNet features are never negative)."""
    return float(min(1.0, max(0.0, score)))


class VectorMatrix:
    """Unit rows keyed by integer ids, with room to grow and O(1) removal.

    One float32 buffer holds the rows; a removed row is replaced by the last one,
    so the live rows are always ``buffer[:size]`` and a scan reads nothing else.
    Each row carries a key (for removal), an item id (what a search returns) and
    a flag (``is_original``, for filtering). Not thread-safe: callers lock.
    """

    def __init__(self, dim: int, capacity: int = 0, *, pool: Executor | None = None,
                 parts: int = 2):
        self.dim = dim
        self.pool, self.parts = pool, parts
        self._buffer = np.empty((capacity, dim), dtype=np.float32)
        self._keys = np.empty(capacity, dtype=np.int64)
        self._items = np.empty(capacity, dtype=np.int64)
        self._flags = np.empty(capacity, dtype=bool)
        self._row_of_key: dict[int, int] = {}
        self._row_of_item: dict[int, int] = {}
        self.size = 0

    @property
    def rows(self) -> np.ndarray:
        return self._buffer[: self.size]

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.size]

    @property
    def items(self) -> np.ndarray:
        return self._items[: self.size]

    def row_of_key(self, key: int) -> int | None:
        return self._row_of_key.get(int(key))

    def vector_of_item(self, item: int) -> np.ndarray | None:
        row = self._row_of_item.get(int(item))
        return None if row is None else self._buffer[row]

    @property
    def nbytes(self) -> int:
        """Memory held: the row buffer (with its spare room) and the per-row arrays."""
        return (self._buffer.nbytes + self._keys.nbytes + self._items.nbytes
                + self._flags.nbytes)

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` rows in all (one copy while it grows)."""
        if capacity <= len(self._buffer):
            return
        for name in ("_buffer", "_keys", "_items", "_flags"):
            old = getattr(self, name)
            new = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def add(self, keys, items, flags, rows: np.ndarray) -> None:
        """Append rows (normalised here); keys already present are replaced."""
        rows = normalise(np.asarray(rows, dtype=np.float32).reshape(-1, self.dim))
        keys = [int(key) for key in keys]
        present = [key for key in keys if key in self._row_of_key]
        if present:
            self.remove(present)
        needed = self.size + len(keys)
        if needed > len(self._buffer):
            self.reserve(max(needed, len(self._buffer) + len(self._buffer) // 4 + 64))
        start, end = self.size, needed
        self._buffer[start:end] = rows
        self._keys[start:end] = keys
        self._items[start:end] = np.asarray(items, dtype=np.int64)
        self._flags[start:end] = np.asarray(flags, dtype=bool)
        for offset, key in enumerate(keys):
            self._row_of_key[key] = start + offset
            self._row_of_item[int(self._items[start + offset])] = start + offset
        self.size = end

    def remove(self, keys) -> None:
        """Drop rows by key; unknown keys are ignored."""
        for key in keys:
            row = self._row_of_key.pop(int(key), None)
            if row is None:
                continue
            self._row_of_item.pop(int(self._items[row]), None)
            last = self.size - 1
            if row != last:
                self._buffer[row] = self._buffer[last]
                self._keys[row] = self._keys[last]
                self._items[row] = self._items[last]
                self._flags[row] = self._flags[last]
                self._row_of_key[int(self._keys[row])] = row
                self._row_of_item[int(self._items[row])] = row
            self.size = last

    def search(self, query: np.ndarray, k: int, *, only_flag: bool | None = None,
               exclude_items: Collection[int] = (), min_similarity: float | None = None
               ) -> list[tuple[int, float]]:
        """The ``k`` most similar rows as (item id, cosine score), best first."""
        if self.size == 0:
            return []
        found = scores(self.rows, normalise(query).ravel(), pool=self.pool, parts=self.parts)
        if only_flag is not None:
            found[self._flags[: self.size] != only_flag] = EXCLUDED
        for item in exclude_items:
            if item in self._row_of_item:
                found[self._row_of_item[item]] = EXCLUDED
        positions, best = top_k(found, k, min_similarity=min_similarity)
        items = self._items[positions]
        return [(int(item), float(score)) for item, score in zip(items, best)]
