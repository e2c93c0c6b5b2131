"""Duplicates benchmark: how well ImageSim's signals (the plain ResNet50 vectors, the
thumbnail match, the perceptual hash) tell copies from other photos of the same kind, beside
the anchors; the threshold that follows; a hash lookup at 1M; the listing time at 100k.

    source bin/shared-weights
    .venv/bin/python bench/duplicates.py                 # everything (300 photos: an hour or
                                                         # more on 2 busy cores)
    .venv/bin/python bench/duplicates.py --n 100 --no-listing   # a third of the photos
    .venv/bin/python bench/duplicates.py --no-model      # the timings only

1. Calibration. ``--n`` dev-set photos (``../shared/data/devset``, the same number of each
   garment kind) and, of each, one copy per transformation (TRANSFORMS): resized, JPEG
   recompressed, cropped a little, brightened, watermarked, a screenshot in a window frame,
   rotated a few degrees, a third and a quarter of the size at JPEG quality 25-35, blurred
   at quality 25-35, on a larger plain or striped canvas, with an app's chrome on two or
   three sides, greyscale, turned a quarter (no EXIF orientation) and mirrored: every one a
   duplicate to ImageSim. Every image gets its thumbnail (as the library makes it), its
   hashes and its vector (the real ResNet50, the configured preset; FEATURE_WEIGHTS), and
   every pair of images is scored as the worker scores it: vector pairs at or above
   DUPLICATE_FLOOR, those below MATCH_BELOW with their thumbnails matched (a match of at
   least DUPLICATE_MATCH raises the score to it), and hash pairs at most
   DUPLICATE_HASH_DISTANCE bits apart (score 1 - bits / 64). A pair is a true duplicate
   when both come from one photo; the others, among them every two photos of one garment
   kind (the hard non-duplicates), are not. Recall is counted over each photo and its
   copies (per transformation: the photos and their copies of it; over the mix: all),
   precision over every pair. Printed: the table at thresholds 0.80..0.99, the lowest step
   with precision >= 0.98 over the mix, each transformation at the shipped
   DUPLICATE_THRESHOLD against the targets (>= 0.95 over the mix, >= 0.90 each), and the
   anchors' rows from the same images: pHash and dHash at imagededup's distance 10, plain
   cosine at its best threshold and at imagededup's CNN default 0.90.
2. Thumbnail match: the worker's match of two thumbnails (duplicates/pixels.py), for each
   of ``--match-photos`` dev-set photos against its screenshot and its crop and against
   the next five photos (mostly of its kind), ms a pair: one pair at a time
   (``match_score``), and all the pairs together as a duplicates pass matches them
   (``PictureMatcher``: each thumbnail's arrays made once), beside the match one size at
   a time (each size's own FFT of the larger thumbnail, as before) in the same run: the
   same scores.
3. Hash lookup: one new image's five hashes among ``--hashes`` images' random ones (two
   each: upright and trimmed) with near ones planted, by the multi-index and by a scan of all (the same answers), p50.
4. Listing time: a scratch SQLite library of 100k images (rows with small synthetic
   vectors; their files are not needed to list) holding some thousands of groups, whose
   pairs are written as the worker writes them; GET /api/v1/duplicates/ through Django's
   full stack (after one request to another endpoint, so Django itself is warm): the first
   page and a later page, the first request (groups formed) and the next ones (formed
   groups kept), p50 of several.
"""

import argparse
import csv
import io
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageEnhance, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEVSET = ROOT.parent / "shared" / "data" / "devset"
THRESHOLDS = [round(0.60 + 0.01 * step, 2) for step in range(40)]
SHIPPED_THRESHOLDS = [t for t in THRESHOLDS if t >= 0.80]
TARGET_PRECISION, TARGET_MIX_RECALL, TARGET_RECALL = 0.98, 0.95, 0.90


