"""Housekeeping of the vector change log (VectorChange), so it does not grow forever.

Every process with an in-memory index says now and then how far it has applied the
log (IndexReader); entries every reader has applied are deleted. The newest entry
is always kept, so ids are never reused and ``max(id)`` keeps its meaning.
"""

import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from search.models import IndexReader, VectorChange

# How often a process reports its position and prunes (seconds).
REPORT_EVERY = 30.0
# A reader not heard from for this long is gone (stopped, or its process crashed).
READER_TIMEOUT = timedelta(minutes=10)
# Readers named so stand for files on disk (index snapshots, search/index/snapshot.py),
# not processes: a server stopped for a night must find its snapshots usable again. One
# nobody renewed for this long is of files nobody reads (an extractor no longer served).
FILE_READER_PREFIX = "snapshot:"
FILE_READER_TIMEOUT = timedelta(days=7)


class LogReader:
    """One process's place in the log, reported at most every REPORT_EVERY seconds."""

    def __init__(self):
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._reported = -REPORT_EVERY
        self._lock = threading.Lock()

    def caught_up(self, applied: int) -> None:
        with self._lock:
            if time.monotonic() - self._reported < REPORT_EVERY:
                return
            self._reported = time.monotonic()
        IndexReader.objects.update_or_create(
            name=self.name, defaults={"applied": applied, "seen_at": timezone.now()})
        changes_prune()


def log_bounds() -> tuple[int, int]:
    """The oldest and newest entry ids (0, 0 when the log is empty).

    Read before every search: one plain statement (the ORM's aggregate took a tenth of
    an approximate search's time to build), whose two subqueries each read one end of
    the primary key. ``SELECT MIN(id), MAX(id)`` in one query makes SQLite scan the whole
    log: 145 ms a read for a log of two million entries (one kept since a snapshot long
    ago, or for a reader gone quiet), before every search and every stage's pass.
    """
    with connection.cursor() as cursor:
        cursor.execute(_BOUNDS)
        first, latest = cursor.fetchone()
    return first or 0, latest or 0


_BOUNDS = (f"SELECT (SELECT MIN(id) FROM {VectorChange._meta.db_table}),"
           f" (SELECT MAX(id) FROM {VectorChange._meta.db_table})")


class StageLog:
    """The log as the feature worker's stages follow it (features.jobs.stages.VectorLog)."""

    def written(self, extractor: str, after: int | None):
        """The ids of ``extractor``'s vectors written or deleted after change ``after`` (a
        query), or None where the log cannot say: ``after`` is None, the log was pruned
        past it, or PostgreSQL, where a change can commit after a later one was read; and
        the latest change."""
        first, latest = log_bounds()
        if after is None or connection.vendor != "sqlite" or first > after + 1:
            return None, latest
        return VectorChange.objects.filter(extractor=extractor, id__gt=after,
                                           id__lte=latest).values("vector_id"), latest

    def reader(self):
        # On PostgreSQL stages look at every vector: they keep no place in the log.
        return LogReader() if connection.vendor == "sqlite" else _NoPlace()


class _NoPlace:
    def caught_up(self, applied: int) -> None:
        pass


def changes_prune() -> int:
    """Delete the entries every live reader has applied; return how many went."""
    with transaction.atomic():
        now = timezone.now()
        IndexReader.objects.filter(seen_at__lt=now - READER_TIMEOUT).exclude(
            name__startswith=FILE_READER_PREFIX).delete()
        IndexReader.objects.filter(seen_at__lt=now - FILE_READER_TIMEOUT,
                                   name__startswith=FILE_READER_PREFIX).delete()
        _, latest = log_bounds()
        slowest = IndexReader.objects.aggregate(slowest=Min("applied"))["slowest"]
        upto = latest if slowest is None else min(slowest, latest)
        deleted, _ = VectorChange.objects.filter(id__lt=upto).delete()
    return deleted


_pruned = -REPORT_EVERY
_prune_lock = threading.Lock()


def changes_prune_if_due() -> None:
    """For processes that read no log themselves (pgvector): prune now and then."""
    global _pruned
    with _prune_lock:
        if time.monotonic() - _pruned < REPORT_EVERY:
            return
        _pruned = time.monotonic()
    changes_prune()
