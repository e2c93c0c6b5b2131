"""The shape of a stored file name in URLs: anything else is a 404 before any query
(a NUL byte, say, which PostgreSQL would refuse with an error)."""

from django.urls import register_converter

STORED_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,149}"


class StoredNameConverter:
    regex = STORED_NAME

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered once, here, for every urls module that names image files.
register_converter(StoredNameConverter, "stored_name")
