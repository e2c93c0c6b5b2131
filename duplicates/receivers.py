"""Reacting to the feature worker: new vectors are compared for duplicates in its thread."""

from django.dispatch import receiver

from duplicates.finding import duplicates_refresh
from features.signals import worker_step

# While extraction runs, a pass after each batch gets this long before the next batch.
BUSY_BUDGET_SECONDS = 1.0


@receiver(worker_step, dispatch_uid="duplicates-find-pairs")
def find_duplicate_pairs(sender, extractor, idle, **kwargs):
    duplicates_refresh(extractor=extractor, budget_seconds=None if idle else BUSY_BUDGET_SECONDS)
