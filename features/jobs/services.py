"""Writes: start a job, queue images, settle the queue, fail a job.

Invariant kept by every write, through ``job_total_refresh`` alone: a job's ``total``
is ``done + failed`` plus the tasks still attached to it, so deleting an image
mid-job just shrinks the total.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from features.extractors.base import Extractor
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector
from features.selectors import images_without_vectors

logger = logging.getLogger(__name__)
CHUNK = 1000


def job_start(*, extractor: Extractor) -> tuple[FeatureJob, bool]:
    """Start a job over every image without a vector; (job, False) if one is running."""
    extractor.check_available()
    fingerprint = extractor.fingerprint
    job_settle_active(extractor=fingerprint)  # its images may all have been deleted
    running = _active_job(fingerprint)
    if running:
        return running, False
    ids = list(images_without_vectors(extractor=fingerprint).values_list("pk", flat=True))
    try:
        with transaction.atomic():
            job = FeatureJob.objects.create(extractor=fingerprint)
            _tasks_create(ids, fingerprint)
            # Images that failed before get another try.
            FeatureFailure.objects.filter(extractor=fingerprint).delete()
            FeatureTask.objects.filter(extractor=fingerprint).update(job=job)
            job = _recount(job)
            if job.total == 0:
                job_finish(job)  # nothing to do: done at once
    except IntegrityError:  # another request started one a moment ago
        running = _active_job(fingerprint)
        if running:
            return running, False
        raise
    return job, True


def images_enqueue(*, image_ids: list[int], extractor: str) -> FeatureJob | None:
    """Queue images for extraction (new uploads) in the running job, or a new one."""
    with transaction.atomic():
        ids = list(images_without_vectors(extractor=extractor).filter(pk__in=image_ids)
                   .values_list("pk", flat=True))
        _tasks_create(ids, extractor)
    return tasks_adopt(extractor=extractor)


def tasks_adopt(*, extractor: str) -> FeatureJob | None:
    """Attach queued tasks that belong to no running job to the running job (made if needed).

    A worker calls this when it starts, so work left by a failed job or by a crash
    between an upload's commit and its queueing is picked up again.
    """
    orphans = FeatureTask.objects.filter(extractor=extractor).filter(
        Q(job__isnull=True) | ~Q(job__state__in=FeatureJob.ACTIVE))
    if not orphans.exists():
        return _active_job(extractor)
    for attempt in range(3):
        try:
            with transaction.atomic():
                job = _active_job(extractor, lock=True) or FeatureJob.objects.create(
                    extractor=extractor)
                orphans.update(job=job)
                return _recount(job)
        except IntegrityError:  # two processes made a job at once: join the other one
            if attempt == 2:
                raise
    return None


def tasks_settle(*, extractor: str) -> FeatureJob | None:
    """Drop queued tasks whose image already has a vector (seeded from a file, say)."""
    with transaction.atomic():
        has_vector = FeatureVector.objects.filter(image=OuterRef("image"), extractor=extractor)
        FeatureTask.objects.filter(extractor=extractor).filter(Exists(has_vector)).delete()
        job = _active_job(extractor, lock=True)
        if job is None:
            return None
        job = _recount(job)
        if job.total == 0:
            job.delete()  # it never did anything: not worth showing
            return None
        return job


def job_settle_active(*, extractor: str) -> FeatureJob | None:
    """Finish the running job if no task is left in it (its images were deleted before a
    worker took them); return it when this call finished it, so it can be announced."""
    job = _active_job(extractor)
    if job is None or FeatureTask.objects.filter(job=job).exists():
        return None  # the usual case, known without a write transaction
    with transaction.atomic():
        job = _active_job(extractor, lock=True)
        if job is None or FeatureTask.objects.filter(job=job).exists():
            return None
        job_total_refresh(job)
        return job if job_finish(job) else None


def job_fail_active(*, extractor: str, reason: str) -> FeatureJob | None:
    """Mark the running job failed (the model cannot load); its tasks stay queued."""
    with transaction.atomic():
        job = _active_job(extractor, lock=True)
        if job is None:
            return None
        job.state = FeatureJob.State.FAILED
        job.error = reason
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at"])
        return job


def _active_job(extractor: str, *, lock: bool = False) -> FeatureJob | None:
    jobs = FeatureJob.objects.filter(extractor=extractor, state__in=FeatureJob.ACTIVE)
    if lock:
        jobs = jobs.select_for_update()
    return jobs.order_by("id").first()


def _tasks_create(image_ids: list[int], extractor: str) -> None:
    for start in range(0, len(image_ids), CHUNK):
        FeatureTask.objects.bulk_create(
            [FeatureTask(image_id=pk, extractor=extractor) for pk in image_ids[start:start + CHUNK]],
            ignore_conflicts=True,
        )


def job_total_refresh(job: FeatureJob) -> int:
    """The one rule of a job's counters: ``total = done + failed + its tasks left``.

    Writes ``total`` from the stored counters and returns the tasks left. Inside a
    transaction that holds the job's lock.
    """
    remaining = FeatureTask.objects.filter(job=job).count()
    FeatureJob.objects.filter(pk=job.pk).update(total=F("done") + F("failed") + remaining)
    job.refresh_from_db()
    return remaining


def _recount(job: FeatureJob) -> FeatureJob:
    """Make ``total`` true again; finish the job when nothing is left. Inside a transaction."""
    remaining = job_total_refresh(job)
    if remaining == 0 and job.is_active and job.total > 0:
        job_finish(job)
    return job


def job_finish(job: FeatureJob) -> bool:
    """Mark a job done once; True for the caller that did it (it announces completion)."""
    now = timezone.now()
    finished = FeatureJob.objects.filter(pk=job.pk, state__in=FeatureJob.ACTIVE).update(
        state=FeatureJob.State.DONE, finished_at=now)
    if finished:
        job.state, job.finished_at = FeatureJob.State.DONE, now
        job.started_at = job.started_at or now
        FeatureJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now)
    return bool(finished)
