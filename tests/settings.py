"""Settings for the test suite: the embedded default with the fake extractor."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-used-only-by-the-test-suite-0123456789")
os.environ.setdefault("FEATURE_EXTRACTOR", "features.extractors.fake.FakeExtractor")
os.environ.setdefault("FEATURE_EMBEDDED_WORKER", "false")
os.environ.setdefault("FEATURE_WARM_UP", "false")
# Most tests check plain cosine search against scores they compute; the re-ranking tests
# (tests/search/test_augmentation.py, test_reranking*.py) switch it on with the settings fixture.
os.environ.setdefault("SEARCH_AUGMENT", "false")
os.environ.setdefault("SEARCH_QUERY_EXPANSION", "false")
# The fake extractor's made-up vectors are far less alike than photos: the re-ranking tests
# blend every neighbour unless they test the floor.
os.environ.setdefault("SEARCH_BLEND_FLOOR", "0")
# No classifier unless a test gives one (tests/labels: a tiny made-up head for the fake
# extractor; bin/shared-weights names the real one for the real-model tests).
os.environ.setdefault("LABEL_HEAD_WEIGHTS", "off")
# Index snapshots of the test databases, never beside a developer's own database.
os.environ.setdefault("SEARCH_INDEX_DIR", os.path.join(
    __import__("tempfile").gettempdir(), f"imagesim-test-{os.getpid()}-index"))

from imagesim.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files straight from the apps, without collectstatic or a manifest.
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A test database in a file, not in memory: SQLite's shared-cache memory databases
# answer a busy table with an immediate "database table is locked" instead of
# waiting, which the server's own file database (WAL, busy timeout) never does.
if DATABASES["default"]["ENGINE"] == "core.sqlite":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_SQLITE_NAME") or os.path.join(  # noqa: F405
        tempfile.gettempdir(), f"imagesim-test-{os.getpid()}.sqlite3")}

# Rate-limit counters in a folder of this test run's own (Redis, when the stack has it).
if CACHES["default"]["BACKEND"] == "diskcache.DjangoCache":  # noqa: F405
    CACHES = {"default": {**CACHES["default"], "LOCATION": os.path.join(  # noqa: F405
        tempfile.gettempdir(), f"imagesim-test-cache-{os.getpid()}")}}
