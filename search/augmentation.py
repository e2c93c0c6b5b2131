"""Database-side augmentation, kept right as the library changes, by the feature worker.

Every vector row of an extractor gets ``augmented``: itself blended with its k nearest
other rows (search/reranking.py), with one NeighbourLink per neighbour. Neighbours are
found among the *plain* vectors, so a row's augmented vector depends on the plain
vectors alone, and after any sequence of adds and deletes the rows equal a
recomputation from scratch. A pass (``augmentation_pass``):

1. finds its work in the database: rows without an augmented vector (new ones), and
   links to vectors that are gone (deleted ones). On SQLite the gone vectors are those
   the vector change log names since the last pass; where the log no longer reaches back
   that far (and on PostgreSQL, whose log ids may commit out of order) every link is
   checked: 12 s at a million images (bench/augmentation_reads.py), which every pass of
   new uploads paid before;
2. marks dirty the new rows, the owners of links to gone vectors, and every row whose
   k-th neighbour a new row comes near (it may now be one of its k nearest). Every row's
   k-th similarity is read from all links once; the process keeps them up to date with
   its own passes, and reads them again only after another process's pass;
3. recomputes the dirty rows' neighbours and blends against all plain vectors at once;
4. writes them.

A pass runs inside one transaction that holds the augmentation lock (SQLite's write
lock; a row lock on PostgreSQL), so passes in different processes never interleave;
what changes while one runs is found by the next. It is the "augmentation" stage of the
feature worker (features/jobs/stages.py), which hands it neighbour queries over the plain
vectors (search/index/neighbours.py: exact, or the approximate index where it serves).
"""

import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef

from core.bulk_reads import values_array
from features.models import FeatureVector
from features.jobs.stages import StagePass
from search.changelog import log_bounds
from search.models import AugmentationState, NeighbourLink, VectorChange
from search.reranking import Reranking, blend

# New rows taken per pass: bounds the time a pass holds the lock while a large library
# is augmented for the first time.
BATCH = 256
# A new row this close below a row's k-th neighbour's similarity still makes that row
# dirty: scores computed in different blocks can differ in the last float32 bits.
SLACK = 1e-5


def augmentation_state(extractor: str) -> tuple[int, str]:
    """Changes whenever a pass may find work: the change log's position, and the recipe."""
    latest = VectorChange.objects.aggregate(latest=Max("id"))["latest"] or 0
    return latest, _recipe(Reranking.configured(settings))


def _recipe(reranking: Reranking) -> str:
    return reranking.recipe if reranking.augment_neighbours else "off"


def augmentation_pass(work: StagePass) -> int:
    """One pass (see the module notes); return how many rows it recomputed or cleared."""
    extractor, reranking = work.extractor, Reranking.configured(settings)
    with transaction.atomic():
        state = _state_locked(extractor)
        k, recipe = reranking.augment_neighbours, _recipe(reranking)
        if state.recipe != recipe:
            cleared = _clear(extractor)
            state.recipe = recipe
            state.save(update_fields=["recipe"])
            if not k:
                return cleared
        if not k:
            return 0
        rows = FeatureVector.objects.filter(extractor=extractor)
        new = list(rows.filter(augmented__isnull=True).order_by("id")
                   .values_list("id", flat=True)[:BATCH])
        orphaned = _orphaned(state)
        if not new and not orphaned:
            return 0
        with work.plain_neighbours(count=rows.count) as plain:
            dirty = set(new) | orphaned | _beaten(state, plain, new, k)
            results = _recompute(plain, sorted(dirty), k, reranking)
        _write(extractor, results)
        _passed(state, results, k)
        return len(results)


def _state_locked(extractor: str) -> AugmentationState:
    state, _ = AugmentationState.objects.get_or_create(extractor=extractor,
                                                       defaults={"recipe": ""})
    if connection.features.has_select_for_update:
        state = AugmentationState.objects.select_for_update().get(pk=extractor)
    return state


def _orphaned(state: AugmentationState) -> set[int]:
    """Rows blended from a vector that is gone; moves the state past the log read."""
    extractor = state.extractor
    first, latest = log_bounds()
    if connection.vendor == "sqlite" and state.changes_seen and first <= state.changes_seen + 1:
        # The log holds every change since the last pass: only links to those vectors
        # (this extractor's rows, so no filter on the links' extractor, which would lead
        # SQLite to read every link of it instead of those through their neighbour's index).
        links = NeighbourLink.objects.filter(neighbour_id__in=VectorChange.objects.filter(
            extractor=extractor, id__gt=state.changes_seen, id__lte=latest).values("vector_id"))
    else:
        links = NeighbourLink.objects.filter(extractor=extractor)
    orphaned = set(links.filter(~Exists(FeatureVector.objects.filter(pk=OuterRef("neighbour_id"))))
                   .values_list("owner_id", flat=True))
    if latest != state.changes_seen:
        state.changes_seen = latest
        state.save(update_fields=["changes_seen"])
    return orphaned


def _clear(extractor: str) -> int:
    _limits.pop(extractor, None)
    NeighbourLink.objects.filter(extractor=extractor).delete()
    return FeatureVector.objects.filter(extractor=extractor, augmented__isnull=False) \
        .update(augmented=None)


