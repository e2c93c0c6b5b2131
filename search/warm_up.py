"""Warming search up in the background as the server starts (imagesim/asgi.py)."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_search_warm_up() -> bool:
    """Run ``search_warm_up`` once per process in a daemon thread; False if already started
    or SEARCH_WARM_UP is off."""
    if not settings.SEARCH_WARM_UP or _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_run, name="search-warm-up", daemon=True).start()
    return True


def _run() -> None:
    from search.services import search_warm_up

    try:
        close_old_connections()
        if search_warm_up():  # an empty library has nothing to warm
            logger.info("Search warmed up")
    except Exception:  # a warm-up is a courtesy: the first search then just takes longer
        logger.exception("Search warm-up failed")
    finally:
        connection.close()
