"""Job progress for the websockets of a web process that runs no worker, from the database.

bin/serve runs several web processes (imagesim/serve.py) and only the first runs the
embedded worker. Its progress events reach websockets through the channel layer, and the
default layer lives in one process's memory. So in the other processes, while a websocket
is open there, a relay reads the jobs once a second and publishes to that process's own
sockets what changed since: a job's progress or its end, and a switch of the extractor
searches use, as the same events the worker sends. With Redis (REDIS_URL) every process
hears the worker itself, and no relay runs.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from features.jobs import progress
from features.models import FeatureJob
from features.serving import serving_fingerprint

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


def relay_wanted() -> bool:
    return settings.WEB_PROCESS_INDEX > 0 and not settings.REDIS_URL


class ProgressRelay:
    def __init__(self, interval: float = INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._listeners = 0
        self._thread: threading.Thread | None = None
        self._seen: dict[int, tuple] = {}  # job id -> what was last published of it
        self._serving: str | None = None

    def listener_added(self) -> None:
        with self._lock:
            self._listeners += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="progress-relay",
                                                daemon=True)
                self._thread.start()

    def listener_removed(self) -> None:
        with self._lock:
            self._listeners = max(0, self._listeners - 1)

    def _run(self) -> None:
        try:
            # What a socket learns when it connects (its "status" message) is not news.
            self._look(publish=False)
            while True:
                time.sleep(self.interval)
                with self._lock:
                    if not self._listeners:
                        self._thread = None
                        return
                self._look(publish=True)
        finally:
            connection.close()

    def _look(self, *, publish: bool) -> None:
        try:
            self._changes(publish)
        except DatabaseError:
            logger.warning("Job progress could not be read for this process' websockets",
                           exc_info=True)
        finally:
            close_old_connections()

    def _changes(self, publish: bool) -> None:
        recent = timezone.now() - timedelta(seconds=10 * self.interval + 10)
        jobs = FeatureJob.objects.filter(Q(state__in=FeatureJob.ACTIVE) | Q(pk__in=list(self._seen))
                                         | Q(finished_at__gte=recent))
        seen = {}
        for job in jobs:
            now = (job.state, job.total, job.done, job.failed)
            if publish and self._seen.get(job.pk) != now:
                progress.publish(job)
            # An ended job is remembered while it is recent, so its end is told once.
            if job.is_active or (job.finished_at and job.finished_at >= recent):
                seen[job.pk] = now
        self._seen = seen
        serving = serving_fingerprint()
        if publish and self._serving is not None and serving != self._serving:
            progress.publish_status()
        self._serving = serving


relay = ProgressRelay()
