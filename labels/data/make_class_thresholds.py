"""Regenerates labels/data/class_thresholds.json: how sure the ImageNet classifier must be of
each garment class for the label filter to match it, calibrated on the dev set.

    source bin/shared-weights
    .venv/bin/python labels/data/make_class_thresholds.py [--cache /tmp/maps.npz]

The dev set (../shared/data/devset: 10 garment kinds x 30 photos) is labelled as the worker
labels a library (the default preset's stored vectors, the classifier layer, the top 5).
QUERY_KINDS says which kind of photo each everyday word should find; a class is right on
a photo when a word of the photo's kind names it (labels/wordnet.py). For each class those
words name, seen at MIN_SCORE or more on at least MIN_PHOTOS photos, the threshold is the
score up to MAX_THRESHOLD that makes the best F0.5 (precision weighed twice as much as
recall: a search that shows shorts for "jeans" is worse than one that misses a pair) over
the photos whose stored labels hold it. Every other class keeps MIN_SCORE. bench/labels.py
measures the result on the dev set, in two halves (each calibrated on the other), and on the
originals.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUTPUT = HERE / "class_thresholds.json"
PRESET = "resnet50-gem"  # the default; the other preset's scores are alike (bench/labels.py)
MIN_PHOTOS = 5
BETA = 0.5
# No class needs more: a label with over half the probability is its photo's best, and the
# viewer's label buttons must find the photo they are shown on.
MAX_THRESHOLD = 0.5
# Everyday query words -> the dev-set kind of photo each should find.
QUERY_KINDS = {
    "shoe": "shoes", "footwear": "shoes", "sneaker": "shoes", "boot": "shoes",
    "dress": "dress", "gown": "dress",
    "hat": "hat", "cap": "hat", "headdress": "hat",
    "pants": "pants", "trousers": "pants", "jeans": "pants",
    "skirt": "skirt", "shorts": "shorts",
    "t-shirt": "t-shirt", "shirt": "shirt", "polo": "shirt",
    "longsleeve": "longsleeve", "sweater": "longsleeve", "sweatshirt": "longsleeve",
    "outerwear": "outwear", "jacket": "outwear", "coat": "outwear",
}


def right_kinds(wnids: list[str]) -> dict[int, set[str]]:
    """Class number -> the kinds of photo on which it is right (a word of theirs names it)."""
    from labels.wordnet import label_query

    number = {wnid: index for index, wnid in enumerate(wnids)}
    right: dict[int, set[str]] = {}
    for word, kind in QUERY_KINDS.items():
        for wnid in label_query(word).wnids:
            right.setdefault(number[wnid], set()).add(kind)
    return right


def thresholds_calibrate(stored: np.ndarray, kinds: list[str], right: dict[int, set[str]],
                         *, floor: float) -> dict[int, float]:
    """Class number -> threshold, from ``stored`` (n, classes): each photo's stored label
    scores, 0 for classes outside its top labels."""
    kinds = np.asarray(kinds)
    found = {}
    for number, right_for in sorted(right.items()):
        scores = stored[:, number]
        right_photo = np.isin(kinds, sorted(right_for))
        if np.sum(scores >= floor) < MIN_PHOTOS:
            continue
        candidates = np.unique(scores[(scores >= floor) & (scores <= MAX_THRESHOLD)])
        best, chosen = -1.0, floor
        for threshold in candidates:
            kept = scores >= threshold
            hits = np.sum(kept & right_photo)
            precision, recall = hits / kept.sum(), hits / max(1, right_photo.sum())
            score = (1 + BETA ** 2) * precision * recall / max(1e-9, BETA ** 2 * precision + recall)
            if score > best + 1e-9:
                best, chosen = score, float(threshold)
        found[number] = chosen
    return found


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.labels import dev_set, load_head, preset_scores
    from labels.thresholds import MIN_SCORE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="an .npz to keep (and reuse) the feature maps")
    args = parser.parse_args()
    head = load_head()
    paths, kinds = dev_set()
    stored = preset_scores(head, PRESET, paths, cache=args.cache)
    found = thresholds_calibrate(stored, kinds, right_kinds(head.wnids), floor=MIN_SCORE)
    # Rounded down: the photo whose score a threshold is still reaches it.
    rounded = {head.wnids[number]: math.floor(value * 10_000) / 10_000
               for number, value in found.items()}
    data = {"source": f"labels/data/make_class_thresholds.py: the dev set, {PRESET}, "
                      f"F{BETA:g} per class", "default": MIN_SCORE,
            "thresholds": dict(sorted(rounded.items()))}
    OUTPUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for number, value in sorted(found.items(), key=lambda item: -item[1]):
        print(f"  {head.names[number]:<20} {value:.3f}")
    print(f"wrote {OUTPUT} ({len(found)} classes)")


if __name__ == "__main__":
    main()
