"""Writes of an extractor switch: the library is re-embedded in the background and
searches move to the new vectors at once, when they are complete (features/serving.py
reads which extractor serves).

When the configured extractor is not the serving one, a feature worker starts a job over
every image without a vector of it (``extractor_switch_start``); once every image has one
(or failed, with its reason) and every later stage is ready (features/jobs/stages.py),
``extractor_switch_finish`` points the serving row at it in one update. Images added
meanwhile get the new extractor's vectors only: they are found once the switch is made.
"""

import logging

from django.conf import settings
from django.db import transaction

from features.extractors.base import Extractor
from features.extractors.loader import get_extractor
from features.jobs import services
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector
from features.selectors import images_without_vectors
from features.serving import serving_fingerprint, serving_row

logger = logging.getLogger(__name__)


def extractor_switch_start(*, extractor: Extractor) -> FeatureJob | None:
    """While the configured extractor is not the serving one, make sure a job covers every
    image with neither its vector nor a failure; return a job started here."""
    fingerprint = extractor.fingerprint
    serving = serving_fingerprint()
    if serving == fingerprint:
        return None
    waiting = images_without_vectors(extractor=fingerprint).exclude(
        pk__in=FeatureFailure.objects.filter(extractor=fingerprint).values("image_id")).exclude(
        pk__in=FeatureTask.objects.filter(extractor=fingerprint).values("image_id"))
    if not waiting.exists():
        return None
    ids = list(waiting.values_list("pk", flat=True))
    logger.info("Re-embedding %d images with %s (searches use %s until then)", len(ids),
                fingerprint, serving)
    return services.images_enqueue(image_ids=ids, extractor=fingerprint)


def extractor_switch_finish(*, fingerprint: str) -> bool:
    """Point searches at ``fingerprint`` if it is the configured extractor and its set is
    complete: every image has its vector or a failure, nothing queued. True if switched."""
    if fingerprint != get_extractor().fingerprint:
        return False
    with transaction.atomic():
        row = serving_row()
        if row.fingerprint == fingerprint:
            return False
        if FeatureTask.objects.filter(extractor=fingerprint).exists():
            return False
        missing = images_without_vectors(extractor=fingerprint).exclude(
            pk__in=FeatureFailure.objects.filter(extractor=fingerprint).values("image_id"))
        if missing.exists() or not FeatureVector.objects.filter(extractor=fingerprint).exists():
            return False
        previous = row.fingerprint
        row.fingerprint, row.path = fingerprint, settings.FEATURE_EXTRACTOR
        row.preset = get_extractor().preset
        row.save()
    logger.info("Searches now use %s (were %s)", fingerprint, previous)
    return True
