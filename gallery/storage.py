"""The library's files, through Django's storage API whatever the backend (a local
folder, or S3 and its kin through django-storages).

A backend that cannot be reached or refuses a write raises ``StorageUnavailable``
(a 503 saying so), so callers can keep files and rows together; a missing file
raises ``FileNotFoundError`` as Django's storages do. The backend's own words (absolute
paths, bucket names) go to the server's log, never to the client.
"""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.errors import Unavailable

try:  # the S3 backend's own errors (botocore comes with django-storages[s3])
    from botocore.exceptions import BotoCoreError, ClientError

    _BACKEND_ERRORS: tuple = (OSError, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover - a local-only install
    _BACKEND_ERRORS = (OSError,)


logger = logging.getLogger(__name__)
ASK = "Try again later; if it goes on, an administrator finds why in the server's log."


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


def file_save(name: str, data: bytes) -> str:
    """Store ``data`` under ``name`` (or a free name like it); return the name used."""
    try:
        return default_storage.save(name, ContentFile(data))
    except _BACKEND_ERRORS as exc:
        _log("save", name, exc)
        raise StorageUnavailable(f"The image store refused the file; nothing was stored. {ASK}") \
            from exc


def file_open(name: str):
    """An open binary file handle, for streaming."""
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        raise
    except _BACKEND_ERRORS as exc:
        if _is_missing(exc):
            raise FileNotFoundError(name) from exc
        _log("open", name, exc)
        raise StorageUnavailable(f"The image store cannot be read right now. {ASK}") from exc


def file_read(name: str) -> bytes:
    with file_open(name) as handle:
        try:
            return handle.read()
        except _BACKEND_ERRORS as exc:
            _log("read", name, exc)
            raise StorageUnavailable(f"The image store cannot be read right now. {ASK}") \
                from exc


def file_delete(name: str) -> None:
    """Delete a stored file; one already gone counts as deleted."""
    try:
        default_storage.delete(name)
    except FileNotFoundError:
        return
    except _BACKEND_ERRORS as exc:
        _log("delete", name, exc)
        raise StorageUnavailable(f"The image store refused to delete {name}; it was kept. {ASK}") \
            from exc


def _is_missing(exc) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in ("404", "NoSuchKey")


def _log(action: str, name: str, exc: Exception) -> None:
    logger.warning("The image store could not %s %s: %s", action, name,
                   str(exc).strip() or type(exc).__name__)
