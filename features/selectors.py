"""Reads: the current job, the counts, and the body of the status endpoint and events."""

import math

from django.db.models import Exists, OuterRef

from features.models import FeatureFailure, FeatureJob, FeatureVector
from gallery.models import Image

FAILURES_SHOWN = 200


def job_current(*, extractor: str) -> FeatureJob | None:
    """The running job of this extractor, else its latest one."""
    jobs = FeatureJob.objects.filter(extractor=extractor)
    return jobs.filter(state__in=FeatureJob.ACTIVE).first() or jobs.first()


def job_as_dict(job: FeatureJob) -> dict:
    processed = job.done + job.failed
    remaining = max(0, job.total - processed)
    if job.total:
        percent = round(100.0 * processed / job.total, 1)
    else:
        percent = 0.0 if job.is_active else 100.0
    if not job.is_active:
        eta = 0 if job.state == FeatureJob.State.DONE else None
    else:
        eta = math.ceil(remaining / job.rate) if job.rate > 0 else None
    failures = FeatureFailure.objects.filter(job=job).values_list("image_id", "filename", "reason")
    return {
        "id": job.pk,
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "percent": percent,
        "rate": round(job.rate, 2),
        "eta_seconds": eta,
        "failures": [{"image_id": image_id, "filename": filename, "reason": reason}
                     for image_id, filename, reason in failures[:FAILURES_SHOWN]],
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def feature_counts(*, extractor: str) -> dict:
    vectors = FeatureVector.objects.filter(extractor=extractor)
    images = Image.objects.count()
    with_vectors = vectors.count()
    original_vectors = vectors.filter(image__is_original=True).count()
    failed = FeatureFailure.objects.filter(extractor=extractor).count()
    return {
        "images": images,
        "with_vectors": with_vectors,
        "pending": max(0, images - with_vectors - failed),
        "failed": failed,
        "original_vectors": original_vectors,
        "user_vectors": with_vectors - original_vectors,
    }


def feature_status(*, extractor: str) -> dict:
    job = job_current(extractor=extractor)
    return {
        "job": job_as_dict(job) if job else None,
        "counts": feature_counts(extractor=extractor),
        "extractor": extractor,
    }


def images_without_vectors(*, extractor: str):
    return Image.objects.filter(
        ~Exists(FeatureVector.objects.filter(image=OuterRef("pk"), extractor=extractor))
    )


def _iso(value) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
