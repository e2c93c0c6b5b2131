"""Bringing an existing folder of photos into the library, file by file: the one importer,
for import_folder, the shipped originals (seed_originals, precompute_originals) and the
original app's library (import_original_app).

Every file goes through the upload checks and the same store as an upload
(``image_create``), so files and rows stay together whatever stops the import: a
file is stored before its row and removed again if the row is not written. Content
already in the library is recognised by its SHA-256 before any decoding, so a rerun
after an interruption skips what was imported and costs little more than reading.

Folders are walked lazily with ``os.scandir`` and files read one at a time: a folder
of 100,000 photos never sits in memory. New images are announced (``images_added``,
which queues them for features as uploads are) in bounded batches, and what was
added before an interruption is still announced.

Imported "as originals", images are protected from deletion, keep their file names where
free, and content already uploaded becomes an original.
"""

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from pathlib import Path

from django.conf import settings

from core.errors import ImageSimError
from gallery.models import Image
from gallery.services import image_create
from gallery.signals import images_added
from gallery.storage import StorageUnavailable
from gallery.validation import check_size

# Images announced (and so queued for features) at once: one job recount per batch.
ANNOUNCE_BATCH = 100
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"}


class Outcome(Enum):
    IMPORTED = "imported"
    PRESENT = "already there"
    BAD = "bad"
    IGNORED = "not an image file"


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: Outcome
    reason: str = ""
    image: Image | None = None


@dataclass
class ImportCounts:
    imported: int = 0
    present: int = 0
    bad: int = 0
    ignored: int = 0

    def add(self, result: FileResult) -> None:
        name = {Outcome.IMPORTED: "imported", Outcome.PRESENT: "present",
                Outcome.BAD: "bad", Outcome.IGNORED: "ignored"}[result.outcome]
        setattr(self, name, getattr(self, name) + 1)

    @property
    def images(self) -> int:
        """Files that looked like images (by extension)."""
        return self.imported + self.present + self.bad


@dataclass
class ImportReport(ImportCounts):
    """The counts and each image file's result, for a caller that needs every one (the
    originals: a few hundred files, not a folder of 100,000 photos)."""

    results: list[FileResult] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        super().add(result)
        if result.outcome is not Outcome.IGNORED:
            self.results.append(result)

    @property
    def library_images(self) -> list[Image]:
        """The folder's images now in the library (imported or already there), by path."""
        return [result.image for result in self._by_path() if result.image is not None]

    @property
    def bad_results(self) -> list[FileResult]:
        return [result for result in self._by_path() if result.outcome is Outcome.BAD]

    def _by_path(self) -> list[FileResult]:
        return sorted(self.results, key=lambda result: result.path)


@dataclass(frozen=True)
class Unreadable:
    """A folder that could not be listed (permissions, say): reported, then skipped."""

    path: Path
    reason: str


