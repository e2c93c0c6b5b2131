"""Base for the original app's endpoints, kept for its existing clients.

They answer errors as the original app did (``{"error": ...}``) while keeping
ImageSim's ``detail`` and ``code`` beside it.
"""

from rest_framework.views import APIView

from core.api import exception_handler


def legacy_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        detail = response.data.get("detail") or _first_message(response.data)
        response.data = {"success": False, "error": str(detail), **response.data}
    return response


def _first_message(data: dict) -> str:
    for field, messages in data.items():
        message = messages[0] if isinstance(messages, list) and messages else messages
        return f"{field}: {message}"
    return "Bad request"


class LegacyApiView(APIView):
    def get_exception_handler(self):
        return legacy_exception_handler
