"""The picture inside a frame: where a plain or striped canvas (or a window's bars) ends.

A photo pasted on a larger canvas keeps its pixels but not its layout, so neither its hash
nor its vector stays near the photo's. Its canvas is told apart by colour: the pixels of
the picture's border lie near one line in colour space (one colour, or the blends of two:
a stripe's colours and the shades between them where the thumbnail softened its edges).
Each side whose pixels nearly all fit the border's line is canvas, and the picture is cut
from that side inward up to the first row (or column) where a good share of pixels do not
fit. Hashing what is left (duplicates/hashing.py) finds the photo again.

A photo's own plain background (a wall, a sheet) is trimmed the same way; then its
trimmed hash is its subject's, and a framed copy's trimmed hash is too.
"""

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

# Colour distance (RGB, of 255) from the border's line within which a pixel is canvas,
# once softened (bench/duplicates.py: 20 finds more framed copies than 25 or 30).
CANVAS_TOLERANCE = 20.0
# A side is canvas when this share of its pixels (its two outer lines) fit the line.
SIDE_FIT = 0.85
# The picture starts at the first line (from a canvas side) where at least this share of
# the fullest line's pixels do not fit.
PICTURE_SHARE = 0.5
# Softening spreads the picture one pixel into its canvas: that much is cut again.
EDGE = 1
# Trimmed boxes larger than this share of the picture change too little to need a hash of
# their own; ones narrower than this share of a side are a detail, not the picture.
LARGEST_BOX, SMALLEST_SIDE = 0.85, 0.25


def _colour_line(pixels: np.ndarray):
    """The segment in colour space the pixels lie along: its middle, direction and ends."""
    middle = pixels.mean(0)
    centred = pixels - middle
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    low, high = np.percentile(centred @ direction, [1, 99])
    return middle, direction, low, high


def _off_line(line, pixels: np.ndarray) -> np.ndarray:
    middle, direction, low, high = line
    centred = pixels - middle
    along = np.clip(centred @ direction, low, high)
    return np.linalg.norm(centred - along[..., None] * direction, axis=-1)


def content_box(colour: PILImage.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the picture inside its canvas, for an RGB picture;
    None when no side is canvas or the box is (nearly) the whole picture."""
    # Softened a little: a JPEG keeps colour at half the resolution of brightness, so
    # the edges of saturated stripes get colours off their line; averaged with their
    # neighbours, they are blends of the two again.
    rgb = np.asarray(colour.filter(ImageFilter.BoxBlur(1))).astype(np.float32)
    height, width, _ = rgb.shape
    sides = [rgb[:2].reshape(-1, 3), rgb[-2:].reshape(-1, 3),         # top, bottom,
             rgb[:, :2].reshape(-1, 3), rgb[:, -2:].reshape(-1, 3)]   # left, right
    # The canvas's colours: the line of the side that most sides fit (the photo may touch
    # one or two sides of its canvas).
    best_line, canvas_sides = None, []
    for side in sides:
        line = _colour_line(side)
        fitting = [(_off_line(line, other) <= CANVAS_TOLERANCE).mean() >= SIDE_FIT
                   for other in sides]
        if sum(fitting) > sum(canvas_sides):
            best_line, canvas_sides = line, fitting
    if not any(canvas_sides):
        return None
    picture = _off_line(best_line, rgb) > CANVAS_TOLERANCE
    rows, columns = picture.mean(1), picture.mean(0)
    # Against the fullest line, so that a photo is cut where its copy on a wider canvas is.
    rows, columns = rows >= PICTURE_SHARE * rows.max(), columns >= PICTURE_SHARE * columns.max()
    top, bottom, left, right = 0, height, 0, width
    if canvas_sides[0]:
        top = int(np.argmax(rows)) + EDGE
    if canvas_sides[1]:
        bottom = height - int(np.argmax(rows[::-1])) - EDGE
    if canvas_sides[2]:
        left = int(np.argmax(columns)) + EDGE
    if canvas_sides[3]:
        right = width - int(np.argmax(columns[::-1])) - EDGE
    box_width, box_height = right - left, bottom - top
    if (box_width * box_height > LARGEST_BOX * width * height
            or box_width < SMALLEST_SIDE * width or box_height < SMALLEST_SIDE * height):
        return None
    return left, top, right, bottom
