"""What a label query means: a word's own classes, then those below the sense that counts
(never a broader sense's), from the committed table."""

import json
from pathlib import Path

import pytest

from labels.wordnet import DATA, label_query, term_normalise

CLASS_INDEX = Path(__file__).resolve().parents[2].parent / "shared" / "models" / \
    "imagenet_class_index.json"
SANDAL, RUNNING_SHOE, COWBOY_BOOT, SOCK = "n04133789", "n04120489", "n03124043", "n04254777"
CLOG, LOAFER, JERSEY, JEAN, GOWN = "n03047690", "n03680355", "n03595614", "n03594734", "n03450230"
MASK, WIG, COWBOY_HAT, SOMBRERO = "n03724870", "n04584207", "n03124170", "n04259630"
SHOWER_CAP = "n04209133"
SHOE, FOOTGEAR, COVERING = "n04199027", "n03380867", "n03122748"


def test_the_table_covers_every_imagenet_class():
    data = json.loads(DATA.read_text())
    if not CLASS_INDEX.is_file():
        pytest.skip(f"{CLASS_INDEX} is missing")
    index = json.loads(CLASS_INDEX.read_text())

    assert sorted(data["classes"]) == sorted(entry[0] for entry in index.values())
    assert data["classes"][SANDAL] == {"lemmas": ["sandal"],
                                       "broader": [SHOE, FOOTGEAR, COVERING]}
    assert data["broader"][FOOTGEAR] == ["footwear", "footgear"]


@pytest.mark.parametrize("text,expected", [
    ("Running_Shoe", "running shoe"), ("  T-Shirt ", "t shirt"), ("cowboy   boot", "cowboy boot"),
])
def test_case_spaces_hyphens_and_underscores_are_alike(text, expected):
    assert term_normalise(text) == expected


def test_a_word_names_its_own_classes_first():
    tee = label_query("T-shirt")

    assert tee.own == {JERSEY} and tee.narrower == frozenset()
    assert label_query("jeans").own == {JEAN}


def test_a_broader_word_names_every_class_below_it():
    # "footwear" has two senses WordNet has no counts for: both count (hosiery too).
    assert {SANDAL, RUNNING_SHOE, COWBOY_BOOT, CLOG, SOCK} <= label_query("footwear").wnids
    assert label_query("footwear").own == frozenset()
    footgear = label_query("footgear").wnids
    assert {SANDAL, RUNNING_SHOE, COWBOY_BOOT, CLOG} <= footgear and SOCK not in footgear


def test_shoe_means_any_footwear_as_in_everyday_speech():
    # WordNet's "shoe" is the low kind alone (no clogs, no boots).
    assert label_query("shoes").wnids == {SANDAL, RUNNING_SHOE, LOAFER, CLOG, COWBOY_BOOT}


def test_hat_names_the_hats_and_the_caps_as_in_everyday_speech():
    assert {COWBOY_HAT, SOMBRERO, SHOWER_CAP} <= label_query("hat").wnids
    assert COWBOY_BOOT not in label_query("hat").wnids


def test_sneakers_are_running_shoes():
    assert label_query("sneakers").wnids == {RUNNING_SHOE}


def test_a_word_never_names_classes_through_a_rarer_broader_sense():
    # "dress" is also "attire, garb, dress" (above masks and wigs) and "apparel, wearing
    # apparel, dress, clothes" (above jeans); its commonest sense is "dress, frock".
    assert label_query("dress").wnids == {GOWN}
    assert label_query("dress").wnids.isdisjoint({JEAN, JERSEY, MASK, WIG})
    # "cap" is also a bottle cap; "cat" is not a lion.
    assert "n02877765" not in label_query("cap").wnids  # bottlecap
    assert "n02129165" not in label_query("cat").wnids  # lion


@pytest.mark.parametrize("plural,singular", [
    ("sandals", "sandal"), ("Cowboy_Boots", "cowboy boot"), ("watches", "watch"),
    ("jeans", "jean"), ("butterflies", "butterfly"),
])
def test_a_plural_means_its_singular(plural, singular):
    assert label_query(plural).wnids == label_query(singular).wnids != frozenset()


def test_pants_are_trousers_not_bloomers():
    # WordNet's "pants" is only "bloomers, pants, drawers" (no class); "pant" is a trouser.
    assert label_query("pants").wnids == {JEAN}


def test_too_general_terms_and_unknown_words_name_nothing():
    assert label_query("object").wnids == frozenset()  # above nearly every class
    assert label_query("xyzzy").wnids == frozenset()
    assert label_query("xyzzy").terms == ("xyzzy",)
