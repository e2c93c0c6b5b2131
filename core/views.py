"""Error pages: JSON for API and image paths, Django's own pages elsewhere (but for a
refused form, whose Django page has an inline style the Content-Security-Policy blocks)."""

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.shortcuts import render
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


def csrf_failure(request, reason=""):
    """A form sent with an out-of-date token (e.g. after signing in again in another tab)."""
    if _wants_json(request):
        return json_error("The request's CSRF token is missing or out of date: reload the page "
                          "and try again.", code="csrf_failed", status=403)
    return render(request, "web/csrf_failure.html", status=403)
