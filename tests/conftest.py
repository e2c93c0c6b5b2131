import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import user_create
from gallery import services
from tests.helpers import distinct_colour, make_image_bytes


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test gets its own empty media folder (or, on S3, its own prefix in the bucket)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if settings.MEDIA_STORAGE == "s3":
        default = settings.STORAGES["default"]
        prefix = f"tests/{uuid.uuid4().hex}"
        settings.STORAGES = {**settings.STORAGES, "default": {
            **default, "OPTIONS": {**default["OPTIONS"], "location": prefix}}}
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache: each test starts with none spent."""
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_indexes():
    """The in-process vector indexes outlive a test's rolled-back rows (and SQLite reuses
    their ids), and so does what the worker's stages remember of passes: each test starts
    and ends with none loaded and nothing remembered."""
    from features.jobs.stages import stages_forget
    from search.index import reset_index

    reset_index()
    stages_forget()
    yield
    reset_index()
    stages_forget()


@pytest.fixture
def make_user():
    """make_user(role, username=...) -> a user with that role and no password."""
    def make(role, *, username=None):
        return user_create(username=username or role, role=role, password=None)

    return make


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="site-admin")


@pytest.fixture
def client(admin):
    """Django's test client, signed in as an administrator (tests of the access rules
    make their own clients for each role and for anonymous visitors)."""
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def api_client(admin):
    """DRF's test client, signed in as an administrator."""
    client = APIClient()
    client.force_login(admin)
    return client


@pytest.fixture
def add_image(db):
    """Add an image to the library through the service, as an upload does; each call
    makes a picture of another colour unless ``data`` is given."""
    colours = iter(range(1, 10_000))

    def add(name="photo.jpg", *, is_original=False, fmt="JPEG", data=None, **kwargs):
        data = data or make_image_bytes(fmt, color=distinct_colour(next(colours)), **kwargs)
        return services.image_create(name=name, data=data, is_original=is_original).image

    return add
