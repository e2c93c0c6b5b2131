"""API-wide pieces: the error shape every endpoint answers with."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import NOT_SIGNED_IN, ImageSimError, error_body

ACCESS_ERRORS = (exceptions.NotAuthenticated, exceptions.AuthenticationFailed,
                 exceptions.PermissionDenied, exceptions.Throttled)

# The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class StrictCharField(serializers.CharField):
    """Text that must be sent as text: DRF would turn a JSON number into a string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A number that must be sent as one: DRF would read a JSON true as 1.0."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def exception_handler(exc, context):
    """Map domain errors to ``{"detail": ..., "code": ...}`` and let DRF do the rest."""
    if isinstance(exc, ImageSimError):
        return Response(error_body(exc.message, code=exc.code, **exc.extra),
                        status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, ACCESS_ERRORS) and response is not None:
        # Scripts tell a missing key, a bad key, a refusal and a rate limit apart by code.
        response.data = error_body(_access_message(exc), code=exc.get_codes())
    elif response is not None and isinstance(response.data, dict) and set(response.data) == {
            "detail"}:
        # DRF's own errors (a bad page, body or media type) get a code like every other.
        response.data = error_body(str(response.data["detail"]), code=exc.get_codes())
    return response


def _access_message(exc) -> str:
    if isinstance(exc, exceptions.NotAuthenticated):
        return NOT_SIGNED_IN
    if isinstance(exc, exceptions.Throttled):
        return (f"Too many requests of this kind: try again in {math.ceil(exc.wait or 1)} "
                "seconds.")
    return str(exc.detail)
