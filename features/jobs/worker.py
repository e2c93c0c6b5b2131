"""The extraction worker, made of small steps: claim a batch, prepare it (read and
decode, in threads), infer, save, report.

The next batch is claimed and decoded while the model runs the current one.
Claims are row locks on PostgreSQL (``SELECT ... FOR UPDATE SKIP LOCKED``), so any
number of workers on any machines never take the same image; on SQLite every write
transaction holds the database lock (IMMEDIATE mode), which serialises claims.

A claim older than FEATURE_CLAIM_TIMEOUT is a dead worker's and is taken over; a
starting worker at once takes back the claims of stopped workers of its own machine
(named host:pid:...). The save step stores only what is still claimed by its worker,
so a claim taken over is never stored twice.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import Unavailable
from features.extraction import Prepared, infer_prepared, prepare
from features.extractors.base import Extractor
from features.extractors.loader import get_extractor
from features.jobs import progress, services
from features.jobs.saving import batch_save
from features.jobs.stages import stages_run, stages_warm
from features.jobs.switching import extractor_switch_start
from features.models import FeatureJob, FeatureTask
from gallery.models import Image
from gallery.storage import StorageUnavailable, file_read

logger = logging.getLogger(__name__)

# A task claimed this many times was in flight whenever its worker died: give up on it.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Claimed:
    task_id: int
    image_id: int
    job_id: int
    filename: str
    file_name: str
    attempts: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def batch_claim(*, worker: str, extractor: str, size: int) -> list[Claimed]:
    """Take up to ``size`` queued images of running jobs for this worker."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FEATURE_CLAIM_TIMEOUT)
    with transaction.atomic():
        tasks = (FeatureTask.objects.filter(extractor=extractor, job__state__in=FeatureJob.ACTIVE)
                 .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)).order_by("id"))
        if connection.features.has_select_for_update_skip_locked:
            tasks = tasks.select_for_update(skip_locked=True, of=("self",))
        rows = list(tasks.values_list("pk", "image_id", "job_id", "attempts")[:size])
        if not rows:
            return []
        FeatureTask.objects.filter(pk__in=[row[0] for row in rows]).update(
            claimed_by=worker, claimed_at=now, attempts=F("attempts") + 1)
        FeatureJob.objects.filter(pk__in={row[2] for row in rows},
                                  state=FeatureJob.State.QUEUED).update(
            state=FeatureJob.State.RUNNING, started_at=now)
    files = {pk: (filename, file) for pk, filename, file in
             Image.objects.filter(pk__in=[row[1] for row in rows])
             .values_list("pk", "filename", "file")}
    return [Claimed(pk, image_id, job_id, *files[image_id], attempts + 1)
            for pk, image_id, job_id, attempts in rows if image_id in files]


def batch_release(*, worker: str, claimed: list[Claimed]) -> None:
    """Give claimed images back to the queue at once (stopping, or no model)."""
    FeatureTask.objects.filter(pk__in=[c.task_id for c in claimed], claimed_by=worker).update(
        claimed_by="", claimed_at=None, attempts=0)


def claims_release_dead_local() -> int:
    """Give back claims of workers that ran on this machine and are gone (a crash, a
    restart), so their images need not wait out FEATURE_CLAIM_TIMEOUT."""
    host = socket.gethostname()
    dead = []
    for name in FeatureTask.objects.exclude(claimed_by="").values_list(
            "claimed_by", flat=True).distinct():
        worker_host, _, rest = name.partition(":")
        pid = rest.partition(":")[0]
        if worker_host == host and pid.isdigit() and int(pid) != os.getpid() \
                and not _process_alive(int(pid)):
            dead.append(name)
    if not dead:
        return 0
    return FeatureTask.objects.filter(claimed_by__in=dead).update(claimed_by="",
                                                                   claimed_at=None)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def image_prepare(claimed: Claimed, extractor: Extractor) -> Prepared:
    """Read and preprocess one claimed image, keyed by its task."""
    if claimed.attempts > MAX_ATTEMPTS:
        return Prepared(claimed.task_id, reason=f"Extraction stopped {MAX_ATTEMPTS} times on "
                                                "this image (the worker died while reading it).")
    return prepare(claimed.task_id, lambda: _read_stored(claimed.file_name), extractor)


def _read_stored(name: str) -> bytes:
    return file_read(name)


