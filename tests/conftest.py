import io

import pytest
from PIL import Image as PILImage
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test gets its own empty media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api_client():
    return APIClient()


def make_image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), **save_args) -> bytes:
    """An image file built in memory; different colours give different content."""
    picture = PILImage.new("RGB", size, color)
    # A gradient stripe so images of one colour but different sizes still differ.
    for x in range(size[0]):
        picture.putpixel((x, 0), (x % 256, 0, 0))
    out = io.BytesIO()
    picture.save(out, fmt, **save_args)
    return out.getvalue()


def stored_files(media_root) -> list[str]:
    """Every file under the media folder, relative, sorted."""
    if not media_root.exists():
        return []
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())
