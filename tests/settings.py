"""Settings for the test suite: the embedded default with the fake extractor."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-used-only-by-the-test-suite-0123456789")
os.environ.setdefault("FEATURE_EXTRACTOR", "features.extractors.fake.FakeExtractor")
os.environ.setdefault("FEATURE_EMBEDDED_WORKER", "false")

from imagesim.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files straight from the apps, without collectstatic or a manifest.
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
