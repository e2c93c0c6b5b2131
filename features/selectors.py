"""Reads: the current job, the counts, and what the status endpoint and events show."""

from django.db.models import Exists, OuterRef

from features.models import FeatureFailure, FeatureJob, FeatureVector
from gallery.models import Image


def job_current(*, extractor: str) -> FeatureJob | None:
    """The running job of this extractor, else its latest one."""
    jobs = FeatureJob.objects.filter(extractor=extractor)
    return jobs.filter(state__in=FeatureJob.ACTIVE).first() or jobs.first()


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


def feature_status(*, extractor: str, serving: str | None = None) -> dict:
    """The configured extractor's current job (or None), counts and fingerprint, and the
    serving one's (what searches use; another while the library is re-embedded): see
    FeatureStatusSerializer."""
    counts = feature_counts(extractor=extractor)
    serving = serving or extractor
    serving_counts = counts if serving == extractor else feature_counts(extractor=serving)
    return {
        "job": job_current(extractor=extractor),
        "counts": counts,
        "extractor": extractor,
        "switching": serving != extractor,
        "serving": {"extractor": serving, "counts": serving_counts},
    }


def vectors_exist(*, extractor: str) -> bool:
    """Whether any image has a vector from this extractor."""
    return FeatureVector.objects.filter(extractor=extractor).exists()


def images_without_vectors(*, extractor: str):
    return Image.objects.filter(
        ~Exists(FeatureVector.objects.filter(image=OuterRef("pk"), extractor=extractor))
    )
