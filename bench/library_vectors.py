"""Real-looking libraries of ResNet50 vectors for the index benchmarks (bench/million.py).

    source bin/shared-weights
    .venv/bin/python bench/library_vectors.py       # extract the dev-set vectors once (cached)

1. Real vectors: every dev-set photo (``../shared/data/devset``) and copies of it (crops,
   a mirror image, colour shifts, a grey version, a small rotation) go through the real
   ResNet50 (the configured preset, FEATURE_WEIGHTS), once; the result is kept in
   ``var/bench/devset_vectors.npz``.
2. A library of any size is made from them (``library_make``): cluster centres are
   blends of two real vectors moved along the real vectors' own principal directions
   (structured noise: the spread photos have, not uniform noise), and each cluster's
   members are its centre moved a little more the same way, then made non-negative (as
   ReLU features are) and unit length. Cluster sizes are uneven, as in a photo library
   (a few large events, many small ones). The real vectors themselves are hidden among
   the made-up ones, at known rows.

Vectors are written into a float32 file (``np.memmap``) so a million of them (8 GB) is
made a block at a time.
"""

import io
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEVSET = ROOT.parent / "shared" / "data" / "devset"
CACHE = ROOT / "var" / "bench"
REAL = CACHE / "devset_vectors.npz"
DIM = 2048
# Principal directions the structured noise moves along.
COMPONENTS = 256


def _jpeg(picture: PILImage.Image) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=92)
    return out.getvalue()


def _crop(picture, rng, most: float):
    w, h = picture.size
    left, right = (round(w * rng.uniform(0.02, most)) for _ in range(2))
    top, bottom = (round(h * rng.uniform(0.02, most)) for _ in range(2))
    return picture.crop((left, top, w - right, h - bottom))


def _colour(picture, rng):
    shifted = ImageEnhance.Color(picture).enhance(rng.uniform(0.5, 1.5))
    shifted = ImageEnhance.Brightness(shifted).enhance(rng.uniform(0.75, 1.3))
    r, g, b = shifted.split()
    gains = [rng.uniform(0.85, 1.15) for _ in range(3)]
    return PILImage.merge("RGB", [band.point(lambda v, gain=gain: min(255, round(v * gain)))
                                  for band, gain in zip((r, g, b), gains)])


COPIES = {
    "crop-small": lambda p, rng: _crop(p, rng, 0.1),
    "crop-large": lambda p, rng: _crop(p, rng, 0.25),
    "mirror": lambda p, rng: ImageOps.mirror(p),
    "mirror-crop": lambda p, rng: _crop(ImageOps.mirror(p), rng, 0.15),
    "colour-1": _colour,
    "colour-2": _colour,
    "grey": lambda p, rng: ImageOps.grayscale(p).convert("RGB"),
    "rotate": lambda p, rng: p.rotate(rng.uniform(-8, 8), resample=PILImage.Resampling.BILINEAR),
}


def real_vectors_extract() -> None:
    """Extract the dev-set photos and their copies with the real model; write REAL."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesim.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    django.setup()
    from django.conf import settings

    from features.extractors.loader import get_extractor

    names = sorted(path.name for path in (DEVSET / "images").iterdir())
    files, photo, copy = [], [], []
    for index, name in enumerate(names):
        data = (DEVSET / "images" / name).read_bytes()
        files.append(data)
        photo.append(index)
        copy.append("")
        with PILImage.open(io.BytesIO(data)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
        for label, make in COPIES.items():
            files.append(_jpeg(make(picture, random.Random(f"{name}-{label}"))))
            photo.append(index)
            copy.append(label)
    extractor = get_extractor()
    extractor.load()
    started = time.perf_counter()
    batch = settings.FEATURE_BATCH_SIZE
    vectors = np.concatenate([extractor.extract(files[start:start + batch])
                              for start in range(0, len(files), batch)]).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(REAL, vectors=vectors, photo=np.array(photo), copy=np.array(copy),
             names=np.array(names), fingerprint=extractor.fingerprint)
    print(f"{len(files)} images ({len(names)} photos and their copies) extracted in "
          f"{time.perf_counter() - started:.0f} s with {extractor.fingerprint}; wrote {REAL}")


def real_vectors() -> dict:
    if not REAL.exists():
        raise SystemExit(f"{REAL} is missing: run `source bin/shared-weights; "
                         f".venv/bin/python bench/library_vectors.py` first")
    with np.load(REAL) as data:
        return {key: data[key] for key in data.files}


def _normalised(rows: np.ndarray) -> np.ndarray:
    np.maximum(rows, 0, out=rows)  # ReLU features are never negative
    rows /= np.linalg.norm(rows, axis=1, keepdims=True) + 1e-12
    return rows


# How far cluster centres and their members move along the principal directions, in units
# of the real vectors' own spread: dense clusters (every made-up vector near hundreds of
# others at a million), or ``sparse`` ones (about one near another at 100,000, nearer a
# photo library's own density; the dev-set photos are 0.28 a photo).
MOVES = {"dense": (0.8, (0.2, 0.6)), "sparse": (2.5, (2.0, 3.0))}


def library_make(n: int, path: Path, *, seed: int = 11, block: int = 20_000,
                 density: str = "dense") -> dict:
    """Write ``n`` real-looking unit vectors to ``path`` (float32, n x 2048); return where the
    real ones are: ``real_rows`` (row of each real vector) and the real vectors' metadata.
    ``density``: a key of MOVES."""
    real = real_vectors()
    vectors = real["vectors"].astype(np.float32)
    rng = np.random.default_rng(seed)
    mean = vectors.mean(axis=0)
    # The real vectors' principal directions and spreads: noise moves vectors the ways photos differ.
    centred = vectors - mean
    variances, directions = np.linalg.eigh(centred.T @ centred / len(vectors))
    spread = np.sqrt(np.maximum(variances[::-1][:COMPONENTS], 0)).astype(np.float32)
    basis = directions[:, ::-1][:, :COMPONENTS].T.astype(np.float32)

    # Uneven cluster sizes: geometric, mean about 12 (a few large events, many small ones).
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(rng.geometric(1 / 12)))
    clusters = len(sizes)
    first = rng.integers(0, len(vectors), clusters)
    second = rng.integers(0, len(vectors), clusters)
    share = rng.uniform(0.0, 0.5, clusters).astype(np.float32)[:, None]
    centre_move, (member_least, member_most) = MOVES[density]
    moves = rng.standard_normal((clusters, COMPONENTS), dtype=np.float32) * spread * centre_move

    def centres(index: np.ndarray) -> np.ndarray:
        rows = (1 - share[index]) * vectors[first[index]] + share[index] * vectors[second[index]]
        return rows + moves[index] @ basis

    owner = np.repeat(np.arange(clusters), sizes)[:n]
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, DIM))
    for start in range(0, n, block):
        end = min(n, start + block)
        rows = centres(owner[start:end])
        # Members: their centre moved a little more along the same directions.
        tightness = rng.uniform(member_least, member_most, (end - start, 1)).astype(np.float32)
        rows += (rng.standard_normal((end - start, COMPONENTS), dtype=np.float32)
                 * spread * tightness) @ basis
        out[start:end] = _normalised(rows)
    # The real vectors, hidden among the others at random rows.
    real_rows = np.sort(rng.choice(n, size=min(n, len(vectors)), replace=False))
    out[real_rows] = vectors[: len(real_rows)]
    out.flush()
    del out
    return {"real_rows": real_rows, "photo": real["photo"][: len(real_rows)],
            "copy": real["copy"][: len(real_rows)]}


if __name__ == "__main__":
    real_vectors_extract()
