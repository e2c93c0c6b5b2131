"""Acting on duplicate groups: keep some images and delete the others, say a group is not
duplicates, or resolve every group with the keeper rule.

Deletes go through the library's own service (gallery.services.images_delete), so files
and rows go together and a store that refuses is reported. Each image is checked first
on its own: originals are never deleted, and an editor deletes only their own uploads;
the images that cannot be deleted are reported with why, and the others are deleted.
"""

from dataclasses import dataclass, field

from django.db import transaction

from accounts import rules
from core.errors import Forbidden, InvalidInput, NotFound
from duplicates.models import DismissedImage, DuplicateDismissal
from duplicates.selectors import ListedGroup, duplicate_grouping, group_get, group_images
from gallery import services as gallery
from gallery.models import Image
from gallery.storage import StorageUnavailable


@dataclass
class Resolution:
    groups: int = 0
    kept: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    # {"id", "code", "detail"} for each image that was to be deleted and was not.
    not_deleted: list[dict] = field(default_factory=list)


def group_resolve(*, key: str, threshold: float, keep: list[int] | None, by) -> Resolution:
    """Keep ``keep`` (default: the keeper rule's choice) and delete the group's others."""
    group = group_get(key=key, threshold=threshold)
    images = group_images([group])[group.key]
    if keep is None:
        keep = [images[0].pk]
    strangers = sorted(set(keep) - set(group.image_ids))
    if not keep or strangers:
        raise InvalidInput(
            "Keep at least one image, and only images of this group: "
            + (", ".join(map(str, strangers)) + " are not in it." if strangers
               else "the keep list is empty."),
            code="keep_not_in_group", extra={"not_in_group": strangers})
    resolution = Resolution(groups=1, kept=sorted(set(keep)))
    _delete(resolution, [image for image in images if image.pk not in set(keep)], by)
    return resolution


def groups_resolve_all(*, threshold: float, by) -> Resolution:
    """Every listed group: its keeper (by the keeper rule) kept, the others deleted."""
    groups: list[ListedGroup] = duplicate_grouping(threshold=threshold).groups
    resolution = Resolution(groups=len(groups))
    doomed = []
    for images in group_images(groups).values():
        resolution.kept.append(images[0].pk)
        doomed += images[1:]
    resolution.kept.sort()
    _delete(resolution, doomed, by)
    return resolution


def group_dismiss(*, key: str, threshold: float, by) -> DuplicateDismissal:
    """Remember that the group's images are not duplicates of each other: for everyone, so
    an editor decides only for a group of their own uploads."""
    group = group_get(key=key, threshold=threshold)
    if not rules.can_dismiss_duplicates(by, Image.objects.filter(pk__in=group.image_ids)):
        raise Forbidden(
            "You can mark as not duplicates only groups made entirely of your own uploads; "
            "this one has originals or others' uploads. Ask an admin.", code="not_your_group")
    with transaction.atomic():
        dismissal = DuplicateDismissal.objects.create(decided_by=by)
        DismissedImage.objects.bulk_create(
            [DismissedImage(dismissal=dismissal, image_id=image) for image in group.image_ids])
    dismissal.image_ids = list(group.image_ids)
    return dismissal


def decision_undo(*, decision_id: int) -> None:
    """Take a "not duplicates" decision back: its group is listed again."""
    deleted, _ = DuplicateDismissal.objects.filter(pk=decision_id).delete()
    if not deleted:
        raise NotFound(f"There is no \"not duplicates\" decision {decision_id}.",
                       code="unknown_decision")


def _delete(resolution: Resolution, images: list[Image], by) -> None:
    deletable = []
    for image in images:
        if image.is_original:
            resolution.not_deleted.append(_refusal(
                image, "original_protected", "Original images are protected and never deleted."))
        elif not rules.can_delete(by, image):
            resolution.not_deleted.append(_refusal(
                image, "not_your_upload", "You can delete only your own uploads."))
        else:
            deletable.append(image)
    try:
        gallery.images_delete(images=deletable, by=by)
        resolution.deleted = sorted(image.pk for image in deletable)
    except StorageUnavailable as exc:
        still = set(Image.objects.filter(pk__in=[image.pk for image in deletable])
                    .values_list("pk", flat=True))
        resolution.deleted = sorted(image.pk for image in deletable if image.pk not in still)
        resolution.not_deleted += [_refusal(image, exc.code, exc.message)
                                   for image in deletable if image.pk in still]
    resolution.not_deleted.sort(key=lambda entry: entry["id"])


def _refusal(image: Image, code: str, detail: str) -> dict:
    return {"id": image.pk, "filename": image.filename, "code": code, "detail": detail}
