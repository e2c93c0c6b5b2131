"""The vector index: one interface, chosen by the database in use.

SQLite (the embedded default) gets an in-process index: the exact one, or for large
libraries the approximate one over the machine's snapshot (SEARCH_INDEX; with ``auto``
a process changes to it once the feature worker has written a first snapshot).
PostgreSQL gets pgvector's HNSW index inside the database. One instance per process.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models.functions import Coalesce

from features.fields import VectorField
from search.index.base import Hit, VectorIndex

__all__ = ["Hit", "VectorIndex", "get_index", "get_plain_index", "plain_neighbours",
           "reset_index", "searchable_vector"]


def searchable_vector() -> Coalesce:
    """What a search compares for a row: its augmented vector where there is one, else its
    plain vector (an expression over FeatureVector)."""
    return Coalesce("augmented", "vector", output_field=VectorField())

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_indexes: dict[str, VectorIndex] = {}


def get_index() -> VectorIndex:
    vendor = connection.vendor
    with _lock:
        if vendor not in _indexes:
            if vendor == "postgresql":
                from search.index.pgvector import PgvectorIndex

                _indexes[vendor] = PgvectorIndex()
            elif _approximate():
                from search.index.approximate import ApproximateIndex

                _indexes[vendor] = ApproximateIndex()
            else:
                from search.index.exact import ExactIndex

                _indexes[vendor] = ExactIndex()
            _looked[vendor] = time.monotonic()
        elif (settings.SEARCH_INDEX == "auto" and vendor != "postgresql"
              and time.monotonic() - _looked[vendor] > LOOK_EVERY):
            # The worker writes the first snapshot once the library is large enough.
            _looked[vendor] = time.monotonic()
            if not _is_approximate(_indexes[vendor]) and _approximate():
                from search.index.approximate import ApproximateIndex

                logger.info("An index snapshot appeared: searching it from now on")
                _indexes[vendor] = ApproximateIndex()
        return _indexes[vendor]


# How often (seconds) a process on SEARCH_INDEX=auto looks for a first snapshot.
LOOK_EVERY = 30.0
_looked: dict[str, float] = {}


def _is_approximate(index: VectorIndex) -> bool:
    return type(index).__name__ == "ApproximateIndex"


def _approximate() -> bool:
    """SEARCH_INDEX=approximate, or auto with a snapshot written (search/index/refresh.py)."""
    if settings.SEARCH_INDEX != "auto":
        return settings.SEARCH_INDEX == "approximate"
    from search.index.snapshot import manifests

    root = Path(settings.SEARCH_INDEX_DIR)
    return root.is_dir() and any(manifests(folder) for folder in root.iterdir()
                                 if folder.is_dir())


def get_plain_index():
    """An exact in-process index over the plain vectors (never the augmented ones), on every
    database: the augmentation step finds neighbours in it."""
    from search.index.exact import ExactIndex

    with _lock:
        if "plain" not in _indexes:
            _indexes["plain"] = ExactIndex(column="vector")
        return _indexes["plain"]


def reset_index() -> None:
    """Forget every loaded index (tests: row ids are reused after a rollback)."""
    with _lock:
        _indexes.clear()


@contextmanager
def plain_neighbours(extractor: str, *, keys: Iterable[int] = (),
                     count: Callable[[], int] | None = None):
    """Neighbour queries over the plain vectors of ``extractor`` (search/index/neighbours.py),
    under the plain index's lock: what the feature worker hands its later stages
    (features/jobs/stages.py).

    Where the approximate index serves (SQLite, SEARCH_INDEX), they are answered from a
    snapshot of the plain column plus the rows written since; the worker holds no copy of
    the whole library. Elsewhere from the exact plain matrix, read whole again first if
    it lacks one of ``keys`` or does not hold ``count()`` rows: rows committed out of id
    order (PostgreSQL) escape the change log. (``count`` is a function: a count of every
    vector takes a tenth of a second at a million, and the approximate index needs none.)
    """
    from search.index.neighbours import ApproximateNeighbours, ExactNeighbours

    if connection.vendor != "postgresql" and _approximate():
        index = _plain_approximate()
        with index.lock:
            index.synced(extractor)
            # No snapshot yet: every row is in the delta, compared in full as the exact
            # matrix would be.
            yield (ApproximateNeighbours(index, extractor) if index.snapshot is not None
                   else ExactNeighbours(index.delta))
        return
    index = get_plain_index()
    with index.lock:
        matrix = index.matrix(extractor)
        if (count is not None and matrix.size != count()) or any(
                matrix.row_of_key(key) is None for key in keys):
            index.forget(extractor)
            matrix = index.matrix(extractor)
        yield ExactNeighbours(matrix)


def _plain_approximate():
    """The approximate index over the plain column (its own snapshot); the exact plain
    matrix, if one was loaded before the snapshot appeared, is let go."""
    from search.index.approximate import ApproximateIndex

    with _lock:
        _indexes.pop("plain", None)
        if "plain approximate" not in _indexes:
            _indexes["plain approximate"] = ApproximateIndex(column="vector")
        return _indexes["plain approximate"]
