"""The vector index: one interface, chosen by the database in use.

SQLite (the embedded default) gets the exact in-process index; PostgreSQL gets
pgvector's HNSW index inside the database. One instance per process.
"""

import threading

from django.db import connection

from search.index.base import Hit, VectorIndex

__all__ = ["Hit", "VectorIndex", "get_index", "reset_index"]

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


def reset_index() -> None:
    """Forget every loaded index (tests: row ids are reused after a rollback)."""
    with _lock:
        _indexes.clear()
