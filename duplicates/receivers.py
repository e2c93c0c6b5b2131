"""Reacting to the feature worker: new vectors are compared for duplicates in its thread."""

from django.conf import settings
from django.dispatch import receiver

from duplicates.finding import duplicates_refresh
from duplicates.hash_finding import hashes_pass
from duplicates.selectors import duplicate_grouping
from features.signals import worker_step

# While extraction runs, a pass after each batch gets this long before the next batch.
BUSY_BUDGET_SECONDS = 1.0


@receiver(worker_step, dispatch_uid="duplicates-find-pairs")
def find_duplicate_pairs(sender, extractor, idle, **kwargs):
    hashes_pass()
    duplicates_refresh(extractor=extractor, budget_seconds=None if idle else BUSY_BUDGET_SECONDS)
    if idle:
        # Form the default threshold's groups now, off the request path: in the embedded
        # worker (the web process itself) the next listing finds them formed.
        duplicate_grouping(threshold=settings.DUPLICATE_THRESHOLD)
