"""Upload checks: each small check raises a clear, user-facing error.

An upload is accepted only when Pillow decodes it completely as one of the
supported formats and its extension says the same thing as its content.
"""

import hashlib
import io
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from core.errors import InvalidInput, TooLarge

# Pillow format name -> the extensions a file of that format may carry.
EXTENSIONS = {
    "JPEG": ("jpg", "jpeg"),
    "PNG": ("png",),
    "GIF": ("gif",),
    "BMP": ("bmp",),
    "WEBP": ("webp",),
}
ALLOWED_EXTENSIONS = tuple(ext for exts in EXTENSIONS.values() for ext in exts)
# Formats Pillow names apart that are one of ours: MPO is a JPEG with extra embedded
# pictures (as many phone cameras write); browsers show it as a JPEG.
FORMAT_ALIASES = {"MPO": "JPEG"}


def format_of(image: PILImage.Image) -> str:
    return FORMAT_ALIASES.get(image.format, image.format)


@dataclass(frozen=True)
class CheckedImage:
    """What the checks learned about a valid upload."""

    format: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format][0]


def check_image(data: bytes, *, name: str) -> CheckedImage:
    check_not_empty(data)
    check_size(data)
    extension = check_extension(name)
    image_format, width, height = check_decodes(data)
    check_extension_matches(extension, image_format)
    return CheckedImage(
        format=image_format,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check_not_empty(data: bytes) -> None:
    if not data:
        raise InvalidInput("The file is empty.", code="empty")


def check_size(data: bytes) -> None:
    limit = settings.IMAGESIM_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise TooLarge(f"The file is larger than the {limit / 2**20:g} MB limit.", code="too_large")


def check_extension(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise InvalidInput(
            f"Unsupported file type {('.' + extension) if extension else '(no extension)'}: "
            f"upload a JPEG, PNG, GIF, BMP or WebP image.",
            code="unsupported_type",
        )
    return extension


@contextmanager
def opened_image(data: bytes, *, purpose: str = "upload"):
    """Open an image file with Pillow, turning its failures into clear errors.

    The format and the pixel count are checked from the header, before anything is
    decoded; errors raised while the caller decodes inside the block are mapped too.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns on images over its own bomb limit: check_pixels decides, with
            # MAX_IMAGE_PIXELS, and says the image's size and the limit.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as image:
                if format_of(image) not in EXTENSIONS:
                    raise InvalidInput(
                        f"{image.format} images are not supported: {purpose} a JPEG, PNG, GIF, "
                        "BMP or WebP image.",
                        code="unsupported_type",
                    )
                check_pixels(image.width, image.height)
                yield image
    except PILImage.DecompressionBombError as exc:
        # Pillow refuses twice its own limit before it hands out the image's size: its
        # message names the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise TooLarge(f"The image has {size}; the limit is "
                       f"{settings.IMAGESIM_MAX_IMAGE_PIXELS:,} pixels.",
                       code="too_many_pixels") from None
    except UnidentifiedImageError:
        raise InvalidInput("The file is not an image ImageSim can read.",
                           code="not_an_image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(f"The image is corrupt or truncated ({exc}).",
                           code="corrupt_image") from None


def check_decodes(data: bytes) -> tuple[str, int, int]:
    """Decode the whole image; return its format and displayed (EXIF-rotated) size."""
    with opened_image(data) as image:
        image.load()  # reads every byte: a truncated or corrupt file fails here
        width, height = ImageOps.exif_transpose(image).size
        return format_of(image), width, height


def check_pixels(width: int, height: int) -> None:
    limit = settings.IMAGESIM_MAX_IMAGE_PIXELS
    if width * height > limit:
        raise TooLarge(
            f"The image is {width}x{height} pixels; the limit is {limit:,} pixels.",
            code="too_many_pixels",
        )


def check_extension_matches(extension: str, image_format: str) -> None:
    if extension not in EXTENSIONS[image_format]:
        raise InvalidInput(
            f"The file is named .{extension} but its content is {image_format}: "
            f"rename it to .{EXTENSIONS[image_format][0]}.",
            code="extension_mismatch",
        )
