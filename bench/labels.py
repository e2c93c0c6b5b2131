"""ImageNet labels on stored vectors: which scale, and how well the label filter finds garments.

    source bin/shared-weights
    .venv/bin/python bench/labels.py                 # the 300 dev-set photos and the 50 originals
    .venv/bin/python bench/labels.py --cache /tmp/maps.npz   # keep the feature maps for reruns

The classifier layer (LABEL_HEAD_WEIGHTS, default ../shared/models) was trained on the
un-normalised average of ResNet50's last feature map; ImageSim stores unit-length vectors,
GeM-pooled for the default preset. For each preset's framing this runs the network once
(float32) over the dev set (../shared/data/devset, 10 garment kinds x 30), keeps the last
feature maps, and labels every photo five ways:

- ``reference``: the head on the un-normalised average-pooled vector (Keras' own classifier);
- the head on the preset's stored unit vector multiplied by 1, by the scale ImageSim uses
  (labels/head.py FEATURE_SCALE) and by other lengths.

For each it prints the share of photos whose top 5 holds a class of their kind's family
(shoes: footwear; hat: headdress; the other garments: clothing, by WordNet, from
labels/data/imagenet_wordnet.json), the share of shoes photos with footwear in the top 5,
and how far the labels agree with the reference (same top 1; mean shared top-5 classes).

Then, with the scale ImageSim uses, the label filter's precision and recall for everyday
words (labels/data/make_class_thresholds.py QUERY_KINDS: the kind of photo each should
find) over the stored top 5: with one threshold for every class (MIN_SCORE), with the
committed class thresholds (calibrated on this very dev set for the default preset, so
in-sample there), with thresholds calibrated on one half of the dev set and measured on the
other (both ways, pooled), and on the 50 originals (5 a kind, never calibrated on).
"""

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from core.vectors import normalise  # noqa: E402
from features.extractors.imaging import centre_crop_sampled, squash_nearest  # noqa: E402
from features.extractors.presets import RESNET50_PRESETS  # noqa: E402
from labels.data.make_class_thresholds import (  # noqa: E402
    PRESET as CALIBRATED_PRESET, QUERY_KINDS, right_kinds, thresholds_calibrate)
from labels.head import FEATURE_SCALE, class_probabilities, head_load, top_classes  # noqa: E402
from labels.thresholds import MIN_SCORE, class_threshold  # noqa: E402
from labels.wordnet import label_query  # noqa: E402

BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)
# WordNet's "footgear" is footwear's first sense alone (shoes, boots, clogs, sandals); its
# second sense also holds hosiery (socks, stockings). Every other kind: clothing.
FAMILY = {"shoes": "footgear", "hat": "headdress"}
TOP_K = 5  # LABEL_TOP_K's default: the labels stored per image
# The words whose target is >= 0.8 precision at >= 0.6 recall.
TARGET_WORDS = ("shoe", "dress", "hat", "pants")


def feature_maps(paths: list[Path], framing: str, weights: str) -> np.ndarray:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    model = keras.applications.ResNet50(weights=weights, include_top=False,
                                        input_shape=(224, 224, 3))
    frame = squash_nearest if framing == "squash" else centre_crop_sampled
    maps = []
    for start in range(0, len(paths), 16):
        batch = np.stack([np.asarray(frame(path.read_bytes(), size=224), np.float32)[..., ::-1]
                          - BGR_MEANS for path in paths[start:start + 16]])
        maps.append(model.predict(batch, verbose=0))
    return np.concatenate(maps)


def load_head():
    return head_load(Path(os.environ.get("LABEL_HEAD_WEIGHTS")
                          or SHARED / "models" / "resnet50_imagenet_head.npz"),
                     Path(os.environ.get("LABEL_CLASS_INDEX")
                          or SHARED / "models" / "imagenet_class_index.json"))


