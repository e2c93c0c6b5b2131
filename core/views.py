"""Error pages: JSON for API and image paths, Django's own pages elsewhere."""

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.views import defaults

from core.errors import json_error

JSON_PATHS = ("/api/", "/images/")


def _wants_json(request) -> bool:
    return request.path.startswith(JSON_PATHS) or "application/json" in request.headers.get(
        "Accept", "")


def bad_request(request, exception):
    if not _wants_json(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, TooManyFilesSent):
        detail = (f"Too many files in one request: at most "
                  f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES}.")
    else:
        detail = "The request could not be read."
    return json_error(detail, code="bad_request", status=400)


def page_not_found(request, exception):
    if not _wants_json(request):
        return defaults.page_not_found(request, exception)
    return json_error(f"Nothing at {request.path}.", code="not_found", status=404)


def server_error(request):
    if not _wants_json(request):
        return defaults.server_error(request)
    return json_error("Something went wrong on the server; it has been logged.",
                      code="server_error", status=500)
