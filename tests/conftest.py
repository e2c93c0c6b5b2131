import pytest
from rest_framework.test import APIClient

from gallery import services
from tests.helpers import distinct_colour, make_image_bytes


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test gets its own empty media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def add_image(db):
    """Add an image to the library through the service, as an upload does; each call
    makes a picture of another colour unless ``data`` is given."""
    colours = iter(range(1, 10_000))

    def add(name="photo.jpg", *, is_original=False, fmt="JPEG", data=None, **kwargs):
        data = data or make_image_bytes(fmt, color=distinct_colour(next(colours)), **kwargs)
        return services.image_create(name=name, data=data, is_original=is_original).image

    return add
