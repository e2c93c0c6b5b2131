from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files whose JavaScript module imports point at the
    hashed names too, so a browser never mixes modules of two releases."""

    support_js_module_import_aggregation = True
