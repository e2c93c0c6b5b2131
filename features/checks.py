"""Start-up checks: a FEATURE_EXTRACTOR or FEATURE_PRESET that cannot work stops
``migrate`` (which bin/serve runs first) with a message naming the setting."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_extractor_settings(app_configs, **kwargs):
    from features.extractors.loader import preset_name

    try:
        preset_name()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="features.E001")]
    return []
