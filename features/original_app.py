"""Moving a library of the original app (the Flask app ImageSim replaces) into ImageSim.

Its folder holds ``images/`` (the first 50 image files in sorted order were its
originals) and its vectors as ``.npy`` pairs: ``original_features.npy`` with
``original_filenames.npy``, and ``features.npy`` with ``filenames.npy`` (made once its
users had generated features). Every file is checked before anything is written.

Its vectors are ResNet50 average-pooled over the whole photo squashed to 224 x 224:
ImageSim's ``resnet50-gap`` preset (settings.ORIGINAL_APP_PRESET). They are reused for
that preset only when a sample of its images, extracted again here, agrees with them
(cosine >= 0.99 each); otherwise (other weights, an edited file) every image is simply
queued for extraction, as an upload is.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from core.errors import ImageSimError
from core.vectors import normalise
from features.extractors.base import Extractor
from features.originals import vectors_store
from gallery.imports import (
    FileResult,
    ImportCounts,
    files_import,
    images_announce,
    is_image_name,
)

VECTOR_FILES = (("original_features.npy", "original_filenames.npy"),
                ("features.npy", "filenames.npy"))
ORIGINALS_COUNT = 50
SAMPLE_SIZE = 5
AGREEMENT = 0.99


class OriginalAppError(Exception):
    """The folder is not a library of the original app ImageSim can read; nothing was written."""


@dataclass
class OriginalAppLibrary:
    images_dir: Path
    names: list[str]  # the image files of images/, sorted, as the original app listed them
    # name -> (the features array, its row); arrays are memory-mapped, not read whole
    rows: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)
    vector_files: list[str] = field(default_factory=list)  # the .npy pairs found

    @property
    def originals(self) -> list[str]:
        return self.names[:ORIGINALS_COUNT]

    @property
    def unmatched(self) -> list[str]:
        """Names with a vector but no image file."""
        present = set(self.names)
        return sorted(name for name in self.rows if name not in present)

    def vector(self, name: str) -> np.ndarray | None:
        if name not in self.rows:
            return None
        array, row = self.rows[name]
        return np.asarray(array[row], dtype=np.float32)


def library_read(folder: Path, *, dim: int | None, with_vectors: bool = True) -> OriginalAppLibrary:
    """List the library and check its vector files; OriginalAppError names every problem.

    ``dim`` is the length the vectors must have (None: not checked).
    """
    images_dir = folder / "images"
    if not images_dir.is_dir():
        raise OriginalAppError(f"No images/ folder in {folder}: is it the original app's folder?")
    library = OriginalAppLibrary(images_dir, _image_names(images_dir))
    if not with_vectors:
        return library
    problems = []
    for features_name, names_name in VECTOR_FILES:
        features_path, names_path = folder / features_name, folder / names_name
        if not features_path.exists() and not names_path.exists():
            continue
        if not (features_path.is_file() and names_path.is_file()):
            have, lacking = ((features_name, names_name) if features_path.exists()
                             else (names_name, features_name))
            problems.append(f"{have} is there but {lacking} is not: the vectors cannot be "
                            "matched to their images.")
            continue
        try:
            names = _load_names(names_path)
            array = _load_features(features_path)
        except OriginalAppError as exc:
            problems.append(str(exc))
            continue
        if array.shape[0] != len(names):
            problems.append(f"{features_name} holds {array.shape[0]} vectors but {names_name} "
                            f"{len(names)} names: they do not belong together.")
            continue
        if dim is not None and array.shape[1] != dim:
            problems.append(f"{features_name} holds {array.shape[1]}-d vectors; "
                            f"{settings.ORIGINAL_APP_PRESET} makes {dim}-d ones.")
            continue
        for row, name in enumerate(names):
            if name in library.rows:
                problems.append(f"{name} is listed twice in the vector files.")
                break
            library.rows[name] = (array, row)
        library.vector_files.append(features_name)
    if not library.vector_files and not problems:
        problems.append(f"No vector files in {folder} (original_features.npy and "
                        "original_filenames.npy).")
    if problems:
        raise OriginalAppError(" ".join(problems) + " Nothing was imported. Fix the files, or "
                               "run with --no-vectors to import the images and extract them here.")
    return library


@dataclass(frozen=True)
class Agreement:
    agrees: bool
    cosines: tuple[float, ...] = ()
    reason: str = ""  # why they could not be compared


def vectors_agreement(library: OriginalAppLibrary, extractor: Extractor, *,
                      sample: int = SAMPLE_SIZE) -> Agreement:
    """Extract a few images spread over the library and compare them with its vectors."""
    candidates = [name for name in library.names if name in library.rows]
    if not candidates:
        return Agreement(False, reason="no image of images/ has a vector")
    step = max(1, len(candidates) // sample)
    spread = candidates[::step]
    # Then the others, in case some of those cannot be read.
    chosen = spread + [name for name in candidates if name not in set(spread)]
    try:
        extractor.check_available()
    except ImageSimError as exc:
        return Agreement(False, reason=exc.message)
    arrays, stored = [], []
    for name in chosen:
        if not _usable(library.vector(name)):
            continue
        try:
            arrays.append(extractor.preprocess((library.images_dir / name).read_bytes()))
        except (OSError, ImageSimError):
            continue
        stored.append(library.vector(name))
        if len(arrays) == sample:
            break
    if not arrays:
        return Agreement(False, reason="none of its images with a vector can be read")
    fresh = extractor.infer(np.stack(arrays))
    cosines = tuple(float(c) for c in np.sum(fresh * normalise(np.stack(stored)), axis=1))
    return Agreement(min(cosines) >= AGREEMENT, cosines)


@dataclass
class OriginalAppCounts(ImportCounts):
    reused: int = 0  # vectors stored for the original app's preset (new ones)
    unusable: list[str] = field(default_factory=list)  # names whose vector is zero or not finite


def library_import(library: OriginalAppLibrary, *, reuse_for: str | None,
                   on_result: Callable[[FileResult], None] = lambda r: None,
                   counts: OriginalAppCounts | None = None) -> OriginalAppCounts:
    """Import images/ through the upload checks, keeping the file names (old links keep
    working) and the first 50 as originals; with ``reuse_for`` (a fingerprint) store each
    image's vector for that extractor, batch by batch, before the batch's new images are
    announced, so they are not queued for the extractor that has their vector already.
    Content already in the library gets its vector too: a rerun completes an interrupted one.
    """
    counts = counts if counts is not None else OriginalAppCounts()
    originals = set(library.originals)

    def on_batch(results: list[FileResult]) -> None:
        if reuse_for:
            vectors = {}
            for result in results:
                vector = library.vector(result.path.name) if result.image else None
                if vector is None:
                    continue
                if not _usable(vector):
                    counts.unusable.append(result.path.name)
                    continue
                vectors[result.image.pk] = normalise(vector)
            if vectors:
                counts.reused += vectors_store(extractor=reuse_for, vectors=vectors)
        images_announce(results)

    files_import((library.images_dir / name for name in library.names),
                 as_originals=lambda path: path.name in originals, keep_names=True,
                 on_result=on_result, on_batch=on_batch, counts=counts)
    return counts


def _usable(vector: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(vector)) and np.any(vector))


def _image_names(images_dir: Path) -> list[str]:
    with os.scandir(images_dir) as entries:
        return sorted(entry.name for entry in entries
                      if not entry.name.startswith(".") and entry.is_file()
                      and is_image_name(Path(entry.name)))


def _load_names(path: Path) -> list[str]:
    try:
        names = np.load(path, allow_pickle=False)
    except ValueError as exc:
        # Object arrays need unpickling, which can run code: never done on a file.
        raise OriginalAppError(f"{path.name} cannot be read without unpickling it ({exc}).")
    except OSError as exc:
        raise OriginalAppError(f"{path.name} cannot be read ({exc}).")
    if names.ndim != 1 or names.dtype.kind not in "US":
        raise OriginalAppError(f"{path.name} is not a list of file names "
                               f"(shape {names.shape}, type {names.dtype}).")
    return [str(name) if names.dtype.kind == "U" else name.decode() for name in names]


def _load_features(path: Path) -> np.ndarray:
    try:
        # Memory-mapped: 100,000 vectors of 2048 floats are 800 MB, read a batch at a time.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise OriginalAppError(f"{path.name} cannot be read ({exc}).")
    if array.ndim != 2 or array.dtype.kind != "f":
        raise OriginalAppError(f"{path.name} is not a table of vectors "
                               f"(shape {array.shape}, type {array.dtype}).")
    return array
