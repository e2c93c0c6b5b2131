"""Turning a request's file parts into service input."""

from django.conf import settings

from gallery.services import UploadFile


def upload_files(request, field: str = "file") -> list[UploadFile]:
    files = request.FILES.getlist(field) or request.FILES.getlist("files")
    return [UploadFile(name=f.name or "", read=_reader(f)) for f in files]


def _reader(uploaded):
    def read() -> bytes:
        # One byte past the limit is enough for the size check to refuse the file
        # without pulling a huge upload into memory.
        uploaded.seek(0)
        return uploaded.read(settings.IMAGESIM_MAX_UPLOAD_BYTES + 1)

    return read
