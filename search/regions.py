"""Searching by a region of a picture: the box the user drew, cut out of the picture as
they saw it (EXIF orientation applied), becomes the query image."""

import io
from dataclasses import dataclass

from core.errors import InvalidInput
from features.extractors.imaging import open_upright

# Smaller boxes hold too little for the model to say anything about (it sees 224 x 224).
MIN_REGION_PIXELS = 16


@dataclass(frozen=True)
class Region:
    """A box in fractions of the picture's width and height (0 to 1, from the top left)."""

    x: float
    y: float
    width: float
    height: float

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


def region_cut(data: bytes, region: Region) -> bytes:
    """The region of an image file as a PNG file (lossless, so nothing is added to it)."""
    picture = open_upright(data)
    width, height = picture.size
    left, top = round(region.x * width), round(region.y * height)
    right = min(width, round((region.x + region.width) * width))
    bottom = min(height, round((region.y + region.height) * height))
    if right - left < MIN_REGION_PIXELS or bottom - top < MIN_REGION_PIXELS:
        raise InvalidInput(
            f"The region is {right - left} x {bottom - top} pixels of this {width} x {height} "
            f"image; draw one at least {MIN_REGION_PIXELS} pixels wide and high.",
            code="region_too_small")
    out = io.BytesIO()
    picture.crop((left, top, right, bottom)).save(out, "PNG", compress_level=1)
    return out.getvalue()
