"""Which vector gives sensible ImageNet labels: the head on the stored unit vectors, scaled how?

    .venv/bin/python bench/labels.py                 # the 300 dev-set photos
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
from labels.head import FEATURE_SCALE, class_probabilities, head_load, top_classes  # noqa: E402
from labels.wordnet import MIN_SCORE, label_query  # noqa: E402

BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)
# WordNet's "footgear" is footwear's first sense alone (shoes, boots, clogs, sandals); its
# second sense also holds hosiery (socks, stockings). Every other kind: clothing.
FAMILY = {"shoes": "footgear", "hat": "headdress"}
# Label queries whose photos the filter should find: query -> the dev set's kind.
QUERIES = {"footwear": "shoes", "shoe": "shoes", "jean": "pants", "jersey": "t-shirt",
           "skirt": "skirt", "hat": "hat"}


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


def families(wordnet: Path) -> dict[str, set[int]]:
    classes = json.loads(wordnet.read_text())["classes"]
    index = json.loads((SHARED / "models" / "imagenet_class_index.json").read_text())
    number_of = {entry[0]: int(number) for number, entry in index.items()}
    found = {}
    for family in ("footgear", "headdress", "clothing"):
        found[family] = {number_of[wnid] for wnid, entry in classes.items()
                         if family in entry["lemmas"] + entry["hypernyms"]}
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


def filter_report(head, probabilities: np.ndarray, kinds: list[str]) -> None:
    """Precision and recall of ?label= queries over the stored top 5 (as LABEL_TOP_K), from
    any of them and from those at MIN_SCORE or more (what the filter matches)."""
    classes, scores = top_classes(probabilities, 5)
    for text, kind in QUERIES.items():
        wanted = {number for number, wnid in enumerate(head.wnids)
                  if wnid in label_query(text).wnids}
        figures = []
        for floor in (0.0, MIN_SCORE):
            found = [any(c in wanted and s >= floor for c, s in zip(row, row_scores))
                     for row, row_scores in zip(classes.tolist(), scores.tolist())]
            hits = sum(f and k == kind for f, k in zip(found, kinds))
            figures.append(f"{sum(found):3d} found, precision {hits / max(1, sum(found)):.2f} "
                           f"recall {hits / kinds.count(kind):.2f}")
        print(f"  ?label={text:<9} ({kind:>7}) any of top 5: {figures[0]}   "
              f">= {MIN_SCORE:.0%}: {figures[1]}")


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
    weights = os.environ.get("FEATURE_WEIGHTS") or str(
        SHARED / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    head = head_load(Path(os.environ.get("LABEL_HEAD_WEIGHTS")
                          or SHARED / "models" / "resnet50_imagenet_head.npz"),
                     Path(os.environ.get("LABEL_CLASS_INDEX")
                          or SHARED / "models" / "imagenet_class_index.json"))
    with open(args.devset / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = [args.devset / "images" / row["filename"] for row in rows]
    kinds = [row["label"] for row in rows]
    family_classes = families(ROOT / "labels" / "data" / "imagenet_wordnet.json")
    cached = dict(np.load(args.cache)) if args.cache and args.cache.is_file() else {}
    print(f"{len(paths)} dev-set photos, {len(set(kinds))} kinds")
    for preset in RESNET50_PRESETS.values():
        if preset.framing not in cached:
            cached[preset.framing] = feature_maps(paths, preset.framing, weights)
        maps = cached[preset.framing].astype(np.float32)
        average = maps.mean(axis=(1, 2))
        norms = np.linalg.norm(average, axis=1)
        if preset.pooling == "gem":
            p = preset.gem_p
            stored = normalise(np.mean(np.maximum(maps, 1e-6) ** p, axis=(1, 2)) ** (1 / p))
        else:
            stored = normalise(average)
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
        filter_report(head, class_probabilities(head, stored, scale=used), kinds)
    if args.cache and not args.cache.is_file():
        np.savez(args.cache, **cached)


if __name__ == "__main__":
    main()
