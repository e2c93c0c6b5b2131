"""Files as a request brings them: the service input, read lazily and named for display."""

import os
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


def display_name(name: str) -> str:
    """The client's file name, reduced to a plain base name fit for display."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:255] or "image"


@dataclass(frozen=True)
class UploadFile:
    """One file of a request: its client-side name and how to read its bytes.

    Reading is deferred so a many-file request holds one file in memory at a time.
    """

    name: str
    read: Callable[[], bytes]

    @property
    def display_name(self) -> str:
        return display_name(self.name)


def upload_files(request, field: str = "file") -> list[UploadFile]:
    files = request.FILES.getlist(field) or request.FILES.getlist("files")
    return [upload_file(f) for f in files]


def upload_file(uploaded) -> UploadFile:
    """One of Django's uploaded files as service input."""
    return UploadFile(name=uploaded.name or "", read=_reader(uploaded))


def _reader(uploaded):
    def read() -> bytes:
        # One byte past the limit is enough for the size check to refuse the file
        # without pulling a huge upload into memory.
        uploaded.seek(0)
        return uploaded.read(settings.IMAGESIM_MAX_UPLOAD_BYTES + 1)

    return read
