"""API-wide pieces: the error shape every endpoint answers with."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ImageSimError, error_body

# The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def exception_handler(exc, context):
    """Map domain errors to ``{"detail": ..., "code": ...}`` and let DRF do the rest."""
    if isinstance(exc, ImageSimError):
        return Response(error_body(exc.message, code=exc.code, **exc.extra),
                        status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    return drf_exception_handler(exc, context)
