"""The embedded worker: one daemon thread inside the web process.

Started once by imagesim/asgi.py when FEATURE_EMBEDDED_WORKER is on; never by
tests or management commands. Uploads wake it at once instead of waiting a poll.
"""

import logging
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

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
        return True


def wake() -> None:
    """Tell the embedded worker (if this process has one) that work arrived."""
    _wake.set()
