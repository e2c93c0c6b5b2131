import pytest

from gallery import services
from tests.conftest import make_image_bytes


@pytest.fixture
def add_image(db):
    """Add an image to the library through the service, as an upload does."""
    colours = iter(range(1, 10_000))

    def add(name="photo.jpg", *, is_original=False, fmt="JPEG", **kwargs):
        n = next(colours)
        data = make_image_bytes(fmt, color=(n * 37 % 256, n * 91 % 256, n * 13 % 256), **kwargs)
        return services.image_create(name=name, data=data, is_original=is_original).image

    return add
