"""Checks on the pictures themselves, beside the vectors.

The pixel digest tells "identical pixels" from "near-duplicate": two files with the same
decoded picture (one re-saved losslessly, or with other metadata) get the same digest;
any change to a pixel gives another. The match score tells a copy (one picture found
inside the other, at some size and place) from two photos of similar things.
"""

import hashlib
import io
import logging
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps
from scipy import fft

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
    return PictureMatcher({0: first, 1: second}).score(0, 1)


class _Templates(NamedTuple):
    """One picture at each of MATCH_SCALES of the most that fits in a picture of another
    size, centred: their shapes and lengths, and the spectra of their conjugates padded to
    that size (None when no size is both at least 8 pixels a side and not flat); ``flat``:
    some size was one grey, which matches nothing in particular (a score of 0)."""
    shapes: list[tuple[int, int]]
    norms: list[float]
    spectra: np.ndarray | None
    flat: bool


class _Area(NamedTuple):
    """A picture searched in: its spectrum and its running sums and sums of squares."""
    spectrum: np.ndarray
    sums: np.ndarray
    squares: np.ndarray


class PictureMatcher:
    """``match_score`` for many pairs among the same pictures (a duplicates pass's pairs in
    doubt, where one photo is often in several): each picture's spectrum and running sums,
    and its templates at the size of another picture (thumbnails mostly share a few sizes),
    are made once and kept for the next pairs. Every size of a template is correlated at
    once, one stack of FFTs (SciPy's, in single precision: 2.4 to 3.7 times as fast as
    numpy's on a stack of 11 thumbnail-sized pictures here).

    ``pictures``: grey pictures (``grey_picture``) by any key. Only the arrays used last
    are kept, KEPT of each kind (about 36 MB for 96-pixel thumbnails): pairs in the order of
    their first key reuse the most.
    """

    KEPT = 64

    def __init__(self, pictures: dict):
        self.pictures = pictures
        self._areas: OrderedDict = OrderedDict()
        self._templates: OrderedDict = OrderedDict()

    def score(self, first, second) -> float:
        """``match_score`` of the pictures with keys ``first`` and ``second``."""
        return max(self._best_inside(first, second), self._best_inside(second, first))

    def _best_inside(self, outer, inner) -> float:
        """The highest normalised cross-correlation of picture ``inner``, at each of its
        sizes, at any position inside picture ``outer``."""
        picture = self.pictures[outer]
        templates = self._templates_of(inner, picture.size)
        best = 0.0 if templates.flat else -1.0
        if templates.spectra is None:
            return best
        area = self._area_of(outer)
        rows, cols = picture.height, picture.width
        products = fft.irfft2(area.spectrum[None] * templates.spectra, _fast_shape(rows, cols))
        for place, ((height, width), norm) in enumerate(zip(templates.shapes, templates.norms)):
            found = products[place, :rows - height + 1, :cols - width + 1]
            best = max(best, _highest_correlation(found, area.sums, area.squares, height,
                                                  width, norm))
        return best

    def _area_of(self, key) -> _Area:
        area = self._cached(self._areas, key)
        if area is None:
            pixels = np.asarray(self.pictures[key], dtype=np.float32)
            area = self._remember(self._areas, key, _Area(
                fft.rfft2(pixels, _fast_shape(*pixels.shape)),
                np.pad(pixels.cumsum(0).cumsum(1), ((1, 0), (1, 0))),
                np.pad((pixels.astype(np.float64) ** 2).cumsum(0).cumsum(1), ((1, 0), (1, 0)))))
        return area

    def _templates_of(self, key, size: tuple[int, int]) -> _Templates:
        templates = self._cached(self._templates, (key, size))
        if templates is not None:
            return templates
        inner, (cols, rows) = self.pictures[key], size
        fit = min(cols / inner.width, rows / inner.height)
        centred_all, norms, flat = [], [], False
        for scale in MATCH_SCALES:
            width, height = int(inner.width * fit * scale), int(inner.height * fit * scale)
            if width < 8 or height < 8:
                continue
            template = np.asarray(inner.resize((width, height), PILImage.Resampling.BILINEAR),
                                  dtype=np.float32)
            centred = template - template.mean()
            norm = float(np.sqrt((centred * centred).sum()))
            if norm < 1e-3:
                flat = True
            else:
                centred_all.append(centred)
                norms.append(norm)
        spectra = None
        if centred_all:
            stacked = np.zeros((len(centred_all), *_fast_shape(rows, cols)), dtype=np.float32)
            for place, centred in enumerate(centred_all):
                stacked[place, :centred.shape[0], :centred.shape[1]] = centred
            spectra = np.conj(fft.rfft2(stacked))
        return self._remember(self._templates, (key, size), _Templates(
            [centred.shape for centred in centred_all], norms, spectra, flat))

    def _cached(self, cache: OrderedDict, key):
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
        return found

    def _remember(self, cache: OrderedDict, key, value):
        cache[key] = value
        if len(cache) > self.KEPT:
            cache.popitem(last=False)
        return value


def _fast_shape(rows: int, cols: int) -> tuple[int, int]:
    """The FFTs' size for a picture of ``rows`` by ``cols``: at least that (so a template's
    products inside the picture do not wrap around), of small prime factors. A thumbnail's
    own size is often not (71 by 93 took 3.4 times as long as 72 by 96)."""
    return fft.next_fast_len(rows, real=True), fft.next_fast_len(cols, real=True)


def _highest_correlation(products: np.ndarray, sums: np.ndarray, squares: np.ndarray,
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
