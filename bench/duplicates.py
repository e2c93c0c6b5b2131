"""Duplicates benchmark: how well the plain ResNet50 vectors tell near-duplicates from other
photos of the same kind, the threshold that follows, and the listing time at 100k images.

    source bin/shared-weights
    .venv/bin/python bench/duplicates.py                 # both parts (about 4 minutes on 2 cores)
    .venv/bin/python bench/duplicates.py --n 100         # fewer photos
    .venv/bin/python bench/duplicates.py --no-model      # the listing timing only

1. Calibration. ``--n`` dev-set photos (``../shared/data/devset``, the same number of each
   garment kind) and, of each, one transformed copy per transformation: resized, JPEG
   recompressed, cropped a little, brightened, watermarked with text, a screenshot (scaled
   into a larger canvas with a frame and a UI bar) and a small rotation. Every image is
   extracted with the real ResNet50 (the configured preset; FEATURE_WEIGHTS) through the
   project's extractor, and every pair of images is scored (cosine of the plain vectors).
   A pair is a true duplicate when both come from one photo; the other pairs, among them
   those of two photos of one garment kind (the hard non-duplicates), are not. Pair
   precision and recall are printed per transformation (the photos and their copies of
   that transformation) and over the mix (all images): first with the vectors alone, then
   with the scores the worker stores (pairs at or above DUPLICATE_FLOOR; those below
   MATCH_BELOW get their thumbnails matched, and a match of at least DUPLICATE_MATCH
   raises the score to it), at thresholds 0.80..0.99 in steps of 0.01, and the chosen
   threshold: the lowest step whose precision over the mix is at
   least 0.98 (precision first: a pair wrongly taken for a duplicate may cost a photo),
   with whether its recall reaches 0.90. The whole dev set by default: the more photos,
   the more look-alikes each photo has, as in a real library.
2. Listing time: a scratch SQLite library of 100k images (rows with small synthetic
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
from PIL import ImageDraw, ImageEnhance, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEVSET = ROOT.parent / "shared" / "data" / "devset"
THRESHOLDS = [round(0.60 + 0.01 * step, 2) for step in range(40)]
SHIPPED_THRESHOLDS = [t for t in THRESHOLDS if t >= 0.80]
TARGET_PRECISION, TARGET_RECALL = 0.98, 0.90


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


TRANSFORMS = {"resize": resized, "jpeg": recompressed, "crop": cropped, "brighten": brightened,
              "watermark": watermarked, "screenshot": screenshot, "rotate": rotated}


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
            # Each copy saved as a JPEG of good quality, as a copy found on disk would be.
            files.append(jpeg(transform(picture, rng), quality=92))
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


def precision_recall(scores: np.ndarray, same: np.ndarray, threshold: float):
    found = scores >= threshold
    hits = int((found & same).sum())
    precision = hits / found.sum() if found.sum() else 1.0
    recall = hits / same.sum() if same.sum() else 1.0
    return precision, recall, int((found & ~same).sum())


def shipped_scores(similarities: np.ndarray, files: list[bytes], upper: np.ndarray):
    """Each pair's score as the worker stores it: pairs at or above the floor and below
    MATCH_BELOW get their thumbnails matched, and a match of at least DUPLICATE_MATCH
    raises the score to it. Pairs below the floor are never stored (score 0)."""
    from django.conf import settings

    from duplicates.finding import MATCH_BELOW, pair_score
    from duplicates.pixels import grey_picture, match_score
    from gallery.thumbnails import make_thumbnail

    floor, least = float(settings.DUPLICATE_FLOOR), float(settings.DUPLICATE_MATCH)
    scores = np.where(similarities >= floor, similarities, 0.0)
    doubt = np.argwhere(upper & (similarities >= floor) & (similarities < MATCH_BELOW))
    started = time.perf_counter()
    pictures = {}
    for i, j in doubt:
        for n in (i, j):
            if n not in pictures:
                pictures[n] = grey_picture(make_thumbnail(files[n]))
        score = pair_score(float(similarities[i, j]),
                           match_score(pictures[i], pictures[j]), least)
        scores[i, j] = scores[j, i] = score
    print(f"pairs stored (at or above the floor {floor}): {int((upper & (scores > 0)).sum())}; "
          f"thumbnails matched for {len(doubt)} of them (below {MATCH_BELOW}) in "
          f"{time.perf_counter() - started:.0f} s, {len(pictures)} thumbnails")
    return scores


def vectors_alone(scores, same, upper) -> None:
    print("\nThe vectors alone (plain cosine similarity), over the mix: precision / recall")
    for threshold in THRESHOLDS[::2]:
        precision, recall, _ = precision_recall(scores[upper], same[upper], threshold)
        print(f"{threshold:9.2f}   {precision:5.3f} / {recall:5.3f}")


def calibrate(args) -> float | None:
    photos = chosen_photos(args.n, args.seed)
    files, meta = build_set(photos, args.seed)
    print(f"Calibration: {len(photos)} dev-set photos ({len(photos) // 10} of each of 10 "
          f"garment kinds), {len(TRANSFORMS)} transformed copies of each: {len(files)} images")
    vectors, fingerprint, seconds = extract(files)
    print(f"extracted with {fingerprint} in {seconds:.1f} s")
    source = np.array([index for index, _ in meta])
    kind = np.array([name for _, name in meta])
    label = np.array([photos[index][1] for index in source])
    scores = vectors @ vectors.T
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    same = source[:, None] == source[None, :]
    same_label = label[:, None] == label[None, :]

    hard = upper & ~same & same_label
    print(f"similarity of two photos of one garment kind (hard non-duplicates, "
          f"{int(hard.sum())} pairs): max {scores[hard].max():.3f}, 99.9th percentile "
          f"{np.percentile(scores[hard], 99.9):.3f}, share at or above 0.70 / 0.75 / 0.80: "
          + " / ".join(f"{(scores[hard] >= t).mean():.4f}" for t in (0.70, 0.75, 0.80)))
    print("similarity of each photo to its copy: " + ", ".join(
        f"{name} min {scores[(kind == '')[:, None] & (kind == name)[None, :] & same].min():.3f}"
        for name in TRANSFORMS))

    vectors_alone(scores, same, upper)
    scores = shipped_scores(scores, files, upper)
    populations = {}
    for name in TRANSFORMS:
        keep = (kind == "") | (kind == name)
        cell = upper & keep[:, None] & keep[None, :]
        populations[name] = cell
    populations["mix"] = upper
    header = "threshold " + " ".join(f"{name:>15}" for name in populations)
    print("\nPair precision / recall with the shipped scores (a pair counts as found when its "
          "score is at or above the threshold; per transformation: the photos and their "
          "copies of it; mix: every image):")
    print(header)
    results = {}
    for threshold in SHIPPED_THRESHOLDS:
        line = f"{threshold:9.2f}"
        for name, cell in populations.items():
            precision, recall, false = precision_recall(scores[cell], same[cell], threshold)
            results[threshold, name] = (precision, recall, false)
            line += f"   {precision:5.3f} / {recall:5.3f}"
        print(line)
    # Precision first: a pair wrongly taken for a duplicate may cost a photo.
    chosen = next((t for t in SHIPPED_THRESHOLDS if results[t, "mix"][0] >= TARGET_PRECISION),
                  None)
    if chosen is None:
        print(f"\nNo threshold reaches precision {TARGET_PRECISION} over the mix.")
        return None
    precision, recall, false = results[chosen, "mix"]
    verdict = "meets" if recall >= TARGET_RECALL else "misses"
    print(f"\nChosen threshold: {chosen:.2f}, the lowest step of 0.01 with precision >= "
          f"{TARGET_PRECISION} over the mix: precision {precision:.3f}, recall {recall:.3f} "
          f"({false} false pairs); it {verdict} the target recall >= {TARGET_RECALL}")
    for name in TRANSFORMS:
        p, r, _ = results[chosen, name]
        print(f"  {name:>10}: precision {p:.3f}, recall {r:.3f}")
    return chosen


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
    parser.add_argument("--no-model", action="store_true", help="the listing timing only")
    parser.add_argument("--no-listing", action="store_true", help="the calibration only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="imagesim-bench-duplicates-"))
    try:
        setup_django(folder / "library.sqlite3", folder / "media")
        if not args.no_model:
            calibrate(args)
        if not args.no_listing:
            listing(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
