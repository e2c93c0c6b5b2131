"""How sure the classifier must be of a label for the label filter to match it, by class,
from the committed labels/data/class_thresholds.json (made by
labels/data/make_class_thresholds.py on the dev set).

A stored label matches only at its class's threshold or above. The classifier is not
equally right about every class: on garment photos it hands "jersey" (a T-shirt) to
long-sleeved tops and shirts too unless it is fairly sure, while "clog" at 5% is a shoe.
Classes the dev set says nothing about (not named by its garment words, or seen too
rarely) keep MIN_SCORE.
"""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "class_thresholds.json"
# The least probability a stored label (one of an image's top 5) needs to match: the 4th and
# 5th labels of a photo are often long shots (a pair of jeans' "cowboy boot" at 1%). On the
# dev set (bench/labels.py) "footwear" finds the 30 shoe photos with precision 0.46 from any
# of the top 5 and 0.94 from those at 5% or more, recall 1.00 both ways.
MIN_SCORE = 0.05


@cache
def class_thresholds() -> dict[str, float]:
    """WordNet id -> the class's threshold, for the classes calibrated above MIN_SCORE."""
    thresholds = json.loads(DATA.read_text(encoding="utf-8"))["thresholds"]
    return {wnid: float(value) for wnid, value in thresholds.items() if value > MIN_SCORE}


def class_threshold(wnid: str) -> float:
    return class_thresholds().get(wnid, MIN_SCORE)
