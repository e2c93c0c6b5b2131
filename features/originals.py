"""The shipped originals' vectors: store them, and write or load the features file.

The features file (``.npz``) holds ``vectors`` (n, dim) float32, ``filenames`` and
``sha256`` (n,) and ``extractor`` (the fingerprint). Vectors are matched to images
by content hash, so a renamed file still gets its vector.
"""

from pathlib import Path

import numpy as np
from django.db import transaction

from features.jobs import services
from features.jobs.saving import vectors_write
from features.models import FeatureVector
from gallery.models import Image


class FeaturesFileError(Exception):
    """The features file is missing, unreadable or from another extractor."""


def vectors_store(*, extractor: str, vectors: dict[int, np.ndarray]) -> int:
    """Store vectors by image id (existing ones are kept); return how many were new."""
    with transaction.atomic():
        before = FeatureVector.objects.filter(extractor=extractor).count()
        vectors_write(extractor=extractor, vectors=vectors)
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
