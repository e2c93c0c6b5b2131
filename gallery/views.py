"""Serving the library's files: full size and thumbnails."""

from functools import wraps

from django.http import FileResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition

from accounts import rules
from accounts.decorators import rule_required
from core.errors import json_error
from gallery.models import Image
from gallery.storage import StorageUnavailable, file_open

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
    whoever may restore it (its owner, an admin), for the Trash view."""
    image = Image.all_objects.filter(filename=filename).first()
    if image is not None and image.trashed_at is not None \
            and not rules.can_delete(request.user, image):
        return None
    return image


def _etag(request, filename: str, *, thumbnail: bool) -> str | None:
    # The content hash is a strong ETag; an unknown name has none (the view answers 404).
    image = _image(request, filename)
    return f'"{image.sha256[:32]}{"-thumb" if thumbnail else ""}"' if image else None


@files_read_only
@rule_required(rules.can_view)
@cached_for_a_year
@condition(etag_func=lambda request, filename: _etag(request, filename, thumbnail=False))
def image_file(request, filename: str):
    return _serve(request, filename, thumbnail=False)


@files_read_only
@rule_required(rules.can_view)
@cached_for_a_year
@condition(etag_func=lambda request, filename: _etag(request, filename, thumbnail=True))
def image_thumbnail(request, filename: str):
    return _serve(request, filename, thumbnail=True)


def _serve(request, filename: str, *, thumbnail: bool):
    image = _image(request, filename)
    if image is None:
        return json_error(f"No image {filename!r} in the library.", code="not_found", status=404)
    stored = image.thumbnail if thumbnail else image.file
    try:
        handle = file_open(stored.name)
    except StorageUnavailable as exc:
        return json_error(exc.message, code=exc.code, status=503)
    except FileNotFoundError:
        return json_error(f"The file of {filename!r} is missing from storage.",
                          code="file_missing", status=404)
    return FileResponse(handle, content_type="image/jpeg" if thumbnail else image.content_type)