@dataclass
class _Limits:
    """Every augmented row (sorted ids) with how alike a new row must be to change its k
    nearest: its k-th neighbour's similarity (less SLACK), -inf while it has fewer."""

    generation: str  # AugmentationState.generation when these were right
    owners: np.ndarray
    limits: np.ndarray


# Per extractor, kept by this process between its passes: read from every link (two
# seconds at a million images, read ahead as the worker starts) only when another process
# passed since, or the database is not the one they were read from.
_limits: dict[str, _Limits] = {}


def _beaten(state: AugmentationState, plain, new: list[int], k: int) -> set[int]:
    """Rows (other than ``new``) that a new row may now be one of the k nearest of."""
    fresh = plain.present(new)
    if not fresh:
        return set()
    kept = _limits_current(state, k)
    if kept.owners.size == 0:
        return set()
    return plain.reaching(fresh, kept.owners, kept.limits)


def _limits_current(state: AugmentationState, k: int) -> _Limits:
    """The limits this process keeps, read again unless they are those of the last pass."""
    kept = _limits.get(state.extractor)
    if kept is None or not state.generation or kept.generation != state.generation:
        kept = _limits[state.extractor] = _limits_read(state, k)
    return kept


def augmentation_warm(extractor: str) -> None:
    """Read every row's limits ahead of the first pass after a start (stages_warm): two
    seconds at a million images. Read under a pass's generation, they are thrown away
    if another pass comes first."""
    k = Reranking.configured(settings).augment_neighbours
    state = AugmentationState.objects.filter(extractor=extractor).first()
    if k and state is not None and state.generation:
        _limits_current(state, k)


def _limits_read(state: AugmentationState, k: int) -> _Limits:
    extractor = state.extractor
    # Every augmented row, and each linked one's k-th neighbour's similarity and neighbour
    # count (from the links' covering index). The augmented rows are every row less those
    # not augmented yet: both read from indexes alone, not from a million rows.
    rows = FeatureVector.objects.filter(extractor=extractor).order_by("id").values_list("id")
    owners = np.setdiff1d(values_array(rows)[:, 0],
                          values_array(rows.filter(augmented__isnull=True))[:, 0],
                          assume_unique=True)
    linked = values_array(NeighbourLink.objects.filter(extractor=extractor).order_by("owner_id")
                          .values_list("owner_id").annotate(similarity=Min("similarity"),
                                                            count=Count("*"))
                          .values_list("owner_id", "similarity", "count"), dtype=np.float64)
    limits = np.full(owners.size, -np.inf, dtype=np.float32)
    if owners.size and linked.size:
        linked_owners = linked[:, 0].astype(np.int64)
        places = np.minimum(np.searchsorted(owners, linked_owners), owners.size - 1)
        # Links of a row not augmented now (cleared since) change nothing.
        full = (linked[:, 2] >= k) & (owners[places] == linked_owners)
        limits[places[full]] = linked[full, 1] - SLACK
    return _Limits(state.generation, owners, limits)


def _passed(state: AugmentationState, results: list[tuple], k: int) -> None:
    """Mark the pass, and bring this process's limits up to it (rows deleted since stay
    in them: reaching one only asks to recompute a row that is gone, which is skipped)."""
    before = state.generation
    state.generation = uuid.uuid4().hex
    state.save(update_fields=["generation"])
    kept = _limits.pop(state.extractor, None)
    # Limits read while the state had no generation yet were read in this very pass.
    if kept is None or kept.generation != before:
        return
    written = np.array([vector_id for vector_id, _, _ in results], dtype=np.int64)
    limits = np.array([min(s for _, s in links) - SLACK if len(links) >= k else -np.inf
                       for _, _, links in results], dtype=np.float32)
    keep = ~np.isin(kept.owners, written)
    owners = np.concatenate([kept.owners[keep], written])
    order = np.argsort(owners, kind="stable")
    _limits[state.extractor] = _Limits(state.generation, owners[order],
                                       np.concatenate([kept.limits[keep], limits])[order])


def _recompute(plain, keys: list[int], k: int, reranking: Reranking) -> list[tuple]:
    """(vector id, augmented vector, [(neighbour id, similarity)]) for each row."""
    results = []
    for key, vector, found, similarities, vectors in plain.nearest(keys, k):
        augmented = blend(vector, vectors, similarities, reranking.alpha, reranking.floor)
        results.append((key, augmented, list(zip(found.tolist(), similarities.tolist()))))
    return results


def _write(extractor: str, results: list[tuple]) -> None:
    owners = [vector_id for vector_id, _, _ in results]
    NeighbourLink.objects.filter(owner_id__in=owners).delete()
    FeatureVector.objects.bulk_update(
        [FeatureVector(pk=vector_id, augmented=augmented) for vector_id, augmented, _ in results],
        ["augmented"], batch_size=100)
    NeighbourLink.objects.bulk_create(
        [NeighbourLink(owner_id=vector_id, extractor=extractor, neighbour_id=neighbour,
                       similarity=similarity)
         for vector_id, _, links in results for neighbour, similarity in links],
        batch_size=1000)
