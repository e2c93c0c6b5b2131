"""Reading duplicate groups: formed from the stored pairs for the threshold asked for.

Forming the groups of a large library takes one read of the pairs at or above the
threshold (vector pairs of the extractor searches use, and hash pairs) and a union-find
over them; the result is kept in memory per extractor and
threshold until the pairs, the pixel digests or the "not duplicates" decisions change
(three aggregate reads tell), so paging through thousands of groups costs a page.
"""

import threading
from dataclasses import dataclass
from itertools import chain

from django.conf import settings
from django.db.models import Count, Max

from core.errors import Conflict, NotFound
from duplicates.grouping import Group, groups_from_pairs, keeper_order
from duplicates.models import (
    DismissedImage,
    DuplicateDismissal,
    DuplicatePair,
    HashPair,
    PixelDigest,
)
from features.serving import serving_fingerprint
from gallery.models import Image

IDENTICAL = "identical"
NEAR_DUPLICATE = "near-duplicate"


@dataclass(frozen=True)
class ListedGroup:
    key: str
    image_ids: tuple[int, ...]
    similarity: float
    tier: str


@dataclass(frozen=True)
class Grouping:
    groups: list[ListedGroup]
    group_of_image: dict[int, ListedGroup]


_lock = threading.Lock()
_cache: dict[tuple[str, float], tuple[tuple, Grouping]] = {}


def duplicates_extractor() -> str:
    """The extractor whose vectors duplicates are listed from: the one searches use."""
    return serving_fingerprint()


def duplicate_grouping(*, threshold: float, extractor: str | None = None) -> Grouping:
    """Every group at ``threshold`` that no one said is not duplicates, closest first."""
    extractor = extractor or duplicates_extractor()
    threshold = round(float(threshold), 4)
    token = _state_token(extractor)
    with _lock:
        cached = _cache.get((extractor, threshold))
        if cached and cached[0] == token:
            return cached[1]
    grouping = _form(extractor, threshold)
    with _lock:
        _cache[(extractor, threshold)] = (token, grouping)
        while len(_cache) > 16:  # a slider asks for many thresholds: keep the recent ones
            _cache.pop(next(iter(_cache)))
    return grouping


def duplicates_forget() -> None:
    """Forget formed groups (tests: ids are reused once a test's rows roll back)."""
    with _lock:
        _cache.clear()


def _state_token(extractor: str) -> tuple:
    pairs = DuplicatePair.objects.filter(extractor=extractor).aggregate(n=Count("id"),
                                                                        last=Max("id"))
    dismissed = DismissedImage.objects.aggregate(n=Count("id"), last=Max("id"))
    digests = PixelDigest.objects.aggregate(n=Count("image_id"))
    hashed = HashPair.objects.aggregate(n=Count("id"), last=Max("id"))
    return (pairs["n"], pairs["last"], dismissed["n"], dismissed["last"], digests["n"],
            hashed["n"], hashed["last"])


def _form(extractor: str, threshold: float) -> Grouping:
    pairs = (DuplicatePair.objects.filter(extractor=extractor, score__gte=threshold)
             .values_list("first_image_id", "second_image_id", "score"))
    # Pairs of close hashes join images whatever their vectors (or before they have one).
    hashed = (HashPair.objects.filter(score__gte=threshold)
              .values_list("first_id", "second_id", "score"))
    dismissals = _dismissals()
    groups = [group for group in groups_from_pairs(chain(pairs.iterator(chunk_size=10_000),
                                                         hashed.iterator(chunk_size=10_000)))
              if not _dismissed(group, dismissals)]
    # Only images of very close pairs have a digest: few, so all of them are read.
    digests = dict(PixelDigest.objects.values_list("image_id", "digest")) if groups else {}
    listed = [ListedGroup(group.key, group.image_ids, group.similarity, _tier(group, digests))
              for group in groups]
    return Grouping(listed, {image: group for group in listed for image in group.image_ids})


def _dismissals() -> dict[int, list[set[int]]]:
    """For each image, the sets of images it was said not to duplicate (with itself)."""
    members: dict[int, set[int]] = {}
    for dismissal, image in DismissedImage.objects.values_list("dismissal_id", "image_id"):
        members.setdefault(dismissal, set()).add(image)
    by_image: dict[int, list[set[int]]] = {}
    for images in members.values():
        for image in images:
            by_image.setdefault(image, []).append(images)
    return by_image


def _dismissed(group: Group, dismissals: dict[int, list[set[int]]]) -> bool:
    """Said not to be duplicates: every image of the group is in one decision (a group
    with an image that joined since comes back)."""
    ids = set(group.image_ids)
    return any(ids <= images for images in dismissals.get(group.image_ids[0], ()))


def _tier(group: Group, digests: dict[int, str]) -> str:
    found = {digests.get(image) for image in group.image_ids}
    return IDENTICAL if len(found) == 1 and None not in found else NEAR_DUPLICATE


def group_images(groups: list[ListedGroup], *, attach=lambda images: None
                 ) -> dict[str, list[Image]]:
    """Each group's images, best keeper first (one query for all the groups; ``attach``
    reads what the caller shows of each image, for all of them at once)."""
    ids = [image for group in groups for image in group.image_ids]
    images = Image.objects.select_related("uploaded_by").in_bulk(ids)
    attach(list(images.values()))
    return {group.key: sorted((images[i] for i in group.image_ids if i in images),
                              key=keeper_order)
            for group in groups}


def decision_list():
    """The "not duplicates" decisions, newest first, each with ``image_ids``."""
    decisions = list(DuplicateDismissal.objects.select_related("decided_by")
                     .prefetch_related("members").order_by("-decided_at", "-pk"))
    for decision in decisions:
        decision.image_ids = sorted(member.image_id for member in decision.members.all())
    return decisions


def group_get(*, key: str, threshold: float) -> ListedGroup:
    """The listed group ``key`` names at ``threshold``: NotFound when no group holds its
    first image, Conflict when that group has changed since it was listed."""
    first, _, _ = key.partition("-")
    if not (first.isascii() and first.isdigit()):
        raise NotFound(f"There is no duplicate group {key!r}.", code="unknown_group")
    group = duplicate_grouping(threshold=threshold).group_of_image.get(int(first))
    if group is None:
        raise NotFound(f"There is no duplicate group {key!r} at threshold {threshold:g} (it was "
                       "resolved, marked not duplicates, or its images were deleted).",
                       code="unknown_group")
    if group.key != key:
        raise Conflict(f"Duplicate group {key!r} has changed since it was listed (images were "
                       "added or deleted): list the groups again.", code="stale_group",
                       extra={"current": group.key})
    return group


def default_threshold() -> float:
    return float(settings.DUPLICATE_THRESHOLD)
