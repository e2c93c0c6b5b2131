"""Small readers for settings that come from the environment.

Each one fails loudly on a value it cannot understand, so a typo in a deployment
stops the server at start-up instead of silently meaning something else.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: str = "false") -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def secret_key_read(path: Path) -> str:
    """The key kept in ``path`` (bin/serve writes it), or "" when there is none."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ImproperlyConfigured(f"{path} cannot be read ({exc.strerror}): make it readable "
                                   "by this user, or set SECRET_KEY.") from None


def local_model(path: Path) -> str:
    """``path`` (resolved) when that file is there, else "imagenet" (Keras downloads it)."""
    return str(path.resolve()) if path.is_file() else "imagenet"


def s3_storage_from_env() -> dict:
    """The STORAGES entry of a private S3 (or S3-compatible) bucket, from django-storages'
    own variable names. Any URL it makes is signed and short-lived."""
    backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION"),  # a prefix inside the bucket
            "default_acl": None,  # the bucket's own (private) policy
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
    if not backend["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("S3 media storage needs AWS_STORAGE_BUCKET_NAME.")
    return backend
