"""Turning a request's file parts into service input."""

from django.conf import settings

from gallery.services import UploadFile


def upload_files(request, field: str = "file") -> list[UploadFile]:
    files = request.FILES.getlist(field) or request.FILES.getlist("files")
    # Read one byte past the limit: enough for the size check to refuse the file
    # without pulling a huge upload into memory.
    limit = settings.IMAGESIM_MAX_UPLOAD_BYTES + 1
    return [UploadFile(name=f.name or "", data=f.read(limit)) for f in files]
