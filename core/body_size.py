"""The most a request body may hold, refused with 413 before anything reads it (sessions,
authentication, parsing): a multipart body the largest upload (MAX_UPLOAD_MB x
MAX_FILES_PER_UPLOAD, plus room for the parts' headers), any other body
DATA_UPLOAD_MAX_MEMORY_SIZE.

Under ASGI (daphne) ``BodySizeLimit`` counts the bytes as they arrive, so a body sent
without Content-Length (chunked) is cut off too; ``BodySizeMiddleware`` does the same from
Content-Length for WSGI and Django's test client.
"""

import json

from django.conf import settings

from core.errors import TooLarge, error_body, json_error

# Part headers and boundaries of a multipart body: a few hundred bytes a file.
MULTIPART_SLACK = 1024 * 1024


def _multipart(content_type: str) -> bool:
    return content_type.lower().startswith("multipart/")


def body_limit(content_type: str) -> int:
    if _multipart(content_type):
        return (settings.IMAGESIM_MAX_UPLOAD_BYTES * settings.IMAGESIM_MAX_FILES_PER_UPLOAD
                + MULTIPART_SLACK)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_body(content_type: str) -> dict:
    megabytes = body_limit(content_type) / (1024 * 1024)
    advice = (f" Send fewer or smaller files (each at most "
              f"{settings.IMAGESIM_MAX_UPLOAD_BYTES / 2**20:g} MB, at most "
              f"{settings.IMAGESIM_MAX_FILES_PER_UPLOAD} a request)."
              if _multipart(content_type) else " Images go in a multipart body.")
    return error_body(f"The request body is too large: at most {megabytes:g} MB for this kind "
                      "of request." + advice, code=TooLarge.code)


def _declared_length(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class BodySizeMiddleware:
    """First in MIDDLEWARE: a declared Content-Length over the limit is answered at once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        length = _declared_length(request.META.get("CONTENT_LENGTH"))
        if length is not None and length > body_limit(content_type):
            body = too_large_body(content_type)
            return json_error(body.pop("detail"), status=413, **body)
        return self.get_response(request)


class BodySizeLimit:
    """ASGI wrapper of Django's HTTP application."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = body_limit(content_type)
        length = _declared_length(headers.get(b"content-length"))
        if length is not None and length > limit:
            return await _refuse(send, content_type)

        received = 0
        refused = False

        async def counting_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    # Django reads the whole body before it makes the request; a disconnect
                    # makes it stop without answering, so this answer is the only one.
                    refused = True
                    await _refuse(send, content_type)
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, counting_receive, send)


async def _refuse(send, content_type: str) -> None:
    body = json.dumps(too_large_body(content_type)).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
