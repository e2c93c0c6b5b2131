"""The one exception type for errors a user can cause.

Services raise these; ``core.api.exception_handler`` turns them into a 4xx
(or 503) JSON body once, so views never build error responses by hand.
"""

from django.http import JsonResponse

NOT_SIGNED_IN = "Sign in, or send an API key as 'Authorization: Bearer <key>'."


class ImageSimError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class InvalidInput(ImageSimError):
    status_code = 400


class NotFound(ImageSimError):
    status_code = 404
    code = "not_found"


class Forbidden(ImageSimError):
    status_code = 403
    code = "forbidden"


class TooLarge(ImageSimError):
    status_code = 413
    code = "too_large"


class Conflict(ImageSimError):
    status_code = 409
    code = "conflict"


class Unavailable(ImageSimError):
    """A part the request needs is not ready (no model weights, no vectors yet)."""

    status_code = 503
    code = "unavailable"


def error_body(message: str, *, code: str, **extra) -> dict:
    """The JSON body of every error ImageSim answers: ``{"detail": ..., "code": ...}``."""
    return {"detail": message, "code": code, **extra}


def json_error(message: str, *, code: str, status: int, **extra) -> JsonResponse:
    """An error answered outside DRF (file serving, Django's error pages)."""
    return JsonResponse(error_body(message, code=code, **extra), status=status)
