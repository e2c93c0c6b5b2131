"""Serving the library's files (full size and thumbnails) and the web page."""

from functools import wraps

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from gallery.models import Image

ONE_YEAR = 365 * 24 * 3600


@require_safe
def index(request):
    # The upload hint shows the configured limit (MAX_UPLOAD_MB), not a fixed number.
    megabytes = round(settings.IMAGESIM_MAX_UPLOAD_BYTES / (1024 * 1024), 1)
    return render(request, "gallery/index.html", {
        "max_upload_mb": int(megabytes) if megabytes.is_integer() else megabytes,
    })


def files_read_only(view):
    """Image paths answer other methods with a JSON 405, like the rest of the API."""

    @wraps(view)
    def only_get(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"detail": f"{request.method} is not allowed here: images "
                                               "are read with GET.",
                                     "code": "method_not_allowed"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return only_get


@files_read_only
def image_file(request, filename: str):
    return _serve(request, filename, thumbnail=False)


@files_read_only
def image_thumbnail(request, filename: str):
    return _serve(request, filename, thumbnail=True)


def _serve(request, filename: str, *, thumbnail: bool):
    image = Image.objects.filter(filename=filename).first()
    if image is None:
        return JsonResponse({"detail": f"No image {filename!r} in the library.",
                             "code": "not_found"}, status=404)
    # The stored bytes under a name never change, so the content hash is a strong ETag.
    etag = f'"{image.sha256[:32]}{"-thumb" if thumbnail else ""}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        stored = image.thumbnail if thumbnail else image.file
        try:
            handle = default_storage.open(stored.name, "rb")
        except FileNotFoundError:
            return JsonResponse({"detail": f"The file of {filename!r} is missing from storage.",
                                 "code": "file_missing"}, status=404)
        response = FileResponse(
            handle, content_type="image/jpeg" if thumbnail else image.content_type
        )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=ONE_YEAR)
    return response
