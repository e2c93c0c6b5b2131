"""The feature worker's "index snapshot" stage: snapshots written off the worker's thread.

Writing a snapshot streams the whole library and may train the index: minutes at a
million vectors. The stage itself only asks whether a write is due (a few cheap reads,
search/index/refresh.py) and, if one is, starts a writer thread and returns at once, so
the worker goes on extracting new uploads meanwhile; searches keep the previous
generation (and the delta past it) until the new one is published. One writer at a
time: while it runs the stage does nothing. Both columns are kept: the searched vectors
(searches) and the plain ones (the worker's own neighbour queries, search/index/neighbours.py).

The writer runs at a lower CPU priority (Linux niceness is per thread), on its own
database connection, closed when it ends. A writer cut off by the process ending leaves
temporary files, which the next write removes (search/index/snapshot.py).
"""

import logging
import os
import threading

from django.db import connection

from features.jobs.stages import StagePass
from search.index.refresh import snapshot_due, snapshot_refresh

logger = logging.getLogger(__name__)

COLUMNS = ("searchable", "vector")
# Added to the writer thread's niceness: extraction and requests come first.
NICENESS = 10

_lock = threading.Lock()
_writer: threading.Thread | None = None


def snapshot_stage(work: StagePass) -> int:
    """Start writing the snapshots that are due, in the background; always 0 (the
    worker's step never waits for a write)."""
    global _writer
    with _lock:
        if _writer is not None and _writer.is_alive():
            return 0
        due = [column for column in COLUMNS if snapshot_due(extractor=work.extractor,
                                                            column=column)]
        if not due:
            return 0
        _writer = threading.Thread(target=_write, args=(work.extractor, due), daemon=True,
                                   name="index-snapshot")
        _writer.start()
    return 0


def snapshot_writer_join(timeout: float | None = None) -> bool:
    """Wait for the running writer, if any (tests, shutdown); True when none is left."""
    writer = _writer
    if writer is not None:
        writer.join(timeout)
    return writer is None or not writer.is_alive()


def _write(extractor: str, columns: list[str]) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: the write just competes evenly
    try:
        for column in columns:
            snapshot_refresh(extractor=extractor, column=column)
    except Exception:
        logger.exception("Writing the index snapshot failed; the next idle step tries again")
    finally:
        connection.close()
