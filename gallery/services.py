"""Writes to the library: add images, delete images.

Files and rows change together, so there is never a row without its file: a file is
stored before its row is committed and removed again if the row cannot be written;
on delete the image file goes first and its row right after (a store that refuses
the delete leaves the row, and says so), the thumbnail once the row is gone.
"""

import logging
import re
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts import rules
from core.errors import Forbidden, ImageSimError, InvalidInput, NotFound, TooLarge
from gallery.converters import STORED_NAME
from gallery.models import Image
from gallery.signals import images_added, images_deleted
from gallery.storage import StorageUnavailable, file_delete, file_save
from gallery.thumbnails import make_thumbnail
from gallery.uploads import UploadFile, display_name
from gallery.validation import CheckedImage, check_image

logger = logging.getLogger(__name__)

IMAGES_DIR = "images"
THUMBNAILS_DIR = "thumbnails"


@dataclass(frozen=True)
class UploadResult:
    image: Image
    duplicate: bool


def images_create(
    *, files: list[UploadFile], uploaded_by=None, is_original: bool = False
) -> list[UploadResult]:
    """Add several files at once: all are checked first, and one bad file stores nothing."""
    if not files:
        raise InvalidInput("No file was uploaded: send one or more images in the 'file' field.",
                           code="no_file")
    checked, errors = [], []
    for upload in files:
        try:
            checked.append((upload, check_image(upload.read(), name=upload.name)))
        except ImageSimError as exc:
            errors.append({"name": display_name(upload.name), "detail": exc.message,
                           "code": exc.code, "status": exc.status_code})
    if errors:
        error_class = TooLarge if errors[0]["status"] == TooLarge.status_code else InvalidInput
        raise error_class(
            errors[0]["detail"] if len(errors) == 1
            else f"{len(errors)} of {len(files)} files were not accepted; nothing was stored.",
            code=errors[0]["code"],
            extra={"errors": errors},
        )
    return [
        _store(upload.name, upload.read(), info, uploaded_by=uploaded_by, is_original=is_original)
        for upload, info in checked
    ]


def image_create(*, name: str, data: bytes, uploaded_by=None, is_original=False,
                 filename: str | None = None, announce: bool = True) -> UploadResult:
    """Add one file; ``filename`` asks for a stored name (used for originals). With
    ``announce`` off the caller sends ``images_added`` itself (once for many images)."""
    info = check_image(data, name=name)
    return _store(name, data, info, uploaded_by=uploaded_by, is_original=is_original,
                  filename=filename, announce=announce)


def _store(name: str, data: bytes, info: CheckedImage, *, uploaded_by, is_original,
           filename: str | None = None, announce: bool = True) -> UploadResult:
    existing = Image.objects.filter(sha256=info.sha256).first()
    if existing:
        return UploadResult(existing, duplicate=True)

    filename = _free_filename(filename, info)
    stem = filename.rsplit(".", 1)[0]
    thumbnail = make_thumbnail(data)
    saved = []
    try:
        saved.append(file_save(f"{IMAGES_DIR}/{filename}", data))
        saved.append(file_save(f"{THUMBNAILS_DIR}/{stem}.jpg", thumbnail))
        with transaction.atomic():
            image = Image.objects.create(
                filename=filename,
                file=saved[0],
                thumbnail=saved[1],
                name=display_name(name),
                is_original=is_original,
                sha256=info.sha256,
                width=info.width,
                height=info.height,
                format=info.format,
                size_bytes=len(data),
                uploaded_by=uploaded_by,
            )
    except IntegrityError:
        # Another request stored the same content (or took the name) a moment ago.
        _delete_files(*saved)
        existing = Image.objects.filter(sha256=info.sha256).first()
        if existing:
            return UploadResult(existing, duplicate=True)
        raise
    except BaseException:
        _delete_files(*saved)
        raise
    # Each image is announced once committed, so one failing later in a many-file
    # upload cannot keep those stored before it from being queued for features.
    if announce:
        transaction.on_commit(lambda: images_added.send(sender=Image, images=[image]))
    return UploadResult(image, duplicate=False)


_SAFE_NAME = re.compile(rf"^{STORED_NAME}$")


def _free_filename(wanted: str | None, info: CheckedImage) -> str:
    if wanted and _SAFE_NAME.match(wanted) and not Image.objects.filter(filename=wanted).exists():
        return wanted
    return f"{uuid.uuid4().hex}.{info.extension}"


def image_delete(*, image: Image, by=None) -> None:
    images_delete(images=[image], by=by)


def images_delete(*, images: list[Image], by=None) -> int:
    """Delete user uploads with their files, all or none: any original among them, or
    (when ``by`` names who asks) any upload that user may not delete, refuses them all."""
    originals = [image.filename for image in images if image.is_original]
    if originals:
        raise Forbidden(
            "Original images are protected and cannot be deleted: " + ", ".join(originals),
            code="original_protected",
            extra={"originals": originals},
        )
    if by is not None:
        others = [image.filename for image in images if not rules.can_delete(by, image)]
        if others:
            raise Forbidden(
                "You can delete only your own uploads; nothing was deleted: " + ", ".join(others),
                code="not_your_upload",
                extra={"not_yours": others},
            )
    deleted, kept, refusal = [], [], None
    for image in images:
        try:
            file_delete(image.file.name)
            deleted.append(image)
        except StorageUnavailable as exc:
            kept.append(image.filename)
            refusal = refusal or exc
    with transaction.atomic():
        Image.objects.filter(pk__in=[image.pk for image in deleted]).delete()
    thumbnails = [image.thumbnail.name for image in deleted]
    transaction.on_commit(lambda: _delete_files(*thumbnails))
    deleted_ids = [image.pk for image in deleted]
    transaction.on_commit(lambda: images_deleted.send(sender=Image, image_ids=deleted_ids))
    if refusal is not None:
        raise StorageUnavailable(
            f"{refusal.message} {len(deleted)} of {len(images)} deleted; still in the library: "
            + ", ".join(kept),
            extra={"deleted": len(deleted), "not_deleted": kept},
        )
    return len(deleted)


def images_delete_by_ids(*, ids: list[int], by=None) -> int:
    images = list(Image.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {image.pk for image in images})
    if missing:
        raise NotFound(
            "No image with id " + ", ".join(map(str, missing)) + "; nothing was deleted.",
            extra={"missing": missing},
        )
    return images_delete(images=images, by=by)


def _delete_files(*names: str) -> None:
    """Best effort, for files no row names any more."""
    for name in names:
        try:
            file_delete(name)
        except StorageUnavailable:
            logger.exception("Could not delete stored file %s", name)
