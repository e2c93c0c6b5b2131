"""Checks on the pictures themselves, beside the vectors.

The pixel digest tells "identical pixels" from "near-duplicate": two files with the same
decoded picture (one re-saved losslessly, or with other metadata) get the same digest;
any change to a pixel gives another. The match score tells a copy (one picture found
inside the other, at some size and place) from two photos of similar things.
"""

import hashlib
import io
import logging

import numpy as np
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


# The side, in pixels, thumbnails are compared at (their longer side).
MATCH_SIDE = 96
# How large a part of the other picture one may be, from half its size to all of it.
MATCH_SCALES = np.linspace(0.5, 1.0, 11)


def grey_picture(data: bytes) -> PILImage.Image:
    """A picture (a thumbnail) in grey, ``MATCH_SIDE`` pixels on its longer side."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture = picture.convert("L")
        scale = MATCH_SIDE / max(picture.size)
        return picture.resize((max(1, round(picture.width * scale)),
                               max(1, round(picture.height * scale))),
                              PILImage.Resampling.BILINEAR)


def match_score(first: PILImage.Image, second: PILImage.Image) -> float:
    """How well one picture is found inside the other, from -1 to 1: the best normalised
    cross-correlation over positions and sizes (half to all of the other).

    Near 1 for the same picture resized, recompressed, brightened, watermarked, cropped
    or set in a screenshot; well below for two photos of similar things, which the
    vectors alone may find as alike as a heavily framed copy (bench/duplicates.py).
    """
    return max(_best_inside(first, second), _best_inside(second, first))


def _best_inside(outer: PILImage.Image, inner: PILImage.Image) -> float:
    """The highest normalised cross-correlation of ``inner``, at each of MATCH_SCALES of the
    most that fits, at any position inside ``outer``.

    Every size of the template is correlated at once (one stack of FFTs), and ``outer``'s
    spectrum and running sums are made once for all of them: the worker matches the
    thumbnails of every pair in doubt, and one FFT of ``outer`` a size took 2.5 times as
    long (bench/duplicates.py).
    """
    area = np.asarray(outer, dtype=np.float32)
    rows, cols = area.shape
    fit = min(outer.width / inner.width, outer.height / inner.height)
    templates, best = [], -1.0
    for scale in MATCH_SCALES:
        width, height = int(inner.width * fit * scale), int(inner.height * fit * scale)
        if width < 8 or height < 8:
            continue
        template = np.asarray(inner.resize((width, height), PILImage.Resampling.BILINEAR),
                              dtype=np.float32)
        centred = template - template.mean()
        norm = float(np.sqrt((centred * centred).sum()))
        if norm < 1e-3:
            best = max(best, 0.0)  # a flat template matches nothing in particular
        else:
            templates.append((centred, norm))
    if not templates:
        return best
    stacked = np.zeros((len(templates), rows, cols), dtype=np.float32)
    for place, (centred, _) in enumerate(templates):
        stacked[place, :centred.shape[0], :centred.shape[1]] = centred
    products = np.fft.irfft2(np.fft.rfft2(area)[None] * np.conj(np.fft.rfft2(stacked)),
                             (rows, cols))
    sums = np.pad(area.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    squares = np.pad((area.astype(np.float64) ** 2).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    for place, (centred, norm) in enumerate(templates):
        height, width = centred.shape
        found = products[place, :rows - height + 1, :cols - width + 1]
        best = max(best, _correlation_most(found, sums, squares, height, width, norm))
    return best


def _correlation_most(products: np.ndarray, sums: np.ndarray, squares: np.ndarray,
                      height: int, width: int, norm: float) -> float:
    """The highest normalised cross-correlation from the template's products with each
    window (``products``), the area's running sums and sums of squares (each window's mean
    and spread), and the centred template's length ``norm``."""

    def window(total):
        return (total[height:, width:] - total[:-height, width:] - total[height:, :-width]
                + total[:-height, :-width])

    count = height * width
    spread = window(squares) - window(sums) ** 2 / count
    flat = spread < 1e-2 * count  # a window of one grey: no evidence either way
    scores = products / (np.sqrt(np.maximum(spread, 1e-6)) * norm)
    scores[flat] = 0.0
    return float(min(1.0, scores.max()))
