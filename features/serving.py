"""Reads: which extractor's vectors answer searches (the *serving* one).

The configured extractor (FEATURE_EXTRACTOR, FEATURE_PRESET: the *target*) is what
uploads and jobs extract with. The serving one (the single ServingExtractor row) is what
searches compare. They differ while a library is re-embedded with a newly configured
extractor (features/jobs/switching.py makes the switch); searches keep answering from the
serving one's vectors meanwhile, never from a mix.
"""

from django.conf import settings
from django.db.models import Count

from core.errors import Unavailable
from features.extractors.base import Extractor
from features.extractors.loader import extractor_class, get_extractor
from features.models import FeatureVector, ServingExtractor


def serving_row() -> ServingExtractor:
    """The serving row, made on first use: the configured extractor, unless only another
    extractor's vectors are stored (an existing library), which then serves until the
    configured one's are complete."""
    row = ServingExtractor.objects.filter(pk=1).first()
    if row is not None:
        return row
    target = get_extractor()
    fingerprint, path, preset = target.fingerprint, settings.FEATURE_EXTRACTOR, target.preset
    if not FeatureVector.objects.filter(extractor=fingerprint).exists():
        most = (FeatureVector.objects.values("extractor").annotate(n=Count("id"))
                .order_by("-n", "extractor").first())
        if most is not None:
            fingerprint = most["extractor"]
            path, preset = _buildable(fingerprint)
    row, _ = ServingExtractor.objects.get_or_create(
        pk=1, defaults={"fingerprint": fingerprint, "path": path, "preset": preset})
    return row


def serving_fingerprint() -> str:
    """The fingerprint of the vectors searches compare."""
    return serving_row().fingerprint


def serving_extractor(row: ServingExtractor | None = None) -> Extractor:
    """The extractor that makes query vectors comparable with the serving ones;
    Unavailable when it cannot be built (vectors left by an earlier version)."""
    row = row or serving_row()
    target = get_extractor()
    if row.fingerprint == target.fingerprint:
        return target
    if row.path and row.preset:
        try:
            extractor = get_extractor(path=row.path, preset=row.preset)
        except Exception:  # the class or preset is gone from this version
            extractor = None
        if extractor is not None and extractor.fingerprint == row.fingerprint:
            return extractor
    raise Unavailable(
        "The library is being re-embedded with the newly configured extractor, and the "
        "previous one cannot read new photos: search by upload is back when that completes "
        "(search by library image works meanwhile).", code="switching_extractor")


def extractor_switching() -> bool:
    """Whether the library is being re-embedded (the configured extractor is not serving)."""
    return serving_fingerprint() != get_extractor().fingerprint


def _buildable(fingerprint: str) -> tuple[str, str]:
    """The configured class and the preset of it that makes ``fingerprint``, if any."""
    path = settings.FEATURE_EXTRACTOR
    for preset in extractor_class(path).presets:
        if get_extractor(path=path, preset=preset).fingerprint == fingerprint:
            return path, preset
    return "", ""
