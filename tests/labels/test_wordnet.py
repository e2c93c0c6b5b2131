"""What a label query means: WordNet synonyms and broader terms from the committed table."""

import json
from pathlib import Path

import pytest

from labels.wordnet import DATA, label_query, term_normalise

CLASS_INDEX = Path(__file__).resolve().parents[2].parent / "shared" / "models" / \
    "imagenet_class_index.json"
SANDAL, RUNNING_SHOE, COWBOY_BOOT, SOCK = "n04133789", "n04120489", "n03124043", "n04254777"


def test_the_table_covers_every_imagenet_class():
    classes = json.loads(DATA.read_text())["classes"]
    if not CLASS_INDEX.is_file():
        pytest.skip(f"{CLASS_INDEX} is missing")
    index = json.loads(CLASS_INDEX.read_text())

    assert sorted(classes) == sorted(entry[0] for entry in index.values())
    assert classes[SANDAL] == {"lemmas": ["sandal"],
                               "hypernyms": ["shoe", "footwear", "footgear", "covering"]}


@pytest.mark.parametrize("text,expected", [
    ("Running_Shoe", "running shoe"), ("  T-Shirt ", "t shirt"), ("cowboy   boot", "cowboy boot"),
])
def test_case_spaces_hyphens_and_underscores_are_alike(text, expected):
    assert term_normalise(text) == expected


def test_a_broader_term_names_every_class_below_it():
    shoes = label_query("shoe").wnids
    footgear = label_query("footgear").wnids

    assert {SANDAL, RUNNING_SHOE} <= shoes and COWBOY_BOOT not in shoes  # a boot is no shoe
    assert {SANDAL, RUNNING_SHOE, COWBOY_BOOT} <= footgear and SOCK not in footgear
    # WordNet's other sense of "footwear" (hosiery) counts socks too.
    assert {SANDAL, COWBOY_BOOT, SOCK} <= label_query("footwear").wnids


@pytest.mark.parametrize("plural,singular", [
    ("sandals", "sandal"), ("Cowboy_Boots", "cowboy boot"), ("watches", "watch"),
    ("jeans", "jean"), ("butterflies", "butterfly"),
])
def test_a_plural_means_its_singular(plural, singular):
    assert label_query(plural).wnids == label_query(singular).wnids != frozenset()


def test_too_general_terms_and_unknown_words_name_nothing():
    assert label_query("object").wnids == frozenset()  # above nearly every class
    assert label_query("xyzzy").wnids == frozenset()
    assert label_query("xyzzy").terms == ("xyzzy",)