def setup_django(database: Path, media: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": f"sqlite:///{database}", "MEDIA_ROOT": str(media),
        "FEATURE_EMBEDDED_WORKER": "false", "SEARCH_WARM_UP": "false",
        "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()


# --- the transformations -------------------------------------------------------------

def jpeg(picture: PILImage.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized(picture, rng):
    scale = rng.uniform(0.35, 0.6)
    return picture.resize((round(picture.width * scale), round(picture.height * scale)),
                          PILImage.Resampling.LANCZOS)


def recompressed(picture, rng):
    return PILImage.open(io.BytesIO(jpeg(picture, quality=rng.randint(25, 45))))


def cropped(picture, rng):
    """Up to a tenth off each side (a crop that keeps the subject)."""
    w, h = picture.size
    left, right = (round(w * rng.uniform(0.02, 0.1)) for _ in range(2))
    top, bottom = (round(h * rng.uniform(0.02, 0.1)) for _ in range(2))
    return picture.crop((left, top, w - right, h - bottom))


def brightened(picture, rng):
    brighter = ImageEnhance.Brightness(picture).enhance(rng.uniform(1.2, 1.4))
    return ImageEnhance.Contrast(brighter).enhance(rng.uniform(0.9, 1.1))


def watermarked(picture, rng):
    """A semi-transparent line of text across the lower part, as stock photo sites do."""
    layer = PILImage.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(12, picture.width // 12))
    text = rng.choice(["© ImageSim sample", "SAMPLE", "www.example.org", "© 2024 Shop"])
    box = draw.textbbox((0, 0), text, font=font)
    x = rng.uniform(0.05, 0.4) * picture.width
    y = rng.uniform(0.55, 0.85) * picture.height - (box[3] - box[1])
    draw.text((x, y), text, font=font, fill=(255, 255, 255, rng.randint(110, 170)),
              stroke_width=2, stroke_fill=(0, 0, 0, 90))
    return PILImage.alpha_composite(picture.convert("RGBA"), layer).convert("RGB")


def screenshot(picture, rng):
    """The photo scaled into a larger window: a frame, a title bar and a status bar."""
    scale = rng.uniform(0.5, 0.75)
    inner = picture.resize((round(picture.width * scale), round(picture.height * scale)),
                           PILImage.Resampling.BILINEAR)
    bar = max(16, inner.height // 10)
    width = round(inner.width * rng.uniform(1.15, 1.35))
    height = inner.height + bar * 2 + round(inner.height * rng.uniform(0.05, 0.2))
    shade = rng.randint(225, 250)
    canvas = PILImage.new("RGB", (width, height), (shade, shade, shade))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, bar), fill=(40, 44, 52))
    for n in range(3):  # window buttons
        draw.ellipse((8 + n * bar, bar // 4, 8 + n * bar + bar // 2, bar // 4 + bar // 2),
                     fill=((230, 80, 80), (230, 190, 60), (90, 200, 90))[n])
    draw.rectangle((0, height - bar // 2, width, height), fill=(210, 210, 215))
    x = (width - inner.width) // 2
    canvas.paste(inner, (x, bar + (height - bar * 2 - inner.height) // 2))
    return canvas


def rotated(picture, rng):
    angle = rng.uniform(2, 5) * rng.choice([-1, 1])
    turned = picture.rotate(angle, resample=PILImage.Resampling.BILINEAR, expand=False)
    # Cut the corners the rotation filled, as a straightening tool does.
    margin = np.sin(np.radians(abs(angle)))
    w, h = turned.size
    return turned.crop((round(w * margin), round(h * margin), w - round(w * margin),
                        h - round(h * margin)))


def shrunk_jpeg(fraction):
    """A third (or a quarter) of the size at strong JPEG compression: a messenger's or a
    web preview's copy (kept as that JPEG, not saved again)."""
    def transform(picture, rng):
        small = picture.resize((max(8, round(picture.width * fraction)),
                                max(8, round(picture.height * fraction))),
                               PILImage.Resampling.BILINEAR)
        return jpeg(small, quality=rng.randint(25, 35))
    return transform


def blurred_jpeg(picture, rng):
    soft = picture.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.0)))
    return jpeg(soft, quality=rng.randint(25, 35))


def on_canvas(picture, rng):
    """The photo at its size on a larger canvas (a fifth to three fifths wider and higher):
    plain (white, black or a colour) or patterned (stripes in two colours)."""
    width = round(picture.width * rng.uniform(1.2, 1.6))
    height = round(picture.height * rng.uniform(1.2, 1.6))
    colour = rng.choice([(255, 255, 255), (0, 0, 0), tuple(rng.randint(0, 255) for _ in range(3))])
    canvas = PILImage.new("RGB", (width, height), colour)
    if rng.random() < 0.5:
        draw = ImageDraw.Draw(canvas)
        other = tuple(rng.randint(0, 255) for _ in range(3))
        step = rng.randint(8, 24)
        for x in range(-height, width, step * 2):  # diagonal stripes
            draw.polygon([(x, 0), (x + step, 0), (x + step + height, height), (x + height, height)],
                         fill=other)
    canvas.paste(picture, (rng.randint(0, width - picture.width),
                           rng.randint(0, height - picture.height)))
    return canvas


def window_chrome(picture, rng):
    """A screenshot of the photo at its size with an app's chrome on two or three sides: a
    toolbar above, a side panel on the left, and sometimes a status bar below."""
    top = round(picture.height * rng.uniform(0.08, 0.15))
    side = round(picture.width * rng.uniform(0.12, 0.25))
    bottom = round(picture.height * rng.uniform(0.04, 0.08)) if rng.random() < 0.5 else 0
    canvas = PILImage.new("RGB", (picture.width + side, picture.height + top + bottom),
                          (246, 246, 248))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, canvas.width, top), fill=(53, 57, 66))
    for n in range(4):  # toolbar buttons and panel entries
        draw.rectangle((side + 10 + n * 40, top // 4, side + 40 + n * 40, top * 3 // 4),
                       fill=(90, 96, 110))
        draw.rectangle((8, top + 12 + n * 30, side - 8, top + 30 + n * 30), fill=(220, 222, 228))
    if bottom:
        draw.rectangle((0, canvas.height - bottom, canvas.width, canvas.height),
                       fill=(200, 204, 210))
    canvas.paste(picture, (side, top))
    return canvas


def greyscale(picture, rng):
    return picture.convert("L")


def turned(picture, rng):
    """A quarter turn with no EXIF orientation (the pixels themselves turned)."""
    return picture.transpose(rng.choice([PILImage.Transpose.ROTATE_90,
                                         PILImage.Transpose.ROTATE_270]))


def mirrored(picture, rng):
    return picture.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)


TRANSFORMS = {"resize": resized, "jpeg": recompressed, "crop": cropped, "brighten": brightened,
              "watermark": watermarked, "screenshot": screenshot, "rotate": rotated,
              "third-q30": shrunk_jpeg(1 / 3), "quarter-q30": shrunk_jpeg(1 / 4),
              "blur-q30": blurred_jpeg, "canvas": on_canvas, "chrome": window_chrome,
              "grey": greyscale, "turn90": turned, "mirror": mirrored}


# --- calibration -------------------------------------------------------------------

def chosen_photos(n: int, seed: int) -> list[tuple[str, str]]:
    with open(DEVSET / "labels.csv") as handle:
        rows = [(row["filename"], row["label"]) for row in csv.DictReader(handle)]
    by_label: dict[str, list[str]] = {}
    for filename, label in sorted(rows):
        by_label.setdefault(label, []).append(filename)
    rng = random.Random(seed)
    per_label = max(2, n // len(by_label))
    return [(filename, label) for label in sorted(by_label)
            for filename in rng.sample(by_label[label], min(per_label, len(by_label[label])))]


def build_set(photos, seed: int):
    """Files and, for each, (source photo index, transformation or "" for the photo)."""
    files, meta = [], []
    for index, (filename, _) in enumerate(photos):
        data = (DEVSET / "images" / filename).read_bytes()
        files.append(data)
        meta.append((index, ""))
        with PILImage.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGB")
        for name, transform in TRANSFORMS.items():
            rng = random.Random(f"{seed}-{filename}-{name}")
            # Each copy saved as a JPEG of good quality, as a copy found on disk would be,
            # unless the transformation saved it itself (strong compression).
            copy = transform(picture, rng)
            files.append(copy if isinstance(copy, bytes) else jpeg(copy, quality=92))
            meta.append((index, name))
    return files, meta


def extract(files: list[bytes]) -> tuple[np.ndarray, str, float]:
    from django.conf import settings

    from features.extractors.loader import get_extractor

    extractor = get_extractor()
    extractor.load()
    started = time.perf_counter()
    rows = [extractor.extract(files[start:start + settings.FEATURE_BATCH_SIZE])
            for start in range(0, len(files), settings.FEATURE_BATCH_SIZE)]
    return np.concatenate(rows), extractor.fingerprint, time.perf_counter() - started


def precision_recall(scores: np.ndarray, same: np.ndarray, threshold: float, wanted=None):
    """Pair precision over ``scores`` and recall over the ``wanted`` pairs (default: every
    pair of one photo's images), with the number of false pairs."""
    wanted = same if wanted is None else wanted
    found = scores >= threshold
    hits = int((found & same).sum())
    precision = hits / found.sum() if found.sum() else 1.0
    recall = int((found & wanted).sum()) / wanted.sum() if wanted.sum() else 1.0
    return precision, recall, int((found & ~same).sum())


def picture_signals(files: list[bytes]):
    """Each image's thumbnail (as the library makes it), its pHashes (ImageSim's: upright,
    turned, mirrored and trimmed of its canvas; a missing one as None) and its dHash (an
    anchor), all from the thumbnail."""
    import imagehash

    from duplicates.hashing import picture_hashes
    from gallery.thumbnails import make_thumbnail

    thumbnails = [make_thumbnail(data) for data in files]
    hashes = np.array([picture_hashes(thumbnail) for thumbnail in thumbnails], dtype=object)
    dhashes = []
    for thumbnail in thumbnails:
        with PILImage.open(io.BytesIO(thumbnail)) as picture:
            bits = imagehash.dhash(picture).hash.flatten()
        dhashes.append(int.from_bytes(np.packbits(bits).tobytes(), "big"))
    return thumbnails, hashes, np.array(dhashes, dtype=np.uint64)


def hash_distances(hashes: np.ndarray) -> np.ndarray:
    """Bits apart of every two images, as the worker finds them: the later image's hashes
    (upright, turned left, turned right, mirrored, trimmed) against the earlier's upright
    and trimmed ones (duplicates.hash_finding.INDEXED_FIELDS)."""
    present = hashes != None  # noqa: E711 (elementwise)
    values = np.where(present, hashes, 0).astype(np.uint64)
    later = np.full((len(hashes), len(hashes)), 64, dtype=np.uint8)
    for variant in range(hashes.shape[1]):
        for indexed in (0, hashes.shape[1] - 1):
            bits = np.bitwise_count(values[None, :, variant] ^ values[:, None, indexed])
            bits[~(present[None, :, variant] & present[:, None, indexed])] = 64
            later = np.minimum(later, bits.astype(np.uint8))
    upper = np.triu(later, 1)
    return upper + upper.T


def shipped_scores(similarities, thumbnails, hashes, upper):
    """Each pair's score as the worker stores it: vector pairs at or above the floor, those
    below MATCH_BELOW with their thumbnails matched (a match of at least DUPLICATE_MATCH
    raises the score to it), and hash pairs at most DUPLICATE_HASH_DISTANCE bits apart
    (score 1 - bits / 64); an image pair's score is the higher of its two rows'. Pairs
    below the floor and beyond the hash distance are never stored (score 0)."""
    from django.conf import settings

    from duplicates.finding import MATCH_BELOW, pair_score
    from duplicates.hash_finding import hash_score
    from duplicates.pixels import grey_picture, match_score

    floor, least = float(settings.DUPLICATE_FLOOR), float(settings.DUPLICATE_MATCH)
    scores = np.where(similarities >= floor, similarities, 0.0)
    doubt = np.argwhere(upper & (similarities >= floor) & (similarities < MATCH_BELOW))
    started = time.perf_counter()
    pictures = {}
    for i, j in doubt:
        for n in (i, j):
            if n not in pictures:
                pictures[n] = grey_picture(thumbnails[n])
        score = pair_score(float(similarities[i, j]),
                           match_score(pictures[i], pictures[j]), least)
        scores[i, j] = scores[j, i] = score
    print(f"vector pairs stored (at or above the floor {floor}): "
          f"{int((upper & (scores > 0)).sum())}; thumbnails matched for {len(doubt)} of them "
          f"(below {MATCH_BELOW}) in {time.perf_counter() - started:.0f} s")
    bits = hash_distances(hashes)
    near = bits <= int(settings.DUPLICATE_HASH_DISTANCE)
    hashed = np.where(near, hash_score(bits.astype(np.float64)), 0.0)
    print(f"hash pairs stored (at most {settings.DUPLICATE_HASH_DISTANCE} bits apart): "
          f"{int((upper & near).sum())}, of which {int((upper & near & (scores == 0)).sum())} "
          "not stored by the vectors")
    return np.maximum(scores, hashed), bits


def best_threshold(scores, same, wanted) -> float:
    """The threshold with the highest recall at precision >= the target, else the best F1."""
    results = [(t, *precision_recall(scores, same, t, wanted)[:2]) for t in THRESHOLDS]
    meeting = [row for row in results if row[1] >= TARGET_PRECISION]
    if meeting:
        return max(meeting, key=lambda row: row[2])[0]
    return max(results, key=lambda row: 2 * row[1] * row[2] / max(1e-9, row[1] + row[2]))[0]


def anchors(similarities, hashes, dhashes, same, copies, upper) -> list[str]:
    """The anchors' rows on the same pairs: pHash and dHash at imagededup's distance 10
    (upright hashes only, as they are made), plain cosine at its best threshold and at
    imagededup's CNN default 0.90."""
    rows = []
    for name, values in (("pHash", hashes[:, 0].astype(np.uint64)), ("dHash", dhashes)):
        bits = np.bitwise_count(values[:, None] ^ values[None, :])
        p, r, _ = precision_recall(bits[upper] <= 10, same[upper], True, copies[upper])
        _, everything, _ = precision_recall(bits[upper] <= 10, same[upper], True)
        rows.append(f"| {name} | distance <= 10 | {p:.3f} | {r:.3f} | {everything:.3f} |")
    best = best_threshold(similarities[upper], same[upper], copies[upper])
    for setting, threshold in ((f"best threshold, {best:.2f}", best),
                               ("imagededup's CNN default, 0.90", 0.90)):
        p, r, _ = precision_recall(similarities[upper], same[upper], threshold, copies[upper])
        _, everything, _ = precision_recall(similarities[upper], same[upper], threshold)
        rows.append(f"| plain ResNet50 cosine | {setting} | {p:.3f} | {r:.3f} | {everything:.3f} |")
    return rows


def calibrate(args) -> float | None:
    from django.conf import settings

    photos = chosen_photos(args.n, args.seed)
    files, meta = build_set(photos, args.seed)
    print(f"Calibration: {len(photos)} dev-set photos ({len(photos) // 10} of each of 10 "
          f"garment kinds), {len(TRANSFORMS)} transformed copies of each: {len(files)} images")
    thumbnails, hashes, dhashes = picture_signals(files)
    vectors, fingerprint, seconds = extract(files)
    print(f"extracted with {fingerprint} in {seconds:.1f} s")
    source = np.array([index for index, _ in meta])
    kind = np.array([name for _, name in meta])
    label = np.array([photos[index][1] for index in source])
    similarities = vectors @ vectors.T
    upper = np.triu(np.ones_like(similarities, dtype=bool), k=1)
    same = source[:, None] == source[None, :]
    same_label = label[:, None] == label[None, :]
    # A photo and one of its copies (the pairs recall is counted over).
    copies = same & ((kind == "")[:, None] != (kind == "")[None, :])

    hard = upper & ~same & same_label
    print(f"similarity of two photos of one garment kind (hard non-duplicates, "
          f"{int(hard.sum())} pairs): max {similarities[hard].max():.3f}, 99.9th percentile "
          f"{np.percentile(similarities[hard], 99.9):.3f}")
    print("similarity of each photo to its copy: " + ", ".join(
        f"{name} min {similarities[(kind == '')[:, None] & (kind == name)[None, :] & same].min():.3f}"
        for name in TRANSFORMS))

    anchor_rows = anchors(similarities, hashes, dhashes, same, copies, upper)
    scores, bits = shipped_scores(similarities, thumbnails, hashes, upper)
    print("closest hash distance of two different photos' images: "
          f"{int(bits[upper & ~same].min())} bits")
    populations = {}
    for name in TRANSFORMS:
        keep = (kind == "") | (kind == name)
        populations[name] = upper & keep[:, None] & keep[None, :]
    populations["mix"] = upper
    print("\nPair precision / recall with the shipped scores (a pair counts as found when its "
          "score is at or above the threshold; recall over each photo and its copies; per "
          "transformation: the photos and their copies of it; mix: every image, precision "
          "over every pair):")
    print("threshold " + " ".join(f"{name:>15}" for name in populations))
    results = {}
    for threshold in SHIPPED_THRESHOLDS:
        line = f"{threshold:9.2f}"
        for name, cell in populations.items():
            result = precision_recall(scores[cell], same[cell], threshold, copies[cell])
            results[threshold, name] = result
            line += f"   {result[0]:5.3f} / {result[1]:5.3f}"
        print(line)
    # Precision first: a pair wrongly taken for a duplicate may cost a photo.
    chosen = next((t for t in SHIPPED_THRESHOLDS if results[t, "mix"][0] >= TARGET_PRECISION),
                  None)
    if chosen is None:
        print(f"\nNo threshold reaches precision {TARGET_PRECISION} over the mix.")
        return None
    precision, recall, false = results[chosen, "mix"]
    _, everything, _ = precision_recall(scores[upper], same[upper], chosen)
    verdict = "meets" if recall >= TARGET_MIX_RECALL else "misses"
    print(f"\nChosen threshold: {chosen:.2f}, the lowest step of 0.01 with precision >= "
          f"{TARGET_PRECISION} over the mix (DUPLICATE_THRESHOLD is "
          f"{settings.DUPLICATE_THRESHOLD}): precision {precision:.3f}, recall {recall:.3f} "
          f"({false} false pairs; {everything:.3f} of every pair of one photo's images); it "
          f"{verdict} the target recall >= {TARGET_MIX_RECALL}")
    shipped = float(settings.DUPLICATE_THRESHOLD)
    print(f"\nAt the shipped threshold {shipped}, each transformation (target recall >= "
          f"{TARGET_RECALL}):")
    for name in [*TRANSFORMS, "mix"]:
        p, r, false = precision_recall(scores[populations[name]], same[populations[name]],
                                       shipped, copies[populations[name]])
        mark = "" if r >= (TARGET_MIX_RECALL if name == "mix" else TARGET_RECALL) else "  (below)"
        print(f"  {name:>12}: precision {p:.3f}, recall {r:.3f}, {false} false pairs{mark}")
    p, r, _ = precision_recall(scores[upper], same[upper], shipped, copies[upper])
    _, everything, _ = precision_recall(scores[upper], same[upper], shipped)
    print("\n| method | setting | precision | recall (photo and copy) | recall (every pair of "
          "one photo's images) |\n|---|---|---|---|---|")
    print("\n".join(anchor_rows))
    print(f"| ImageSim | shipped defaults (threshold {shipped}) | {p:.3f} | {r:.3f} | "
          f"{everything:.3f} |")
    return chosen


# --- hash lookup time at 1M --------------------------------------------------------

def hash_lookup(args) -> None:
    """One new image's lookup (its five hashes) among ``--hashes`` images' random ones (an
    upright and a trimmed hash each, as the worker's index holds them) with near ones
    planted, by the multi-index and by a scan of all: the same answer, timed."""
    from duplicates.hash_index import HashIndex, scan_within

    rng = np.random.default_rng(args.seed)
    count, distance = 2 * args.hashes, 4
    hashes = rng.integers(0, 2 ** 63, count, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    hashes |= rng.integers(0, 2, count).astype(np.uint64)
    queries = [rng.integers(0, 2 ** 63, 5, dtype=np.int64).astype(np.uint64) for _ in range(50)]
    for query in queries:  # a few near copies of each query's hashes, 0 to 6 bits apart
        for _ in range(3):
            flips = rng.choice(64, size=int(rng.integers(0, 7)), replace=False)
            near = int(query[int(rng.integers(0, 5))]) ^ sum(1 << int(bit) for bit in flips)
            hashes[int(rng.integers(0, count))] = np.uint64(near)
    keys = np.arange(count) // 2  # an image's upright and trimmed hash
    started = time.perf_counter()
    index = HashIndex(keys, hashes)
    index.within(0, distance)
    built = time.perf_counter() - started
    indexed, scanned, found = [], [], 0
    for query in queries:
        began = time.perf_counter()
        answer = sorted(pair for value in query for pair in index.within(int(value), distance))
        indexed.append(time.perf_counter() - began)
        began = time.perf_counter()
        expected = sorted(pair for value in query
                          for pair in scan_within(keys, hashes, int(value), distance))
        scanned.append(time.perf_counter() - began)
        assert answer == expected, (answer, expected)
        found += len(answer)
    print(f"\nHash lookup: {args.hashes:,} images' random hashes ({count:,}: upright and "
          f"trimmed) with near ones planted; one new image (its 5 hashes) within {distance} bits: multi-index p50 "
          f"{np.median(indexed) * 1000:.2f} ms, a scan of all p50 {np.median(scanned) * 1000:.2f}"
          f" ms ({np.median(scanned) / np.median(indexed):.1f}x); the same {found} neighbours "
          f"for {len(queries)} images; index built in {built:.2f} s")


def match_one_size_at_a_time(first, second) -> float:
    """The baseline: duplicates.pixels.match_score as it was, one FFT of the larger picture,
    and its running sums, for each size of the other."""
    from duplicates.pixels import MATCH_SCALES, _highest_correlation

    best = -1.0
    for outer, inner in ((first, second), (second, first)):
        area = np.asarray(outer, dtype=np.float32)
        rows, cols = area.shape
        fit = min(outer.width / inner.width, outer.height / inner.height)
        for scale in MATCH_SCALES:
            width, height = int(inner.width * fit * scale), int(inner.height * fit * scale)
            if width < 8 or height < 8:
                continue
            template = np.asarray(inner.resize((width, height), PILImage.Resampling.BILINEAR),
                                  dtype=np.float32)
            centred = template - template.mean()
            norm = float(np.sqrt((centred * centred).sum()))
            if norm < 1e-3:
                best = max(best, 0.0)
                continue
            products = np.fft.irfft2(np.fft.rfft2(area, (rows, cols))
                                     * np.conj(np.fft.rfft2(centred, (rows, cols))), (rows, cols))
            sums = np.pad(area.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
            squares = np.pad((area.astype(np.float64) ** 2).cumsum(0).cumsum(1),
                             ((1, 0), (1, 0)))
            best = max(best, _highest_correlation(products[:rows - height + 1, :cols - width + 1],
                                               sums, squares, height, width, norm))
    return best


def thumbnail_match(args) -> None:
    """The worker's thumbnail match, ms a pair, against the match one size at a time."""
    from duplicates.pixels import PictureMatcher, grey_picture, match_score
    from gallery.thumbnails import make_thumbnail

    photos = chosen_photos(args.match_photos, args.seed)
    pictures, pairs = [], []
    for index, (filename, _) in enumerate(photos):
        data = (DEVSET / "images" / filename).read_bytes()
        with PILImage.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGB")
        rng = random.Random(f"{args.seed}-{filename}-match")
        for made in (data, jpeg(screenshot(picture, rng)), jpeg(cropped(picture, rng))):
            pictures.append(grey_picture(make_thumbnail(made)))
        mine = 3 * index
        pairs += [(mine, mine + 1), (mine, mine + 2)]
    # Each photo against the next five (mostly of its kind, as chosen_photos orders them):
    # in a pass, as in a library, a photo is often near several others.
    pairs += [(3 * index, 3 * other) for index in range(len(photos))
              for other in range(index + 1, min(len(photos), index + 6))]
    pairs.sort()  # as a pass matches them
    timed = []
    for match in (match_one_size_at_a_time, match_score, PictureMatcher(dict(enumerate(pictures)))):
        started = time.perf_counter()
        if isinstance(match, PictureMatcher):
            scores = [match.score(a, b) for a, b in pairs]
        else:
            scores = [match(pictures[a], pictures[b]) for a, b in pairs]
        timed.append(((time.perf_counter() - started) / len(pairs), np.array(scores)))
    (before, old), (alone, scores_alone), (together, scores_together) = timed
    differ = max(np.abs(old - scores_alone).max(), np.abs(old - scores_together).max())
    print(f"\nThumbnail match: {len(pairs)} pairs of dev-set thumbnails ({len(photos)} photos "
          f"against their screenshot, their crop and the next five photos): one size at a time "
          f"{before * 1000:.2f} ms a pair; every size at once, a pair alone "
          f"{alone * 1000:.2f} ms ({before / alone:.2f}x), the pairs together "
          f"{together * 1000:.2f} ms ({before / together:.2f}x); the scores differ by at most "
          f"{differ:.1e}")


# --- listing time at 100k --------------------------------------------------------

def listing(args, folder: Path) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from accounts.services import user_create
    from duplicates.models import DuplicatePair, DuplicateScan
    from features.models import FeatureVector, ServingExtractor
    from features.serving import serving_fingerprint
    from gallery.models import Image

    call_command("migrate", verbosity=0)
    extractor = serving_fingerprint()
    ServingExtractor.objects.filter(pk=1).update(fingerprint=extractor)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    batch = 5000
    with transaction.atomic():
        for start in range(0, args.library, batch):
            Image.objects.bulk_create([
                Image(filename=f"{n:07d}.jpg", file=f"images/{n:07d}.jpg",
                      thumbnail=f"thumbnails/{n:07d}.jpg", name=f"photo {n}.jpg",
                      sha256=f"{n:064x}", width=int(rng.integers(300, 4000)),
                      height=int(rng.integers(300, 3000)), format="JPEG",
                      size_bytes=int(rng.integers(10_000, 5_000_000)))
                for n in range(start, min(args.library, start + batch))])
        image_ids = list(Image.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(image_ids), batch):
            FeatureVector.objects.bulk_create([
                FeatureVector(image_id=image, extractor=extractor, dim=8,
                              vector=rng.standard_normal(8).astype(np.float32))
                for image in image_ids[start:start + batch]])
        vector_of = dict(FeatureVector.objects.values_list("image_id", "id"))
        DuplicateScan.objects.bulk_create([DuplicateScan(vector_id=v) for v in
                                           vector_of.values()], batch_size=batch)
        # Groups of 2 to 5 images among random ones; each group's images paired as the
        # worker pairs them: every two at or above the floor (some chains below it).
        members = rng.permutation(image_ids)
        pairs, used = [], 0
        for _ in range(args.groups):
            size = int(rng.integers(2, 6))
            group = sorted(int(i) for i in members[used:used + size])
            used += size
            for a_index, a in enumerate(group):
                for b in group[a_index + 1:]:
                    similarity = float(rng.uniform(0.80, 1.0))
                    va, vb = sorted((vector_of[a], vector_of[b]))
                    ia, ib = (a, b) if vector_of[a] < vector_of[b] else (b, a)
                    pairs.append(DuplicatePair(first_id=va, second_id=vb, first_image_id=ia,
                                               second_image_id=ib, extractor=extractor,
                                               similarity=similarity, score=similarity))
        DuplicatePair.objects.bulk_create(pairs, batch_size=batch)
    print(f"\nListing: a scratch SQLite library of {len(image_ids):,} images, {len(pairs):,} "
          f"stored pairs from {args.groups:,} groups (made in {time.perf_counter() - started:.0f}"
          f" s)")
    client = Client()
    client.force_login(user_create(username="bench", role="viewer", password=None))

    client.get("/api/v1/images/", {"page_size": 1})  # Django's own first-request costs

    def get(page: int, threshold: float):
        began = time.perf_counter()
        response = client.get("/api/v1/duplicates/", {"page": page, "threshold": threshold})
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.content[:300]
        return elapsed, response.json()

    for threshold in (0.90, 0.85):
        first, body = get(1, threshold)
        pages = -(-body["count"] // len(body["results"]))
        later_page = max(1, pages // 2)
        repeats = [get(1, threshold)[0] for _ in range(args.repeat)]
        later = [get(later_page, threshold)[0] for _ in range(args.repeat)]
        print(f"threshold {threshold}: {body['count']:,} groups, {pages} pages of "
              f"{len(body['results'])}; the first request (groups formed) "
              f"{first * 1000:.0f} ms; then page 1 p50 {np.median(repeats) * 1000:.1f} ms, "
              f"page {later_page} p50 {np.median(later) * 1000:.1f} ms")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300,
                        help="dev-set photos (default 300: all of them)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--library", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--hashes", type=int, default=1_000_000,
                        help="images whose hashes the lookup is timed among")
    parser.add_argument("--match-photos", type=int, default=60,
                        help="dev-set photos whose thumbnails the match is timed on")
    parser.add_argument("--no-model", action="store_true", help="the timings only")
    parser.add_argument("--no-listing", action="store_true", help="the calibration only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="imagesim-bench-duplicates-"))
    try:
        setup_django(folder / "library.sqlite3", folder / "media")
        if not args.no_model:
            calibrate(args)
        thumbnail_match(args)
        hash_lookup(args)
        if not args.no_listing:
            listing(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
