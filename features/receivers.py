"""Reacting to the library: new (and restored) uploads are queued for extraction
automatically; an image moved to the trash loses its vectors and queued tasks; a deletion
wakes the embedded worker, whose next step re-blends the neighbours it changed."""

import logging

from django.dispatch import receiver

from features.extractors.loader import get_extractor
from features.jobs import embedded, services
from features.models import FeatureTask, FeatureVector
from gallery.signals import images_added, images_deleted, images_trashing

logger = logging.getLogger(__name__)


@receiver(images_added, dispatch_uid="features-queue-uploads")
def queue_new_images(sender, images, **kwargs):
    # Runs after the upload committed: a failure here must not fail the upload. The
    # image then simply has no vector yet, and "Generate features" picks it up.
    try:
        services.images_enqueue(image_ids=[image.pk for image in images],
                                extractor=get_extractor().fingerprint)
    except Exception:
        logger.exception("Could not queue new images for feature extraction")
        return
    embedded.wake()


@receiver(images_deleted, dispatch_uid="features-wake-on-delete")
def wake_on_delete(sender, image_ids, **kwargs):
    embedded.wake()


@receiver(images_trashing, dispatch_uid="features-forget-trashed")
def forget_trashed(sender, image_ids, **kwargs):
    # In the trashing transaction: an image in the trash is neither extracted nor found.
    # Tasks go first: on PostgreSQL this waits for a worker saving them, so its vectors are
    # committed (and seen by the delete below) before they are removed.
    FeatureTask.objects.filter(image_id__in=image_ids).delete()
    FeatureVector.objects.filter(image_id__in=image_ids).delete()
