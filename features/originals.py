"""The shipped originals: import a folder of images, and store or load their vectors.

The features file (``.npz``) holds ``vectors`` (n, dim) float32, ``filenames`` and
``sha256`` (n,) and ``extractor`` (the fingerprint). Vectors are matched to images
by content hash, so a renamed file still gets its vector.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import transaction

from features.jobs import services
from features.models import FeatureFailure, FeatureVector
from gallery import services as gallery
from gallery.models import Image
from core.errors import ImageSimError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"}


class FeaturesFileError(Exception):
    """The features file is missing, unreadable or from another extractor."""


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass(frozen=True)
class ImportResult:
    images: list[Image]  # every image of the folder that could be read, in file-name order
    added: int
    skipped: list[Skipped] = field(default_factory=list)  # files that could not be imported


def folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def originals_import(*, folder: Path) -> ImportResult:
    """Add the folder's images as originals; images already there (same content) are kept.

    A file that cannot be read or is not a valid image is skipped and reported in
    ``skipped``: one bad file does not stop the others.
    """
    images, added, skipped = [], 0, []
    known = dict(Image.objects.values_list("sha256", "pk"))
    for path in folder_images(folder):
        try:
            data = path.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(path, f"It cannot be read ({exc.strerror or exc})."))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in known:
            image = Image.objects.get(pk=known[digest])
        else:
            try:
                result = gallery.image_create(name=path.name, data=data, is_original=True,
                                              filename=path.name)
            except ImageSimError as exc:
                skipped.append(Skipped(path, exc.message))
                continue
            image, added = result.image, added + (not result.duplicate)
        if not image.is_original:  # uploaded before it shipped: it is an original now
            Image.objects.filter(pk=image.pk).update(is_original=True)
            image.is_original = True
        images.append(image)
    return ImportResult(images, added, skipped)


def vectors_store(*, extractor: str, vectors: dict[int, np.ndarray]) -> int:
    """Store vectors by image id (existing ones are kept); return how many were new."""
    with transaction.atomic():
        before = FeatureVector.objects.filter(extractor=extractor).count()
        FeatureVector.objects.bulk_create(
            [FeatureVector(image_id=pk, extractor=extractor, dim=len(vector),
                           vector=np.asarray(vector, dtype=np.float32))
             for pk, vector in vectors.items()],
            ignore_conflicts=True,
        )
        FeatureFailure.objects.filter(extractor=extractor, image_id__in=list(vectors)).delete()
        added = FeatureVector.objects.filter(extractor=extractor).count() - before
    services.tasks_settle(extractor=extractor)
    return added


def features_file_write(*, path: Path, extractor: str, images: list[Image],
                        vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez_compressed(
            handle, vectors=np.asarray(vectors, dtype=np.float32),
            filenames=np.array([image.filename for image in images]),
            sha256=np.array([image.sha256 for image in images]),
            extractor=np.array(extractor),
        )


def features_file_load(*, path: Path, extractor: str) -> int:
    """Store the file's vectors for the images with the same content; return how many were new."""
    if not path.is_file():
        raise FeaturesFileError(f"No features file at {path}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            made_by = str(data["extractor"])
            vectors, hashes = data["vectors"].astype(np.float32), [str(h) for h in data["sha256"]]
    except (OSError, KeyError, ValueError) as exc:
        raise FeaturesFileError(f"The features file {path} cannot be read ({exc}).") from None
    if made_by != extractor:
        raise FeaturesFileError(
            f"The features file {path} was made by extractor {made_by}, but this deployment "
            f"uses {extractor} (other weights or preprocessing): its vectors would not compare. "
            "Run 'manage.py precompute_originals' with the current weights to remake it, "
            "or generate features in the app."
        )
    ids = dict(Image.objects.filter(sha256__in=hashes).values_list("sha256", "pk"))
    return vectors_store(extractor=extractor,
                         vectors={ids[h]: vector for h, vector in zip(hashes, vectors) if h in ids})
