"""Serving the library's files: full size and thumbnails."""

from functools import wraps

from django.http import FileResponse, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from accounts import rules
from accounts.decorators import rule_required
from core.errors import json_error
from gallery.models import Image
from gallery.storage import StorageUnavailable, file_open, file_read

ONE_YEAR = 365 * 24 * 3600


def files_read_only(view):
    """Image paths answer other methods with a JSON 405, like the rest of the API."""

    @wraps(view)
    def only_get(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = json_error(f"{request.method} is not allowed here: images are read "
                                  "with GET.", code="method_not_allowed", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return only_get


def cached_for_a_year(view):
    """A stored name's bytes never change, so a served file (or a 304) may be kept a year,
    by the browser only: the library is not public."""

    @wraps(view)
    def with_cache_control(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            patch_cache_control(response, private=True, max_age=ONE_YEAR)
        return response

    return with_cache_control


def _image(request, filename: str) -> Image | None:
    """The image a file URL names, if the user may see it: an image in the trash only to
    whoever may restore it (its owner, an admin), for the Trash view. One query for the
    ETag and the file."""
    image = (Image.all_objects.filter(filename=filename)
             .only("filename", "file", "thumbnail", "format", "sha256", "trashed_at",
                   "uploaded_by_id").first())
    if image is not None and image.trashed_at is not None \
            and not rules.can_delete(request.user, image):
        return None
    return image


@files_read_only
@rule_required(rules.can_view)
@cached_for_a_year
def image_file(request, filename: str):
    return _serve(request, filename, thumbnail=False)


@files_read_only
@rule_required(rules.can_view)
@cached_for_a_year
def image_thumbnail(request, filename: str):
    return _serve(request, filename, thumbnail=True)


def _serve(request, filename: str, *, thumbnail: bool):
    # The content hash is a strong ETag.
    image = _image(request, filename)
    if image is None:
        return json_error(f"No image {filename!r} in the library.", code="not_found", status=404)
    etag = f'"{image.sha256[:32]}{"-thumb" if thumbnail else ""}"'
    response = get_conditional_response(request, etag=etag) or _file_response(image, thumbnail)
    if response.status_code in (200, 304):
        response.headers.setdefault("ETag", etag)
    return response


def _file_response(image: Image, thumbnail: bool):
    stored = image.thumbnail if thumbnail else image.file
    try:
        if thumbnail:
            # A few kilobytes: one response body, not a stream (a stream costs the server
            # a switch to a thread and back for every response under ASGI).
            return HttpResponse(file_read(stored.name), content_type="image/jpeg")
        return FileResponse(file_open(stored.name), content_type=image.content_type)
    except StorageUnavailable as exc:
        return json_error(exc.message, code=exc.code, status=503)
    except FileNotFoundError:
        return json_error(f"The file of {image.filename!r} is missing from storage.",
                          code="file_missing", status=404)
