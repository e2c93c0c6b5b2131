"""The demo library: the originals shipped in FEATURE_ORIGINALS_DIR, which bin/serve seeds
into a library unless DEMO_ORIGINALS is off or they were removed from it once."""

import hashlib
from pathlib import Path

from django.db import transaction

from gallery.models import DemoRemoval, Image
from gallery.imports import folder_files, is_image_name
from gallery.services import images_delete


def demo_removed() -> bool:
    return DemoRemoval.objects.exists()


def demo_images(*, folder: Path):
    """The library's images whose content is one of the folder's files."""
    hashes = [hashlib.sha256(path.read_bytes()).hexdigest() for path in folder_files(folder)
              if is_image_name(path)]
    return Image.objects.filter(sha256__in=hashes)


def demo_remove(*, folder: Path) -> int:
    """Delete the demo originals with their files, vectors and labels, and remember it, so
    they are not seeded again; return how many were deleted.

    Remembered first: if the store refuses some deletions (StorageUnavailable), those
    images stay as unprotected images and a rerun deletes them.
    """
    images = list(demo_images(folder=folder))
    with transaction.atomic():
        if not demo_removed():
            DemoRemoval.objects.create()
        Image.objects.filter(pk__in=[image.pk for image in images]).update(is_original=False)
    for image in images:
        image.is_original = False
    return images_delete(images=images)
