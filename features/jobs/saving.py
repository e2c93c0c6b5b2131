"""The save step: vectors and failures in, tasks out, job counters up, in one transaction."""

import logging

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from features.extractors.base import Extractor
from features.jobs.services import job_finish, job_total_refresh
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector
from gallery.models import Image

logger = logging.getLogger(__name__)

# A gap longer than this between two saves (a restart) is not a measure of speed.
RATE_GAP_SECONDS = 60.0


def vectors_write(*, extractor: str, vectors: dict[int, np.ndarray]) -> None:
    """Store vectors by image id (a vector already there is kept) and forget those images'
    failures for the extractor. Every vector enters the library here: the worker's
    batches, the originals' features file, an imported library's vectors."""
    FeatureVector.objects.bulk_create(
        [FeatureVector(image_id=pk, extractor=extractor, dim=len(vector),
                       vector=np.asarray(vector, dtype=np.float32))
         for pk, vector in vectors.items()],
        ignore_conflicts=True,
    )
    FeatureFailure.objects.filter(extractor=extractor, image_id__in=list(vectors)).delete()


def batch_save(*, worker: str, extractor: Extractor, claimed: list, vectors: dict[int, np.ndarray],
               failures: dict[int, str], elapsed: float) -> list[FeatureJob]:
    """Store one batch's results; return its jobs, updated (done ones are finished).

    Tasks no longer claimed by this worker (their image was deleted, or a claim
    that timed out went to another worker) are skipped, so nothing is stored twice
    and nothing is stored for an image that is gone.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _save(worker, extractor, claimed, vectors, failures, elapsed)
        except IntegrityError:
            # On PostgreSQL an image deleted at this very moment fails its vector's
            # foreign key: save again without it.
            if attempt:
                raise
            logger.info("An image of the batch was deleted while saving; saving the rest")
    return []


def _save(worker, extractor, claimed, vectors, failures, elapsed) -> list[FeatureJob]:
    fingerprint = extractor.fingerprint
    tasks = FeatureTask.objects.filter(pk__in=[c.task_id for c in claimed], claimed_by=worker)
    # A task may have moved to another job since its claim (job_start, tasks_adopt): count
    # it in the job it is in now. Jobs are locked before tasks, as every other write does.
    job_ids = {c.job_id for c in claimed} | set(tasks.values_list("job_id", flat=True))
    jobs = _jobs_lock(job_ids)
    if connection.features.has_select_for_update:
        tasks = tasks.select_for_update()
    live = {pk: job_id for pk, job_id in tasks.values_list("pk", "job_id")}
    if moved := set(live.values()) - set(jobs):  # moved again in between: lock those too
        jobs.update(_jobs_lock(moved))
    existing = set(Image.objects.filter(pk__in=[c.image_id for c in claimed])
                   .values_list("pk", flat=True))
    mine = [c for c in claimed if c.task_id in live and c.image_id in existing]

    done = [c for c in mine if c.task_id in vectors]
    failed = [c for c in mine if c.task_id not in vectors]
    vectors_write(extractor=fingerprint, vectors={c.image_id: vectors[c.task_id] for c in done})
    for c in failed:
        FeatureFailure.objects.update_or_create(
            image_id=c.image_id, extractor=fingerprint,
            defaults={"job_id": live[c.task_id], "filename": c.filename,
                      "reason": failures.get(c.task_id, "The image could not be processed.")},
        )
    FeatureTask.objects.filter(pk__in=[c.task_id for c in mine]).delete()

    now = timezone.now()
    updated = []
    for job in jobs.values():
        if not job.is_active and job.pk not in live.values():
            continue  # ended, and none of its images here (they moved): nothing to announce
        n_done = sum(1 for c in done if live[c.task_id] == job.pk)
        n_failed = sum(1 for c in failed if live[c.task_id] == job.pk)
        job.done += n_done
        job.failed += n_failed
        job.rate = _rate(job, n_done + n_failed, elapsed, now)
        job.progressed_at = now
        job.save(update_fields=["done", "failed", "rate", "progressed_at"])
        if job_total_refresh(job) == 0:
            job_finish(job)
        updated.append(job)
    return updated


def _jobs_lock(job_ids) -> dict[int, FeatureJob]:
    return {job.pk: job for job in FeatureJob.objects.select_for_update()
            .filter(pk__in=sorted(pk for pk in job_ids if pk is not None)).order_by("pk")}


def _rate(job: FeatureJob, count: int, elapsed: float, now) -> float:
    """Images per second, smoothed; the gap since the job's last save counts every worker."""
    if count == 0:
        return job.rate
    # The first batch's own time: the gap since the job started would count the model load.
    gap = (now - job.progressed_at).total_seconds() if job.progressed_at else 0.0
    seconds = gap if 0 < gap < RATE_GAP_SECONDS else elapsed
    current = count / max(seconds, 1e-3)
    return current if job.rate == 0 else 0.5 * job.rate + 0.5 * current