def _read_set(folder: Path, labels: Path) -> tuple[list[Path], list[str]]:
    with open(labels, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [folder / row["filename"] for row in rows], [row["label"] for row in rows]


def dev_set(devset: Path = SHARED / "data" / "devset") -> tuple[list[Path], list[str]]:
    return _read_set(devset / "images", devset / "labels.csv")


def originals_set() -> tuple[list[Path], list[str]]:
    return _read_set(SHARED / "data" / "originals", SHARED / "data" / "originals_labels.csv")


class Maps:
    """Feature maps by (photo set, framing), computed once (and kept in ``cache``)."""

    def __init__(self, cache: Path | None):
        self.cache = cache
        self.maps = dict(np.load(cache)) if cache and cache.is_file() else {}
        self.changed = False
        self.weights = os.environ.get("FEATURE_WEIGHTS") or str(
            SHARED / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")

    def get(self, name: str, paths: list[Path], framing: str) -> np.ndarray:
        key = f"{name}:{framing}"
        if key not in self.maps:
            self.maps[key] = feature_maps(paths, framing, self.weights)
            self.changed = True
        return self.maps[key].astype(np.float32)

    def save(self) -> None:
        if self.cache and self.changed:
            np.savez(self.cache, **self.maps)


def stored_vectors(maps: np.ndarray, preset) -> np.ndarray:
    """The unit vectors ImageSim stores for these feature maps."""
    if preset.pooling == "gem":
        p = preset.gem_p
        return normalise(np.mean(np.maximum(maps, 1e-6) ** p, axis=(1, 2)) ** (1 / p))
    return normalise(maps.mean(axis=(1, 2)))


def stored_scores(probabilities: np.ndarray) -> np.ndarray:
    """(n, classes): each photo's stored labels' probabilities (its top 5), 0 elsewhere."""
    classes, scores = top_classes(probabilities, TOP_K)
    stored = np.zeros_like(probabilities)
    np.put_along_axis(stored, classes, scores, axis=1)
    return stored


def preset_scores(head, preset_name: str, paths: list[Path], *, cache: Path | None = None,
                  name: str = "devset") -> np.ndarray:
    """Stored label scores of ``paths`` as the worker makes them for ``preset_name``."""
    preset, maps = RESNET50_PRESETS[preset_name], Maps(cache)
    vectors = stored_vectors(maps.get(name, paths, preset.framing), preset)
    maps.save()
    return stored_scores(class_probabilities(head, vectors, scale=FEATURE_SCALE[preset_name]))


def families(wordnet: Path) -> dict[str, set[int]]:
    data = json.loads(wordnet.read_text())
    index = json.loads((SHARED / "models" / "imagenet_class_index.json").read_text())
    number_of = {entry[0]: int(number) for number, entry in index.items()}
    found = {}
    for family in ("footgear", "headdress", "clothing"):
        synsets = {synset for synset, lemmas in data["broader"].items() if family in lemmas}
        found[family] = {number_of[wnid] for wnid, entry in data["classes"].items()
                         if synsets & set(entry["broader"])}
    return found


def report(name: str, probabilities: np.ndarray, reference: np.ndarray, kinds: list[str],
           family_classes: dict[str, set[int]]) -> np.ndarray:
    top5, scores = top_classes(probabilities, 5)
    sensible = [bool(set(row) & family_classes[FAMILY.get(kind, "clothing")])
                for row, kind in zip(top5.tolist(), kinds)]
    shoes = [ok for ok, kind in zip(sensible, kinds) if kind == "shoes"]
    same_top1 = np.mean(top5[:, 0] == reference[:, 0])
    overlap = np.mean([len(set(a) & set(b)) for a, b in zip(top5.tolist(), reference.tolist())])
    print(f"  {name:<28} sensible {np.mean(sensible):6.1%}   shoes->footgear "
          f"{np.mean(shoes):6.1%}   top-1 as reference {same_top1:6.1%}   "
          f"top-5 shared {overlap:.2f}/5   top-1 probability {np.mean(scores[:, 0]):.2f}")
    return top5


def query_counts(stored: np.ndarray, kinds: list[str], word: str, numbers: list[int],
                 thresholds) -> tuple[int, int, int]:
    """(found, of them right, photos of the word's kind) for ``?label=word``."""
    found = np.zeros(len(kinds), dtype=bool)
    for number in numbers:
        found |= stored[:, number] >= thresholds(number)
    right = np.asarray(kinds) == QUERY_KINDS[word]
    return int(found.sum()), int(np.sum(found & right)), int(right.sum())


def _figures(counts: list[tuple[int, int, int]]) -> tuple[str, float, float]:
    found, hits, relevant = (sum(values) for values in zip(*counts))
    precision, recall = hits / max(1, found), hits / max(1, relevant)
    return f"{found:3d} {precision:4.2f} {recall:4.2f}", precision, recall


def filter_report(head, dev: np.ndarray, kinds: list[str], originals: np.ndarray,
                  original_kinds: list[str]) -> None:
    """Precision and recall of ?label= for everyday words (see the module's docstring)."""
    committed = {number: class_threshold(wnid) for number, wnid in enumerate(head.wnids)}
    right = right_kinds(head.wnids)
    halves = [np.arange(len(kinds))[start::2] for start in (0, 1)]
    crossed = [(other, thresholds_calibrate(dev[fit], [kinds[i] for i in fit], right,
                                            floor=MIN_SCORE))
               for fit, other in (halves, halves[::-1])]
    print(f"  {'?label=':<13} {'kind':<10} {'classes':>7}   found/precision/recall: "
          f"{'at 5%':<14} {'class thr.':<14} {'2 halves':<14} {'originals':<14}")
    verdicts = []
    for word, kind in QUERY_KINDS.items():
        numbers = [head.wnids.index(wnid) for wnid in sorted(label_query(word).wnids)]
        if not numbers:
            print(f"  {word:<13} {kind:<10} {0:>7}   names no ImageNet class")
            verdicts.append((word, 0.0, 0.0, numbers))
            continue
        flat = _figures([query_counts(dev, kinds, word, numbers, lambda n: MIN_SCORE)])
        calibrated = _figures([query_counts(dev, kinds, word, numbers, committed.get)])
        held_out = _figures([
            query_counts(dev[rows], [kinds[i] for i in rows], word, numbers,
                         lambda n, found=found: found.get(n, MIN_SCORE))
            for rows, found in crossed])
        originals_figures = _figures([query_counts(originals, original_kinds, word, numbers,
                                                   committed.get)])
        print(f"  {word:<13} {kind:<10} {len(numbers):>7}   {' ' * 23}{flat[0]:<14} "
              f"{calibrated[0]:<14} {held_out[0]:<14} {originals_figures[0]:<14}")
        verdicts.append((word, held_out[1], held_out[2], numbers))
    for word, precision, recall, numbers in verdicts:
        if word in TARGET_WORDS:
            met = "meets" if precision >= 0.8 and recall >= 0.6 else "misses"
            print(f"  target >= 0.80 precision at >= 0.60 recall (2 halves): {word:<6} {met} "
                  f"({precision:.2f}, {recall:.2f}); {best_possible(dev, kinds, word, numbers)}")


def best_possible(stored: np.ndarray, kinds: list[str], word: str, numbers: list[int]) -> str:
    """What any one threshold for all of the word's classes could do on the dev set: the
    most recall (a label anywhere in the top 5) and the best precision at recall >= 0.6."""
    if not numbers:
        return "names no class"
    best = stored[:, numbers].max(axis=1)
    right = np.asarray(kinds) == QUERY_KINDS[word]
    most_recall = np.mean(best[right] > 0)
    precisions = [np.mean(right[best >= threshold]) for threshold in np.unique(best[best > 0])
                  if np.sum(right & (best >= threshold)) >= 0.6 * right.sum()]
    at = f"precision <= {max(precisions):.2f} at recall >= 0.60" if precisions else \
        "recall never 0.60"
    return f"any threshold: recall <= {most_recall:.2f}, {at}"


def calibrated_scale(head, stored: np.ndarray, average: np.ndarray) -> float:
    """The length that makes the stored vectors as confident, on average, as the reference
    (the mean top-1 probability grows with the length): bisection."""
    def confidence(vectors, scale):
        return float(np.mean(class_probabilities(head, vectors, scale=scale).max(axis=1)))

    target, low, high = confidence(average, 1.0), 1.0, 200.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if confidence(stored, middle) < target else (low, middle)
    return (low + high) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=SHARED / "data" / "devset")
    parser.add_argument("--cache", type=Path, help="an .npz to keep (and reuse) the feature maps")
    args = parser.parse_args()
    head = load_head()
    paths, kinds = dev_set(args.devset)
    original_paths, original_kinds = originals_set()
    family_classes = families(ROOT / "labels" / "data" / "imagenet_wordnet.json")
    maps = Maps(args.cache)
    print(f"{len(paths)} dev-set photos, {len(set(kinds))} kinds; "
          f"{len(original_paths)} originals")
    for preset in RESNET50_PRESETS.values():
        dev_maps = maps.get("devset", paths, preset.framing)
        average = dev_maps.mean(axis=(1, 2))
        norms = np.linalg.norm(average, axis=1)
        stored = stored_vectors(dev_maps, preset)
        reference = top_classes(class_probabilities(head, average, scale=1.0), 5)[0]
        print(f"{preset.name} ({preset.framing}, {preset.pooling}): average-pooled length "
              f"median {np.median(norms):.1f} (5%-95% {np.percentile(norms, 5):.1f}-"
              f"{np.percentile(norms, 95):.1f})")
        report("reference (un-normalised)", class_probabilities(head, average, scale=1.0),
               reference, kinds, family_classes)
        used = FEATURE_SCALE[preset.name]
        for scale in sorted({1.0, 10.0, 20.0, 30.0, used, 50.0, 60.0}):
            marker = "  <- ImageSim" if scale == used else ""
            report(f"stored x {scale:g}{marker}", class_probabilities(head, stored, scale=scale),
                   reference, kinds, family_classes)
        print(f"  length at which the mean top-1 probability is the reference's: "
              f"{calibrated_scale(head, stored, average):.1f}")
        originals = stored_vectors(maps.get("originals", original_paths, preset.framing), preset)
        note = "" if preset.name == CALIBRATED_PRESET else \
            f" (class thresholds calibrated on {CALIBRATED_PRESET})"
        print(f"  the label filter{note}:")
        filter_report(head, stored_scores(class_probabilities(head, stored, scale=used)), kinds,
                      stored_scores(class_probabilities(head, originals, scale=used)),
                      original_kinds)
    maps.save()


if __name__ == "__main__":
    main()
