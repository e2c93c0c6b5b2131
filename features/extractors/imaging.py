"""Decoding an image file into an upright RGB picture, shared by extractors."""

import io

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from core.errors import InvalidInput


def open_rgb(data: bytes, *, size: tuple[int, int]) -> PILImage.Image:
    """Decode, apply EXIF orientation and resize to ``size`` as RGB."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image.draft("RGB", (size[0] * 2, size[1] * 2))
            picture = ImageOps.exif_transpose(image).convert("RGB")
            return picture.resize(size, PILImage.Resampling.BILINEAR)
    except UnidentifiedImageError:
        raise InvalidInput("The file is not an image ImageSim can read.", code="not_an_image")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(f"The image is corrupt or truncated ({exc}).",
                           code="corrupt_image") from None
