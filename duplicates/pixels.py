"""The pixel fingerprint that tells "identical pixels" from "near-duplicate".

Two files with the same decoded picture (one re-saved losslessly, or with other
metadata) get the same digest; any change to a pixel gives another.
"""

import hashlib
import io
import logging

from PIL import Image as PILImage
from PIL import ImageOps

from core.errors import ImageSimError
from gallery.models import Image
from gallery.storage import file_read

logger = logging.getLogger(__name__)


def pixel_digest(data: bytes) -> str:
    """SHA-256 of the upright picture's mode, size and pixels."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture = ImageOps.exif_transpose(picture)
        if picture.mode not in ("RGB", "RGBA", "L", "LA"):
            picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
        digest = hashlib.sha256(f"{picture.mode} {picture.width}x{picture.height}\n".encode())
        digest.update(picture.tobytes())
        return digest.hexdigest()


def image_pixel_digest(image: Image) -> str | None:
    """The digest of a library image's file; None when it cannot be read now."""
    try:
        return pixel_digest(file_read(image.file.name))
    except (OSError, ValueError, ImageSimError) as exc:
        logger.warning("Could not read %s for its pixel digest: %s", image.filename, exc)
        return None
