"""Reacting to the feature worker: labels are kept in step in its thread."""

from django.dispatch import receiver

from features.signals import worker_step
from labels.services import labels_refresh

# While extraction runs, labelling after each batch gets this long before the next batch.
BUSY_BUDGET_SECONDS = 0.5


@receiver(worker_step, dispatch_uid="labels-keep-in-step")
def keep_labels(sender, extractor, idle, **kwargs):
    labels_refresh(budget_seconds=None if idle else BUSY_BUDGET_SECONDS)
