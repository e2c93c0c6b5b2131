"""Switching extractors without a gap: the library is re-embedded in the background and
searches move to the new vectors at once, when they are complete.

The configured extractor (FEATURE_EXTRACTOR, FEATURE_PRESET: the *target*) is what
uploads and jobs extract with. The *serving* one (the ServingExtractor row) is what
searches compare. When they differ, a feature worker starts a job over every image
without a target vector, and once every image has one (or failed, with its reason) and
the later stages are ready (search keeps augmented vectors), ``extractor_switch_finish``
points the row at the target in one update. Images added meanwhile get target vectors
only: they are found once the switch is made.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from core.errors import Unavailable
from features.extractors.base import Extractor
from features.extractors.loader import extractor_class, get_extractor
from features.jobs import services
from features.models import (
    FeatureFailure,
    FeatureJob,
    FeatureTask,
    FeatureVector,
    ServingExtractor,
)
from features.selectors import images_without_vectors

logger = logging.getLogger(__name__)


def extractor_serving() -> ServingExtractor:
    """The serving row, made on first use: the configured extractor, unless only another
    extractor's vectors are stored (an existing library), which then serves until the
    configured one's are complete."""
    row = ServingExtractor.objects.filter(pk=1).first()
    if row is not None:
        return row
    target = get_extractor()
    fingerprint, path, preset = target.fingerprint, settings.FEATURE_EXTRACTOR, target.preset
    if not FeatureVector.objects.filter(extractor=fingerprint).exists():
        most = (FeatureVector.objects.values("extractor").annotate(n=Count("id"))
                .order_by("-n", "extractor").first())
        if most is not None:
            fingerprint = most["extractor"]
            path, preset = _buildable(fingerprint)
    row, _ = ServingExtractor.objects.get_or_create(
        pk=1, defaults={"fingerprint": fingerprint, "path": path, "preset": preset})
    return row


def serving_extractor(serving: ServingExtractor | None = None) -> Extractor:
    """The extractor that makes query vectors comparable with the serving ones;
    Unavailable when it cannot be built (vectors left by an earlier version)."""
    serving = serving or extractor_serving()
    target = get_extractor()
    if serving.fingerprint == target.fingerprint:
        return target
    if serving.path and serving.preset:
        try:
            extractor = get_extractor(path=serving.path, preset=serving.preset)
        except Exception:  # the class or preset is gone from this version
            extractor = None
        if extractor is not None and extractor.fingerprint == serving.fingerprint:
            return extractor
    raise Unavailable(
        "The library is being re-embedded with the newly configured extractor, and the "
        "previous one cannot read new photos: search by upload is back when that completes "
        "(search by library image works meanwhile).", code="switching_extractor")


def extractor_switching() -> bool:
    return extractor_serving().fingerprint != get_extractor().fingerprint


def extractor_switch_start(*, extractor: Extractor) -> FeatureJob | None:
    """While the configured extractor is not the serving one, make sure a job covers every
    image with neither its vector nor a failure; return a job started here."""
    fingerprint = extractor.fingerprint
    if extractor_serving().fingerprint == fingerprint:
        return None
    waiting = images_without_vectors(extractor=fingerprint).exclude(
        pk__in=FeatureFailure.objects.filter(extractor=fingerprint).values("image_id")).exclude(
        pk__in=FeatureTask.objects.filter(extractor=fingerprint).values("image_id"))
    if not waiting.exists():
        return None
    ids = list(waiting.values_list("pk", flat=True))
    logger.info("Re-embedding %d images with %s (searches use %s until then)", len(ids),
                fingerprint, extractor_serving().fingerprint)
    return services.images_enqueue(image_ids=ids, extractor=fingerprint)


def extractor_switch_finish(*, fingerprint: str) -> bool:
    """Point searches at ``fingerprint`` if it is the configured extractor and its set is
    complete: every image has its vector or a failure, nothing queued. True if switched."""
    if fingerprint != get_extractor().fingerprint:
        return False
    with transaction.atomic():
        serving = extractor_serving()
        if serving.fingerprint == fingerprint:
            return False
        if FeatureTask.objects.filter(extractor=fingerprint).exists():
            return False
        missing = images_without_vectors(extractor=fingerprint).exclude(
            pk__in=FeatureFailure.objects.filter(extractor=fingerprint).values("image_id"))
        if missing.exists() or not FeatureVector.objects.filter(extractor=fingerprint).exists():
            return False
        previous = serving.fingerprint
        serving.fingerprint, serving.path = fingerprint, settings.FEATURE_EXTRACTOR
        serving.preset = get_extractor().preset
        serving.save()
    logger.info("Searches now use %s (were %s)", fingerprint, previous)
    return True


def _buildable(fingerprint: str) -> tuple[str, str]:
    """The configured class and the preset of it that makes ``fingerprint``, if any."""
    path = settings.FEATURE_EXTRACTOR
    for preset in extractor_class(path).presets:
        if get_extractor(path=path, preset=preset).fingerprint == fingerprint:
            return path, preset
    return "", ""