def folder_files(root: Path, *, recursive: bool = False,
                 on_unreadable: Callable[[Unreadable], None] = lambda u: None) -> Iterator[Path]:
    """The files in ``root`` (and its subfolders with ``recursive``), lazily.

    Hidden entries (a leading dot) are skipped; links to folders are not followed, so
    a link loop cannot make the walk endless. Order is the file system's: resuming
    goes by content, not by position.
    """
    folders = [root]
    while folders:
        folder = folders.pop()
        subfolders = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if recursive:
                                subfolders.append(Path(entry.path))
                        elif entry.is_file():
                            yield Path(entry.path)
                    except OSError as exc:
                        on_unreadable(Unreadable(Path(entry.path), _os_reason(exc)))
        except OSError as exc:
            on_unreadable(Unreadable(folder, _os_reason(exc)))
        folders.extend(reversed(sorted(subfolders)))


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def file_import(path: Path, *, is_original: bool = False, keep_name: bool = False) -> FileResult:
    """Import one file; a bad file is a result with its reason, never an exception.

    ``StorageUnavailable`` is raised: when the store refuses, every later file would
    fail too, so the import stops (nothing half-stored) and a rerun resumes it.
    """
    if not is_image_name(path):
        return FileResult(path, Outcome.IGNORED)
    try:
        data = _read_limited(path)
    except ImageSimError as exc:
        return FileResult(path, Outcome.BAD, exc.message)
    except OSError as exc:
        return FileResult(path, Outcome.BAD, f"It cannot be read ({_os_reason(exc)}).")
    # The hash first: content already in the library costs no decoding and no thumbnail.
    existing = Image.objects.filter(sha256=hashlib.sha256(data).hexdigest()).first()
    if existing is not None:
        return FileResult(path, Outcome.PRESENT, image=_made_original(existing, is_original))
    try:
        result = image_create(name=path.name, data=data, is_original=is_original,
                              filename=path.name if keep_name else None, announce=False)
    except StorageUnavailable:
        raise
    except ImageSimError as exc:
        return FileResult(path, Outcome.BAD, exc.message)
    if result.duplicate:  # stored by someone else a moment ago
        return FileResult(path, Outcome.PRESENT, image=_made_original(result.image, is_original))
    return FileResult(path, Outcome.IMPORTED, image=result.image)


def folder_import(folder: Path, *, recursive: bool = False, as_originals: bool = False,
                  on_result: Callable[[FileResult], None] = lambda r: None,
                  on_unreadable: Callable[[Unreadable], None] = lambda u: None,
                  counts: ImportCounts | None = None) -> ImportCounts:
    """Import the image files of ``folder`` (and of its subfolders with ``recursive``);
    ``as_originals`` makes them originals, with their file names where free."""
    return files_import(folder_files(folder, recursive=recursive, on_unreadable=on_unreadable),
                        as_originals=as_originals, keep_names=as_originals,
                        on_result=on_result, counts=counts)


def files_import(paths: Iterable[Path], *, as_originals: Callable[[Path], bool] | bool = False,
                 keep_names: bool = False, on_result: Callable[[FileResult], None] = lambda r: None,
                 on_batch: Callable[[list[FileResult]], None] | None = None,
                 batch_size: int = ANNOUNCE_BATCH,
                 counts: ImportCounts | None = None) -> ImportCounts:
    """Import files in batches of ``batch_size``; ``on_result`` sees each file's result.
    ``as_originals`` says, for all or per file, which become originals.

    After each batch ``on_batch`` gets the batch's results (default: announce the new
    images). It also runs for the batch in progress when the import is interrupted
    (an exception, Ctrl+C), so every image already added is announced. ``counts`` (if
    given) is filled as files are done, so a caller still has them after an interruption.
    """
    original_for = as_originals if callable(as_originals) else (lambda path: as_originals)
    finish = on_batch or images_announce
    counts = counts if counts is not None else ImportCounts()
    iterator = iter(paths)
    while batch_paths := list(islice(iterator, batch_size)):
        batch = []
        try:
            for path in batch_paths:
                result = file_import(path, is_original=original_for(path), keep_name=keep_names)
                counts.add(result)
                batch.append(result)
                on_result(result)
        finally:
            finish(batch)
    return counts


def images_announce(results: list[FileResult]) -> None:
    """Send ``images_added`` for the newly imported images (uploads are queued for
    features by it)."""
    new = [result.image for result in results if result.outcome is Outcome.IMPORTED]
    if new:
        images_added.send(sender=Image, images=new)


def _made_original(image: Image, is_original: bool) -> Image:
    """An image imported as an original that was uploaded before is an original now."""
    if is_original and not image.is_original:
        Image.objects.filter(pk=image.pk).update(is_original=True)
        image.is_original = True
    return image


def _read_limited(path: Path) -> bytes:
    """The file's bytes; of a file over the upload limit no more than one byte past the
    limit is read, enough for the size check to refuse it."""
    limit = settings.IMAGESIM_MAX_UPLOAD_BYTES
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    check_size(data)
    return data


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
