"""Groups from pairs, and the keeper rule: the pure part, no Django.

Images are grouped transitively: two images are in one group when a chain of pairs at
or above the threshold joins them (the connected components of the pair graph).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    image_ids: tuple[int, ...]  # sorted
    similarity: float  # its closest pair's

    @property
    def key(self) -> str:
        return group_key(self.image_ids)


def group_key(image_ids: Iterable[int]) -> str:
    """A group's id: its lowest image id and a digest of all of them, so an action on a
    group that has changed since it was listed is told apart from one on no group."""
    ids = sorted(image_ids)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:10]
    return f"{ids[0]}-{digest}"


def groups_from_pairs(pairs: Iterable[tuple[int, int, float]]) -> list[Group]:
    """Connected components of ``(image, image, similarity)`` pairs, closest first (then by
    lowest image id), each with its closest similarity."""
    parent: dict[int, int] = {}

    def root(item: int) -> int:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]  # path halving keeps the trees flat
            item = parent[item]
        return item

    pairs = list(pairs)
    for first, second, _ in pairs:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for item in parent:
        members.setdefault(root(item), []).append(item)
    closest: dict[int, float] = {}
    for first, _, similarity in pairs:
        top = root(first)
        closest[top] = max(closest.get(top, -1.0), similarity)
    groups = [Group(tuple(sorted(ids)), closest[top]) for top, ids in members.items()]
    groups.sort(key=lambda group: (-group.similarity, group.image_ids[0]))
    return groups


def keeper_order(image) -> tuple:
    """Sort key of the keeper rule, best keeper first: most pixels, then largest file,
    then oldest."""
    return (-image.width * image.height, -image.size_bytes, image.uploaded_at, image.pk)
