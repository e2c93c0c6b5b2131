"""The process-wide extractors: settings.FEATURE_EXTRACTOR (a dotted path) names the class,
settings.FEATURE_PRESET one of its presets (empty: the class's default)."""

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from features.extractors.base import Extractor

_lock = threading.Lock()
_extractors: dict[tuple[str, str], Extractor] = {}


def extractor_class(path: str | None = None) -> type[Extractor]:
    path = path or settings.FEATURE_EXTRACTOR
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"FEATURE_EXTRACTOR {path!r} cannot be imported ({exc}).")
    if not (isinstance(cls, type) and issubclass(cls, Extractor)):
        raise ImproperlyConfigured(f"FEATURE_EXTRACTOR {path!r} is not an Extractor class.")
    return cls


def preset_name(path: str | None = None, preset: str | None = None) -> str:
    """The preset that ``preset`` (default: FEATURE_PRESET) means for the class at ``path``."""
    cls = extractor_class(path)
    name = preset if preset is not None else settings.FEATURE_PRESET
    name = name or cls.presets[0]
    if name not in cls.presets:
        raise ImproperlyConfigured(
            f"FEATURE_PRESET must be one of {', '.join(cls.presets)} for "
            f"{path or settings.FEATURE_EXTRACTOR}, not {name!r}.")
    return name


def get_extractor(*, path: str | None = None, preset: str | None = None) -> Extractor:
    """The configured extractor (or the one named), built once per process; the model
    loads lazily, once."""
    path = path or settings.FEATURE_EXTRACTOR
    name = preset_name(path, preset)
    with _lock:
        if (path, name) not in _extractors:
            _extractors[path, name] = extractor_class(path)(preset=name)
        return _extractors[path, name]
