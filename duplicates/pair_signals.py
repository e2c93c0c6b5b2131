"""Why a group's images are listed together: for each pair that joins them, the signals
that found it (the vectors' similarity, the thumbnails' match, the hashes' distance).

A pair may be in two tables: DuplicatePair (vectors at least DUPLICATE_FLOOR alike, with
the match of those left in doubt) and HashPair (hashes at most DUPLICATE_HASH_DISTANCE
bits apart). A pair found only by its hashes gets its similarity computed here from the
two plain vectors, or none while either image has no vector yet.
"""

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from duplicates.hash_finding import hash_score
from duplicates.models import DuplicatePair, HashPair
from features.models import FeatureVector

SIMILARITY, MATCH, HASH = "similarity", "match", "hash"


@dataclass
class PairSignals:
    first: int
    second: int
    score: float = 0.0
    similarity: float | None = None
    match: float | None = None
    hash_distance: int | None = None

    def found_by(self, threshold: float) -> list[str]:
        """The signals that make this pair a copy at ``threshold``."""
        found = []
        if self.similarity is not None and self.similarity >= threshold:
            found.append(SIMILARITY)
        if (self.match is not None and self.match >= float(settings.DUPLICATE_MATCH)
                and self.match >= threshold):
            found.append(MATCH)
        if self.hash_distance is not None and hash_score(self.hash_distance) >= threshold:
            found.append(HASH)
        return found


def group_pairs(groups, *, extractor: str, threshold: float) -> dict[str, list[PairSignals]]:
    """For each group (``key``, ``image_ids``), its pairs at or above ``threshold`` with
    their signals, closest first (one read of each table for all the groups)."""
    group_of = {image: group.key for group in groups for image in group.image_ids}
    if not group_of:
        return {}
    ids = list(group_of)
    pairs: dict[tuple[int, int], PairSignals] = {}

    def pair(a: int, b: int) -> PairSignals | None:
        if group_of.get(a) != group_of.get(b):
            return None
        return pairs.setdefault((a, b), PairSignals(a, b))

    for a, b, similarity, match, score in (
            DuplicatePair.objects.filter(extractor=extractor, first_image_id__in=ids,
                                         second_image_id__in=ids)
            .values_list("first_image_id", "second_image_id", "similarity", "match", "score")):
        found = pair(a, b)
        if found:
            found.similarity, found.match = similarity, match
            found.score = max(found.score, score)
    for a, b, distance, score in (HashPair.objects.filter(first_id__in=ids, second_id__in=ids)
                                  .values_list("first_id", "second_id", "distance", "score")):
        found = pair(a, b)
        if found:
            found.hash_distance = distance
            found.score = max(found.score, score)
    _fill_similarities([p for p in pairs.values() if p.similarity is None], extractor)
    listed: dict[str, list[PairSignals]] = {group.key: [] for group in groups}
    for found in pairs.values():
        if found.score >= threshold:
            listed[group_of[found.first]].append(found)
    for found in listed.values():
        found.sort(key=lambda p: (-p.score, p.first, p.second))
    return listed


def _fill_similarities(pairs: list[PairSignals], extractor: str) -> None:
    """The cosine similarity of the plain vectors of pairs stored only by their hashes
    (below the floor, or compared before a vector existed)."""
    images = {image for p in pairs for image in (p.first, p.second)}
    if not images:
        return
    vectors = dict(FeatureVector.objects.filter(extractor=extractor, image_id__in=images)
                   .values_list("image_id", "vector"))
    for p in pairs:
        if p.first in vectors and p.second in vectors:
            first = np.asarray(vectors[p.first], dtype=np.float32)
            second = np.asarray(vectors[p.second], dtype=np.float32)
            p.similarity = round(float(min(1.0, first @ second)), 6)
