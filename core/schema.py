"""The OpenAPI schema states what the API does beyond its successes: every error status an
operation can answer, with the one JSON error body (core/errors.py), and the constraints
Django REST framework enforces without telling the schema."""

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from core.legacy import LegacyApiView

ERROR_REF = {"$ref": "#/components/schemas/Error"}
BAD_REQUEST_REF = {"$ref": "#/components/schemas/BadRequest"}
LEGACY_ERROR_REF = {"$ref": "#/components/schemas/LegacyError"}

ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every error: a message for people and a code for scripts.",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail", "code"],
    },
    "FieldErrors": {
        "type": "object",
        "description": "A request field's problems, by field name (a list of messages; for "
                       "a list field, by item position).",
        "additionalProperties": {"anyOf": [
            {"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
    },
    "BadRequest": {"oneOf": [ERROR_REF, {"$ref": "#/components/schemas/FieldErrors"}]},
    "LegacyError": {
        "type": "object",
        "description": "The original app's error: success false and a message, beside "
                       "ImageSim's detail and code (or field errors).",
        "properties": {"success": {"type": "boolean", "enum": [False]},
                       "error": {"type": "string"}},
        "required": ["success", "error"],
    },
}

ERROR_DESCRIPTIONS = {
    400: "The request is not valid: field errors, or detail and code.",
    401: "No valid API key and not signed in.",
    403: "Your role may not do this.",
    404: "No such object, page or format.",
    409: "The library changed under the request (a group changed, a file or vectors are "
         "missing).",
    413: "The request or one of its files is too large.",
    415: "The body's content type is not one this operation reads.",
    429: "Too many requests of this kind; Retry-After says when to try again.",
    503: "A part the request needs is not available (model weights, vectors, image store).",
}

# Text without NUL characters (Django refuses them in every text field). Not empty: a
# field that may be blank gets the empty string as its own alternative (drf-spectacular).
NO_NUL_PATTERN = "^[^\\x00]+$"


class ImageSimAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        legacy = isinstance(self.view, LegacyApiView)
        for status in sorted(self._error_statuses()):
            if legacy:
                schema = LEGACY_ERROR_REF
            else:
                schema = BAD_REQUEST_REF if status == 400 else ERROR_REF
            responses.setdefault(str(status), {
                "content": {"application/json": {"schema": schema}},
                "description": ERROR_DESCRIPTIONS[status]})
        return responses

    def _error_statuses(self) -> set[int]:
        # Any request may be malformed, lack a key, be refused by the access rules, or
        # name a missing object, page or ?format=.
        statuses = {400, 401, 403, 404}
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {413, 415}
        if self.method != "GET":
            statuses.add(503)  # writes and searches need the image store or the model
        if any(self.method in getattr(throttle, "methods", (self.method,))
               for throttle in self.view.get_throttles()):
            statuses.add(429)
        # A view lists the statuses only it answers (409) as ``error_statuses``.
        statuses |= set(getattr(self.view, "error_statuses", ()))
        return statuses

    def _get_format_parameters(self):
        # Clients choose a format by the Accept header; ?format= is not part of the API.
        return []

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and isinstance(field, serializers.CharField)
                and schema.get("type") == "string" and "pattern" not in schema
                and any(isinstance(v, ProhibitNullCharactersValidator)
                        for v in field.validators)):
            schema["pattern"] = NO_NUL_PATTERN
        return schema


def error_components(result, generator, request, public):
    """Postprocessing hook: the error bodies every operation's responses refer to."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    return result
