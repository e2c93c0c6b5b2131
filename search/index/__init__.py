"""The vector index: one interface, chosen by the database in use.

SQLite (the embedded default) gets the exact in-process index; PostgreSQL gets
pgvector's HNSW index inside the database. One instance per process.
"""

import threading
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection
from django.db.models.functions import Coalesce

from features.fields import VectorField
from search.index.base import Hit, VectorIndex

__all__ = ["Hit", "VectorIndex", "get_index", "get_plain_index", "plain_vectors",
           "reset_index", "searchable_vector"]


def searchable_vector() -> Coalesce:
    """What a search compares for a row: its augmented vector where there is one, else its
    plain vector (an expression over FeatureVector)."""
    return Coalesce("augmented", "vector", output_field=VectorField())

_lock = threading.Lock()
_indexes: dict[str, VectorIndex] = {}


def get_index() -> VectorIndex:
    vendor = connection.vendor
    with _lock:
        if vendor not in _indexes:
            if vendor == "postgresql":
                from search.index.pgvector import PgvectorIndex

                _indexes[vendor] = PgvectorIndex()
            else:
                from search.index.exact import ExactIndex

                _indexes[vendor] = ExactIndex()
        return _indexes[vendor]


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
def plain_vectors(extractor: str, *, keys: Iterable[int] = (), count: int | None = None):
    """The plain vectors of ``extractor`` (a VectorMatrix), under the plain index's lock:
    what the feature worker hands its later stages (features/jobs/stages.py). Read whole again
    first if the matrix lacks one of ``keys`` or does not hold ``count`` rows: rows
    committed out of id order (PostgreSQL) escape the change log."""
    index = get_plain_index()
    with index.lock:
        matrix = index.matrix(extractor)
        if (count is not None and matrix.size != count) or any(
                matrix.row_of_key(key) is None for key in keys):
            index.forget(extractor)
            matrix = index.matrix(extractor)
        yield matrix
