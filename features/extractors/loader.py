"""The process-wide extractor, chosen by settings.FEATURE_EXTRACTOR (a dotted path)."""

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from features.extractors.base import Extractor

_lock = threading.Lock()
_extractors: dict[str, Extractor] = {}


def get_extractor() -> Extractor:
    """The configured extractor, built once per process (the model loads lazily, once)."""
    path = settings.FEATURE_EXTRACTOR
    with _lock:
        if path not in _extractors:
            _extractors[path] = import_string(path)()
        return _extractors[path]
