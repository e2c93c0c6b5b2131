"""The embedded worker: one daemon thread inside the web process, and a watch beside it.

Started once by imagesim/asgi.py when FEATURE_EMBEDDED_WORKER is on; never by
tests or management commands. Uploads wake it at once instead of waiting a poll;
what other processes add (import_folder, the API of another web process) wakes it
through the watch within about a second.
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Max

logger = logging.getLogger(__name__)

# How often the watch looks for images and work that other processes added.
WATCH_SECONDS = 1.0

_lock = threading.Lock()
_thread: threading.Thread | None = None
_wake = threading.Event()


def start_embedded_worker() -> bool:
    """Start the worker thread once per process; False if it is off or already running."""
    global _thread
    if not settings.FEATURE_EMBEDDED_WORKER:
        return False
    with _lock:
        if _thread is not None:
            return False
        from features.jobs.worker import Worker

        worker = Worker(wake=_wake)
        _thread = threading.Thread(target=worker.run_forever, kwargs={"poll": 30.0},
                                   name="feature-worker", daemon=True)
        _thread.start()
        threading.Thread(target=watch_forever, name="library-watch", daemon=True).start()
        return True


def wake() -> None:
    """Tell the embedded worker (if this process has one) that work arrived."""
    _wake.set()


class LibraryWatch:
    """Notices images added and work queued by other processes, with one cheap read.

    Why a read of the database and not a message: the in-memory channel layer reaches only
    this process, and a command such as import_folder runs in a process of its own. Why
    these reads: the largest image id and the largest queued task id come straight from
    the primary key indexes (a lookup, not a scan, however large the library) and change
    with every image added or queued anywhere, on SQLite and PostgreSQL alike (ids are
    never reused). SQLite's data_version pragma would also tell, but it changes with every
    other connection's write (sessions, API key use, the worker's own saves) and
    PostgreSQL has no such thing. The heavy step (claiming, re-blending) still runs only
    when woken or every 30 s.
    """

    def __init__(self):
        self.seen: tuple | None = None

    def look(self) -> tuple[bool, bool]:
        """(images changed, work queued) since the last look; both False the first time."""
        from features.models import FeatureTask
        from gallery.models import Image

        now = (Image.objects.aggregate(last=Max("pk"))["last"],
               FeatureTask.objects.aggregate(last=Max("pk"))["last"])
        before, self.seen = self.seen, now
        if before is None:
            return False, False
        return now[0] != before[0], now[1] != before[1]


def watch_forever(*, stop: threading.Event | None = None) -> None:
    """Wake the worker when other processes queued work, and tell the open pages (the
    status, with the library's counts) when images came or went."""
    from features.jobs import progress

    stop = stop or threading.Event()
    watch = LibraryWatch()
    while not stop.wait(WATCH_SECONDS):
        try:
            images, work = watch.look()
        except Exception:  # the database away for a moment: look again next time
            logger.debug("The library watch could not look", exc_info=True)
            close_old_connections()
            continue
        if images or work:
            _wake.set()
        if images:
            progress.publish_status()
    connection.close()  # this thread's own
