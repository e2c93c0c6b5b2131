"""Thumbnails: made once at upload, never on the request path."""

import io

from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageOps


def make_thumbnail(data: bytes) -> bytes:
    """A JPEG that fits in THUMBNAIL_SIZE x THUMBNAIL_SIZE, upright, transparency on white."""
    size = settings.IMAGESIM_THUMBNAIL_SIZE
    with PILImage.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale, much faster
        picture = ImageOps.exif_transpose(image)
        picture.thumbnail((size, size), PILImage.Resampling.LANCZOS)
        picture = flatten_to_rgb(picture)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=settings.IMAGESIM_THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def flatten_to_rgb(picture: PILImage.Image) -> PILImage.Image:
    if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")
