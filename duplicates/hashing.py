"""The perceptual hash: a second signal for copies the vectors do not see as alike.

A 64-bit pHash (imagehash: the signs of the lowest 8 x 8 frequencies of the picture in
grey at 32 x 32, against their median) of each image's thumbnail. It survives what
changes a picture's pixels but not its layout (a small copy at strong JPEG compression,
blur, greyscale, brightness, a watermark), which the vectors often put below the
duplicate floor; it misses crops, frames and screenshots, which the vectors and the
thumbnail match find (bench/duplicates.py).

A quarter turn (the pixels turned, with no EXIF orientation) and a mirror are copies
too: besides the upright hash, the hashes of the picture turned left, turned right and
mirrored are kept, and a new image is looked up with all four. The set is closed under
inverses (left undoes right, a mirror undoes itself), so a turned copy is found
whichever of the two images comes second.

A photo pasted on a larger canvas (plain or striped), framed or shown in a window, has a
hash of its own layout; the hash of its content box, the canvas trimmed away
(duplicates/framing.py), is the photo's again. It is kept beside the others (none when
nothing is trimmed) and both looked up and found like the upright hash.
"""

import io

import imagehash
import numpy as np
from PIL import Image as PILImage

from duplicates.framing import content_box

HASH_BITS = 64
# The picture as looked up: upright, then the transformations a copy may have had.
VARIANTS = (None, PILImage.Transpose.ROTATE_90, PILImage.Transpose.ROTATE_270,
            PILImage.Transpose.FLIP_LEFT_RIGHT)


# A picture whose greys spread less than this (of 255) is plain: its hash would be noise,
# equal for every plain picture, so it gets none.
PLAIN_SPREAD = 2.0


def picture_hashes(data: bytes) -> tuple[int | None, ...] | None:
    """The hashes of a picture (a thumbnail's bytes), unsigned: upright first, then turned
    left, turned right and mirrored, then its content box's (None when it has no canvas to
    trim); None for a plain picture."""
    with PILImage.open(io.BytesIO(data)) as opened:
        colour = opened.convert("RGB")
    grey = colour.convert("L")
    if _is_plain(grey):
        return None
    box = content_box(colour)
    trimmed = grey.crop(box) if box is not None else None
    return (*(_phash(grey if variant is None else grey.transpose(variant))
              for variant in VARIANTS),
            None if trimmed is None or _is_plain(trimmed) else _phash(trimmed))


def _is_plain(grey: PILImage.Image) -> bool:
    small = np.asarray(grey.resize((32, 32), PILImage.Resampling.BILINEAR), np.float32)
    return small.std() < PLAIN_SPREAD


def _phash(picture: PILImage.Image) -> int:
    bits = imagehash.phash(picture, hash_size=8).hash.flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hash_distance(first: int, second: int) -> int:
    """Bits that differ (Hamming distance)."""
    return (first ^ second).bit_count()


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer a BigIntegerField holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value
