"""Matching the pictures of pairs the vectors leave in doubt: a copy is found inside its
photo (or the photo inside it), another photo is not."""

import io

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from duplicates import finding
from duplicates.models import DuplicatePair
from duplicates.pixels import MATCH_SCALES, PictureMatcher, grey_picture, match_score
from duplicates.selectors import duplicate_grouping
from gallery.services import image_create
from tests.helpers import add_vector, run_stage, unit


def photo(seed: int, size=(320, 240)) -> PILImage.Image:
    """Smooth random shapes: something like a photo, different for every seed."""
    rng = np.random.default_rng(seed)
    picture = PILImage.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(25):
        x, y = rng.integers(0, size[0]), rng.integers(0, size[1])
        r = rng.integers(10, 80)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return picture


def screenshot(picture: PILImage.Image) -> PILImage.Image:
    inner = picture.resize((picture.width * 2 // 3, picture.height * 2 // 3))
    canvas = PILImage.new("RGB", (round(inner.width * 1.3), inner.height + 60), (235, 235, 235))
    ImageDraw.Draw(canvas).rectangle((0, 0, canvas.width, 24), fill=(40, 44, 52))
    canvas.paste(inner, ((canvas.width - inner.width) // 2, 36))
    return canvas


def jpeg(picture: PILImage.Image, quality=85) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()


def grey(picture):
    return grey_picture(jpeg(picture))


def test_a_copy_matches_its_photo_and_another_photo_does_not():
    original = photo(1)
    cropped = original.crop((20, 15, 300, 225))
    assert match_score(grey(original), grey(screenshot(original))) > 0.9
    assert match_score(grey(screenshot(original)), grey(original)) > 0.9
    assert match_score(grey(original), grey(cropped)) > 0.9
    assert match_score(grey(original), grey(photo(2))) < 0.6


def test_a_photo_framed_at_any_size_between_half_and_whole_is_found_inside_the_frame():
    original = photo(3)
    for scale in (0.55, 0.7, 0.85):
        inner = original.resize((round(320 * scale), round(240 * scale)))
        framed = PILImage.new("RGB", (320, 240), (250, 250, 250))
        framed.paste(inner, (320 - inner.width, 0))
        assert match_score(grey(framed), grey(original)) > 0.9, scale


def test_a_picture_of_one_grey_matches_nothing():
    flat = PILImage.new("RGB", (320, 240), (128, 128, 128))
    assert match_score(grey(flat), grey(photo(1))) == 0.0
    assert match_score(grey(photo(1)), grey(flat)) == 0.0


def match_one_size_at_a_time(first, second) -> float:
    """The match as first written (one FFT of the larger picture, and its running sums, for
    each size of the other): the scores the faster match must give."""
    best = -1.0
    for outer, inner in ((first, second), (second, first)):
        area = np.asarray(outer, dtype=np.float32)
        fit = min(outer.width / inner.width, outer.height / inner.height)
        for scale in MATCH_SCALES:
            width, height = int(inner.width * fit * scale), int(inner.height * fit * scale)
            if width < 8 or height < 8:
                continue
            template = np.asarray(inner.resize((width, height), PILImage.Resampling.BILINEAR),
                                  dtype=np.float32)
            best = max(best, correlation_at_one_size(area, template))
    return best


def correlation_at_one_size(area, template) -> float:
    rows, cols = area.shape
    height, width = template.shape
    centred = template - template.mean()
    norm = float(np.sqrt((centred * centred).sum()))
    if norm < 1e-3:
        return 0.0
    shape = (rows, cols)
    products = np.fft.irfft2(np.fft.rfft2(area, shape) * np.conj(np.fft.rfft2(centred, shape)),
                             shape)[:rows - height + 1, :cols - width + 1]
    sums = np.pad(area.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    squares = np.pad((area.astype(np.float64) ** 2).cumsum(0).cumsum(1), ((1, 0), (1, 0)))

    def window(total):
        return (total[height:, width:] - total[:-height, width:] - total[height:, :-width]
                + total[:-height, :-width])

    count = height * width
    spread = window(squares) - window(sums) ** 2 / count
    scores = products / (np.sqrt(np.maximum(spread, 1e-6)) * norm)
    scores[spread < 1e-2 * count] = 0.0
    return float(min(1.0, scores.max()))


def test_pairs_matched_together_score_as_the_match_one_size_at_a_time(monkeypatch):
    """A pass matches its pairs with one PictureMatcher, which correlates every size at
    once and keeps each picture's arrays for the next pairs (here only the last three, so
    some are forgotten and made again): the scores are those of the match as first
    written (numpy's FFTs at the pictures' own sizes), for photos, copies, pictures of one
    grey and pictures too small to match."""
    pictures = {}
    for number in range(3):
        original = photo(number)
        pictures[f"{number}"] = grey(original)
        pictures[f"{number}-screenshot"] = grey(screenshot(original))
        pictures[f"{number}-cropped"] = grey(original.crop((30, 10, 290, 230)))
    pictures["grey"] = grey(PILImage.new("RGB", (200, 300), (90, 90, 90)))
    pictures["grey-too"] = grey(PILImage.new("RGB", (320, 240), (200, 200, 200)))
    pictures["sliver"] = grey(photo(5, size=(320, 12)))
    # 73 pixels wide: its FFTs are 75 wide, an odd length (the inverse must be told it).
    pictures["portrait"] = grey(photo(4, size=(219, 288)))
    pairs = sorted((a, b) for a in pictures for b in pictures if a < b)
    monkeypatch.setattr(PictureMatcher, "KEPT", 3)
    matcher = PictureMatcher(pictures)
    together = {(a, b): matcher.score(a, b) for a, b in pairs}
    expected = {(a, b): match_one_size_at_a_time(pictures[a], pictures[b]) for a, b in pairs}
    # The same up to single precision's rounding (the FFTs are of other sizes and another
    # library's, duplicates/pixels.py).
    assert together == pytest.approx(expected, abs=1e-5)
    assert {(a, b): match_score(pictures[a], pictures[b]) for a, b in pairs} == \
        pytest.approx(expected, abs=1e-5)
    assert together[("1", "1-screenshot")] > 0.9 and together[("1", "2")] < 0.6


def alike(base: np.ndarray, similarity: float, seed: int) -> np.ndarray:
    """A unit vector exactly ``similarity`` alike to the unit vector ``base``."""
    side = unit(seed) - (unit(seed) @ base) * base
    side /= np.linalg.norm(side)
    return similarity * base + np.sqrt(1 - similarity ** 2) * side


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_copy_the_vectors_doubt_is_grouped_by_its_match_and_another_photo_is_not(settings):
    settings.DUPLICATE_MATCH = 0.90
    original, other = photo(1), photo(2)
    base = unit(1)
    images = []
    for name, picture, vector in [("photo.jpg", original, base),
                                  ("screenshot.jpg", screenshot(original), alike(base, 0.82, 2)),
                                  ("other.jpg", other, alike(base, 0.82, 3))]:
        images.append(image_create(name=name, data=jpeg(picture)).image)
        add_vector(images[-1], vector)
    run_stage("duplicates", extractor=images[0].feature_vectors.get().extractor)

    matched = DuplicatePair.objects.get(second_image_id=images[1].pk)
    assert matched.similarity == pytest.approx(0.82, abs=1e-4)
    assert matched.match > 0.9 and matched.score == matched.match
    unmatched = DuplicatePair.objects.get(second_image_id=images[2].pk)
    assert unmatched.match < 0.6 and unmatched.score == pytest.approx(0.82, abs=1e-4)
    assert [g.image_ids for g in duplicate_grouping(threshold=0.90).groups] == [
        (images[0].pk, images[1].pk)]


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_pair_found_again_by_its_second_vector_is_matched_once(settings, monkeypatch):
    """A stage behind extraction, or a backlog, compares a vector whose pairs include one
    not compared yet; that one's own pass finds the pair again, stored already."""
    settings.DUPLICATE_MATCH = 0.90
    monkeypatch.setattr("duplicates.finding.BATCH", 1)
    matched, match = [], finding._matches
    monkeypatch.setattr("duplicates.finding._matches",
                        lambda pairs: matched.append(set(pairs)) or match(pairs))
    original, base = photo(1), unit(1)
    images = []
    for name, picture, vector in [("photo.jpg", original, base),
                                  ("screenshot.jpg", screenshot(original), alike(base, 0.82, 2))]:
        images.append(image_create(name=name, data=jpeg(picture)).image)
        add_vector(images[-1], vector)
    extractor = images[0].feature_vectors.get().extractor

    assert run_stage("duplicates", extractor=extractor, budget_seconds=0) == 1
    assert run_stage("duplicates", extractor=extractor, budget_seconds=0) == 1
    assert run_stage("duplicates", extractor=extractor, budget_seconds=0) == 0

    assert matched == [{(images[0].pk, images[1].pk)}, set()]
    pair = DuplicatePair.objects.get()
    assert (pair.first_image_id, pair.second_image_id) == (images[0].pk, images[1].pk)
    assert pair.match > 0.9 and pair.score == pair.match