class Worker:
    """Processes queued images until told to stop; each step is a method to test alone."""

    def __init__(self, *, extractor: Extractor | None = None, name: str | None = None,
                 batch_size: int | None = None, publish: Callable = progress.publish,
                 stop: threading.Event | None = None, wake: threading.Event | None = None):
        self.extractor = extractor or get_extractor()
        self.name = name or worker_name()
        self.batch_size = batch_size or settings.FEATURE_BATCH_SIZE
        self.publish = publish
        self.stop = stop or threading.Event()
        self.wake = wake or threading.Event()
        self.unavailable_reason = ""  # why the model cannot run, once said
        self.pool = ThreadPoolExecutor(max(1, settings.FEATURE_DECODE_THREADS),
                                       thread_name_prefix="feature-decode")

    def claim(self) -> list[Claimed]:
        return batch_claim(worker=self.name, extractor=self.extractor.fingerprint,
                           size=self.batch_size)

    def submit(self, claimed: list[Claimed]) -> list[Future]:
        return [self.pool.submit(image_prepare, c, self.extractor) for c in claimed]

    def recover(self) -> None:
        """At start: take back what dead workers of this machine held."""
        released = claims_release_dead_local()
        if released:
            logger.info("Took back %d images claimed by stopped workers", released)

    def run_until_idle(self) -> int:
        """Process batches until no work is left (or stop is set); return images processed.

        Then (and after every batch) the later stages do their share (features/jobs/stages.py).
        """
        processed = self._extract_until_idle()
        if not self.stop.is_set():
            self.step(idle=True)
        return processed

    def step(self, *, idle: bool) -> None:
        stages_run(extractor=self.extractor.fingerprint, idle=idle)

    def _extract_until_idle(self) -> int:
        fingerprint = self.extractor.fingerprint
        try:
            # Before adopting: without a model each poll would move the queue into a new
            # job only to fail it, and the job table would grow without end.
            self.extractor.check_available()
        except Unavailable as exc:
            self._unavailable(exc)
            return 0
        self.unavailable_reason = ""
        extractor_switch_start(extractor=self.extractor)
        services.tasks_adopt(extractor=fingerprint)
        claimed = self.claim()
        if not claimed:
            settled = services.job_settle_active(extractor=fingerprint)
            if settled:
                self.publish(settled)
            return 0
        try:
            self.extractor.load()
        except Unavailable as exc:
            batch_release(worker=self.name, claimed=claimed)
            self._unavailable(exc)
            return 0
        processed, futures = 0, self.submit(claimed)
        while claimed:
            started = time.monotonic()
            following = [] if self.stop.is_set() else self.claim()
            following_futures = self.submit(following)
            try:
                prepared = [f.result() for f in futures]
            except StorageUnavailable as exc:
                # The store is down, not the images: give them back for a later try.
                for future in following_futures:
                    future.cancel()
                batch_release(worker=self.name, claimed=claimed + following)
                logger.warning("Feature extraction paused: %s", exc.message)
                break
            result = infer_prepared(prepared, self.extractor)
            jobs = batch_save(worker=self.name, extractor=self.extractor, claimed=claimed,
                              vectors=result.vectors, failures=result.failures,
                              elapsed=time.monotonic() - started)
            for job in jobs:
                self.publish(job)
            self.step(idle=False)
            processed += len(claimed)
            claimed, futures = following, following_futures
            if self.stop.is_set() and claimed:
                for future in futures:
                    future.cancel()
                batch_release(worker=self.name, claimed=claimed)
                break
        return processed

    def _unavailable(self, exc: Unavailable) -> None:
        """No model: fail the running job (once: its images stay queued for a later one),
        and say why once, not on every poll."""
        job = services.job_fail_active(extractor=self.extractor.fingerprint, reason=exc.message)
        if job:
            self.publish(job)
        if exc.message != self.unavailable_reason:
            self.unavailable_reason = exc.message
            logger.error("Feature extraction cannot run: %s", exc.message)

    def run_forever(self, *, poll: float | None = None) -> None:
        poll = settings.FEATURE_POLL_SECONDS if poll is None else poll
        logger.info("Feature worker %s started (%s)", self.name, self.extractor.fingerprint)
        self.recover()
        stages_warm(extractor=self.extractor.fingerprint)
        while not self.stop.is_set():
            close_old_connections()
            try:
                self.run_until_idle()
            except Exception:
                logger.exception("Feature worker step failed; retrying")
                self.stop.wait(poll)
            self.wake.wait(poll)
            self.wake.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
        connection.close()
