"""Reads: the current job, the counts, and the status body the API, the websocket and
the published events all send (one shape everywhere; features/api/serializers.py
describes it for the OpenAPI schema)."""

from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from features.extractors.loader import get_extractor
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector, VectorCount
from features.serving import serving_fingerprint
from gallery.models import Image
from gallery.selectors import live_count

# Failures listed in a job's body (the job's ``failed`` counts them all).
FAILURES_SHOWN = 200


def job_current(*, extractor: str) -> FeatureJob | None:
    """The running job of this extractor, else its latest one."""
    jobs = FeatureJob.objects.filter(extractor=extractor)
    return jobs.filter(state__in=FeatureJob.ACTIVE).first() or jobs.first()


def feature_counts(*, extractor: str) -> dict:
    """The library's images (the trash left out, as everywhere) and how many of them have a
    vector from ``extractor``, could not be read by it (a failure stays while its image is
    in the trash, in case it comes back), or wait for it."""
    vectors = FeatureVector.objects.filter(extractor=extractor)
    if connection.vendor == "sqlite":  # kept by triggers, not a million rows counted each time
        images, with_vectors = live_count(), _vectors_kept(extractor=extractor)
    else:
        images, with_vectors = Image.objects.count(), vectors.count()
    # From the originals (a small index) to their vectors: joined the other way, SQLite
    # looked up the image of every vector (1.4 s warm, 6.5 s cold at a million).
    original_vectors = Image.objects.filter(is_original=True).filter(
        Exists(vectors.filter(image=OuterRef("pk")))).count()
    failed = FeatureFailure.objects.filter(extractor=extractor,
                                           image__trashed_at__isnull=True).count()
    return {
        "images": images,
        "with_vectors": with_vectors,
        "pending": max(0, images - with_vectors - failed),
        "failed": failed,
        "original_vectors": original_vectors,
        "user_vectors": with_vectors - original_vectors,
    }


def _vectors_kept(*, extractor: str) -> int:
    """The extractor's vector count as SQLite's triggers keep it (VectorCount). Images in
    the trash have no vectors (the trash deletes them, gallery/trash.py)."""
    return (VectorCount.objects.filter(extractor=extractor)
            .values_list("vectors", flat=True).first() or 0)


def job_body(job: FeatureJob) -> dict:
    """A job as the API and the progress events show it."""
    return {
        "id": job.pk,
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "percent": job.percent,
        "rate": round(job.rate, 2),
        "eta_seconds": job.eta_seconds,
        "failures": list(job.failures.values("image_id", "filename", "reason")[:FAILURES_SHOWN]),
        "created_at": _timestamp(job.created_at),
        "started_at": _timestamp(job.started_at),
        "finished_at": _timestamp(job.finished_at),
    }


def _timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in the current time zone, "Z" for UTC (as Django REST framework writes it)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat().replace("+00:00", "Z")


def feature_status_body() -> dict:
    """The status of the configured extractor and of the serving one."""
    return feature_status(extractor=get_extractor().fingerprint, serving=serving_fingerprint())


def feature_status(*, extractor: str, serving: str | None = None) -> dict:
    """The configured extractor's current job (or None), counts and fingerprint, and the
    serving one's (what searches use; another while the library is re-embedded)."""
    counts = feature_counts(extractor=extractor)
    serving = serving or extractor
    serving_counts = counts if serving == extractor else feature_counts(extractor=serving)
    job = job_current(extractor=extractor)
    return {
        "job": job_body(job) if job else None,
        "counts": counts,
        "extractor": extractor,
        "switching": serving != extractor,
        "serving": {"extractor": serving, "counts": serving_counts},
    }


def vectors_exist(*, extractor: str) -> bool:
    """Whether any image has a vector from this extractor."""
    return FeatureVector.objects.filter(extractor=extractor).exists()


def tasks_exist() -> bool:
    """Whether any image waits for its vector (features are being extracted)."""
    return FeatureTask.objects.exists()


def images_queued(image_ids) -> set[int]:
    """Those of these images that wait for their vector."""
    return set(FeatureTask.objects.filter(image_id__in=image_ids)
               .values_list("image_id", flat=True))


def images_without_vectors(*, extractor: str):
    return Image.objects.filter(
        ~Exists(FeatureVector.objects.filter(image=OuterRef("pk"), extractor=extractor))
    )
