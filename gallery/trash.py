"""The trash: deleted uploads wait here TRASH_DAYS before their files are freed.

Moving to the trash only stamps ``trashed_at``: the row, its file and its thumbnail stay,
and the default manager (``Image.objects``) leaves the image out of everything the
library shows. What later stages derived from it (feature vectors, queued extraction) is
removed in the same transaction by the receivers of ``images_trashing``, so searches and
duplicate groups lose it at once. Restoring clears the stamp and announces the image as
an upload is announced (``images_added``): it is queued for features again.

Purging (after TRASH_DAYS, "Empty trash", or "Delete for good") deletes the row and its
files: the image file first and its row right after (a store that refuses the delete
leaves the row, and says so), the thumbnail once the row is gone, so there is never a
row without its file nor a stored file without a row.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import rules
from core.errors import Forbidden
from gallery.models import Image
from gallery.signals import images_added, images_deleted, images_trashing
from gallery.storage import StorageUnavailable, file_delete

logger = logging.getLogger(__name__)

# Images purged per transaction, so emptying a large trash never holds a long lock.
PURGE_CHUNK = 200


def images_trash(*, images: list[Image], by=None) -> int:
    """Move images to the trash (the caller has checked who may); return how many."""
    ids = [image.pk for image in images if image.trashed_at is None]
    now = timezone.now()
    with transaction.atomic():
        moved = Image.all_objects.filter(pk__in=ids, trashed_at__isnull=True).update(
            trashed_at=now, trashed_by=by if by is not None and by.is_authenticated else None)
        images_trashing.send(sender=Image, image_ids=ids)
    for image in images:
        image.trashed_at = image.trashed_at or now
    transaction.on_commit(lambda: images_deleted.send(sender=Image, image_ids=ids))
    return moved


def image_restore(*, image: Image, by=None) -> Image:
    """Bring an image back from the trash (when ``by`` names who asks: the owner or an
    admin); it is queued for features again, as an upload is."""
    if by is not None and not rules.can_delete(by, image):
        raise Forbidden("You can restore only your own uploads.", code="not_your_upload")
    with transaction.atomic():
        Image.all_objects.filter(pk=image.pk).update(trashed_at=None, trashed_by=None)
    image.trashed_at, image.trashed_by = None, None
    transaction.on_commit(lambda: images_added.send(sender=Image, images=[image]))
    return image


def images_purge(*, images: list[Image]) -> int:
    """Delete images for good, with their files; return how many went. A store that
    refuses a file's delete keeps that image (still in the trash) and raises."""
    deleted, kept, refusal = [], [], None
    for image in images:
        try:
            file_delete(image.file.name)
            deleted.append(image)
        except StorageUnavailable as exc:
            kept.append(image.filename)
            refusal = refusal or exc
    with transaction.atomic():
        Image.all_objects.filter(pk__in=[image.pk for image in deleted]).delete()
    thumbnails = [image.thumbnail.name for image in deleted]
    transaction.on_commit(lambda: files_delete(*thumbnails))
    if refusal is not None:
        raise StorageUnavailable(
            f"{refusal.message} {len(deleted)} of {len(images)} deleted; not deleted: "
            + ", ".join(kept),
            extra={"deleted": len(deleted), "not_deleted": kept},
        )
    return len(deleted)


def image_purge(*, image: Image, by=None) -> None:
    """"Delete for good" one image of the trash (the owner's or an admin's)."""
    if by is not None and not rules.can_delete(by, image):
        raise Forbidden("You can delete only your own uploads.", code="not_your_upload")
    images_purge(images=[image])


def trash_empty(*, by=None, older_than_days: float | None = None) -> int:
    """Purge the trash (``by``'s own part of it unless an admin; None: all of it), or only
    what has been there longer than ``older_than_days``; return how many went."""
    trashed = Image.all_objects.trashed().order_by("pk")
    if by is not None and not rules.can_delete_any(by):
        trashed = trashed.filter(uploaded_by=by) if by.is_authenticated else trashed.none()
    if older_than_days is not None:
        trashed = trashed.filter(
            trashed_at__lte=timezone.now() - timedelta(days=older_than_days))
    total = 0
    # Purged rows leave the query, so each round reads the next chunk; a store that
    # refuses raises, which ends the loop.
    while chunk := list(trashed[:PURGE_CHUNK]):
        total += images_purge(images=chunk)
    return total


def trash_purge_expired() -> int:
    """Purge what has been in the trash longer than TRASH_DAYS (the daily purge)."""
    return trash_empty(older_than_days=settings.TRASH_DAYS)


def files_delete(*names: str) -> None:
    """Best effort, for files no row names any more."""
    for name in names:
        try:
            file_delete(name)
        except StorageUnavailable:
            logger.exception("Could not delete stored file %s", name)
