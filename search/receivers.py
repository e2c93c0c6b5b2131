"""Reacting to the feature worker: augmented vectors are kept in step in its thread, and
a re-embedded library is switched to once its augmented vectors are ready too."""

from django.dispatch import receiver

from features.jobs import progress
from features.signals import worker_step
from features.switching import extractor_switch_finish
from search.augmentation import augmentation_refresh

# While extraction runs, a pass after each batch gets this long before the next batch.
BUSY_BUDGET_SECONDS = 1.0


@receiver(worker_step, dispatch_uid="search-keep-augmentation")
def keep_augmentation(sender, extractor, idle, **kwargs):
    augmentation_refresh(extractor=extractor, budget_seconds=None if idle else BUSY_BUDGET_SECONDS)
    # Idle: nothing left to extract and (just above) nothing left to blend.
    if idle and extractor_switch_finish(fingerprint=extractor):
        progress.publish_status()
