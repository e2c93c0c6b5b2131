"""Decoding an image file into an RGB picture of the size a model takes, shared by extractors.

Every reader raises InvalidInput for a file that is not an image or is corrupt; the
picture is fully decoded inside, so a truncated file fails here and not later.
"""

import io
from contextlib import contextmanager

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from core.errors import InvalidInput


@contextmanager
def _decoding():
    try:
        yield
    except UnidentifiedImageError:
        raise InvalidInput("The file is not an image ImageSim can read.", code="not_an_image")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(f"The image is corrupt or truncated ({exc}).",
                           code="corrupt_image") from None


def open_upright(data: bytes) -> PILImage.Image:
    """The whole picture, decoded, EXIF orientation applied (as a browser shows it), RGB."""
    with _decoding(), PILImage.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def open_rgb(data: bytes, *, size: tuple[int, int]) -> PILImage.Image:
    """Decode, apply EXIF orientation and resize to ``size`` as RGB."""
    with _decoding(), PILImage.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size[0] * 2, size[1] * 2))
        picture = ImageOps.exif_transpose(image).convert("RGB")
        return picture.resize(size, PILImage.Resampling.BILINEAR)


def squash_nearest(data: bytes, *, size: int) -> PILImage.Image:
    """What Keras' ``load_img(path, target_size=(size, size))`` gives, pixel for pixel:
    the whole file decoded (no EXIF orientation), RGB, resized by nearest neighbour."""
    with _decoding(), PILImage.open(io.BytesIO(data)) as image:
        picture = image.convert("RGB") if image.mode != "RGB" else image.copy()
        if picture.size != (size, size):
            picture = picture.resize((size, size), PILImage.Resampling.NEAREST)
        return picture


def centre_crop_sampled(data: bytes, *, size: int) -> PILImage.Image:
    """The middle square of the upright picture, ``size`` x ``size``.

    Shrunk first by whole factors (JPEG's decoder scales by 1/2, 1/4 or 1/8 while
    decoding, then a box filter) until the short side is under twice ``size``, then
    sampled bilinearly without antialiasing. Pillow's ``resize`` would average over a
    footprint widened by the whole shrink factor: a softer picture than the network
    saw in training, which costs retrieval quality (see presets.py). The whole-factor
    steps keep large photos from aliasing, and make a 4000-pixel photo cost little
    more than a 400-pixel one.
    """
    with _decoding(), PILImage.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size, size))  # the short side stays >= size
        picture = ImageOps.exif_transpose(image).convert("RGB")
        factor = min(picture.size) // size
        if factor >= 2:
            picture = picture.reduce(factor)
        width, height = picture.size
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        return picture.transform((size, size), PILImage.Transform.EXTENT,
                                 (left, top, left + side, top + side),
                                 PILImage.Resampling.BILINEAR)
