"""SQLite for ImageSim: Django's backend, with closed connections kept for the next request.

A new connection costs about a millisecond: Django registers its SQL functions and runs
the PRAGMAs, and the first query reads the schema. Under ASGI each request runs in a
thread of its own and Django closes the request's connection at its end (CONN_MAX_AGE
cannot keep it: the next request's thread never sees it), so every request paid that,
more than serving a thumbnail costs. A closed connection goes to a small pool instead,
and the next connection opened takes it from there.

Only a connection with nothing open goes back: no transaction, no atomic block. One
taken from the pool is checked to be of the very same file (a database deleted and made
again at the same path is never read through an old connection), gets Django's
per-connection settings again, and serves one thread at a time like any other.
In-memory databases are left as Django handles them.
"""

import os
import threading

from django.db.backends.sqlite3 import base

# Idle connections kept per database file: about the requests a process serves at once.
POOL_SIZE = 16

_idle: dict[str, list] = {}  # path -> [(file identity, raw connection)]
_lock = threading.Lock()
_inherited: list = []  # a forked child's copies: never used, never closed


def _file_identity(path: str) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _forget_after_fork() -> None:
    """A forked child must not share its parent's SQLite handles: it opens its own."""
    global _idle
    _inherited.append(_idle)
    _idle = {}


os.register_at_fork(after_in_child=_forget_after_fork)


class DatabaseWrapper(base.DatabaseWrapper):
    def _pool_path(self) -> str | None:
        return None if self.is_in_memory_db() else str(self.settings_dict["NAME"])

    def get_new_connection(self, conn_params):
        path = self._pool_path()
        if path is not None:
            identity = _file_identity(path)
            while True:
                with _lock:
                    idle = _idle.get(path)
                    if not idle:
                        break
                    kept_identity, connection = idle.pop()
                if kept_identity == identity:
                    # What a migration or a test may have switched off, on again.
                    connection.execute("PRAGMA foreign_keys = ON")
                    return connection
                connection.close()  # another file now has that name
        return super().get_new_connection(conn_params)

    def _close(self):
        path = self._pool_path()
        connection = self.connection
        if (path is not None and not self.in_atomic_block and not connection.in_transaction
                and (identity := _file_identity(path)) is not None):
            with _lock:
                idle = _idle.setdefault(path, [])
                if len(idle) < POOL_SIZE:
                    idle.append((identity, connection))
                    return
        super()._close()
