"""Neighbour queries over the plain vectors: what the feature worker's stages ask.

Augmentation asks for the k nearest other rows of a row, and which rows a new row comes
near enough to change (search/augmentation.py); duplicates ask for every other row at or
above a floor (duplicates/finding.py). Rows are named by vector id (key), and never
answer for themselves. Two kinds answer:

- ``ExactNeighbours``: the plain vectors in one float32 matrix (the exact index's plain
  instance), compared in full. On PostgreSQL, and on SQLite while the exact index serves.
- ``ApproximateNeighbours``: an approximate index over the plain column, when it serves
  (SEARCH_INDEX). Candidates come from its snapshot (faiss, memory-mapped and shared) and
  its delta (the rows written since, held exactly); the snapshot's candidates are scored
  again from its copy of the stored vectors, so every score is the exact cosine the
  exact path computes. The worker then holds no copy of the whole library.

Where the approximate kind has to bound a set, what it misses is only what the IVF lists
it probes do not hold:

- every row at or above a floor (``above``): one range search over the lists for every
  row whose codes' score is within the most any row's can be off (search/index/bounds.py),
  then only the rows whose own bound reaches the floor are scored exactly: a few more
  than the pairs found, where a constant margin re-read four times as many;
- every row a new one comes near (``reaching``): more candidates until the worst of
  them is clearly past the bound (the codes' scores off by at most about CODE_ERROR).
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

import numpy as np
from django.conf import settings

from search.index.bounds import code_error, cosines, query_split
from search.index.join import snapshot_candidates_joined
from search.index.snapshot import positions_of
from search.reranking import BLOCK, nearest

# How far a candidate's exact cosine can be above its score by the 8-bit codes of the
# uncentred PCA projection (search/index/refresh.py), where the snapshot has no bound of
# its own per row: a range is widened by this before it is deemed covered. On
# bench/million.py's 1M library the gap's 99.9th percentile was 0.02, its most 0.07.
CODE_ERROR = 0.08
# Candidates taken first per query, and the most ever (each round takes four times more).
FIRST_CANDIDATES = 128
MAX_CANDIDATES = 65_536
# A query for every row above a floor probes this many times more IVF lists than a
# search (a pair may sit in a list the query's own nearest do not reach).
RANGE_PROBES = 4
# Rows compared with the whole library at once by ``above`` (bounds the score matrix).
ABOVE_BLOCK = 64
# Keys asked at once from which ``above`` joins the snapshot's lists with all of them
# (search/index/join.py) rather than searching them one by one. At a million the join
# decodes each list it reads whole, which pays only from about 128 keys: 64 at a time it
# was 10% slower a vector than one range search each, 128 at a time 1.4 times as fast, 256
# at a time twice (bench/duplicate_backfill.py --only-batches). A busy worker's passes of
# 64 (duplicates/finding.py) therefore search one by one, and a backlog joins 2,048.
JOIN_AT = 256


class PlainNeighbours(ABC):
    @abstractmethod
    def present(self, keys: Iterable[int]) -> list[int]:
        """Those of ``keys`` that are plain vectors here, in the order given."""

    @abstractmethod
    def nearest(self, keys: list[int], k: int) -> Iterator[tuple]:
        """Per key present: (key, its vector, the k nearest other keys best first with ties
        to the smaller key, their similarities, their vectors)."""

    @abstractmethod
    def above(self, keys: list[int], floor: float) -> Iterator[tuple]:
        """Per key present: (key, its image id, other keys, their image ids, similarities)
        of every other row at least ``floor`` alike."""

    @abstractmethod
    def reaching(self, keys: list[int], owners: np.ndarray, thresholds: np.ndarray) -> set[int]:
        """The ``owners`` (keys, ascending) to which some row of ``keys`` is at least as
        alike as the owner's threshold (more may be given, never fewer)."""


class ExactNeighbours(PlainNeighbours):
    """A VectorMatrix of every plain vector (search/similarity.py), compared in full."""

    def __init__(self, matrix):
        self.matrix = matrix

    def present(self, keys):
        return [key for key in keys if self.matrix.row_of_key(key) is not None]

    def _positions(self, keys) -> list[int]:
        return [row for row in map(self.matrix.row_of_key, keys) if row is not None]

    def nearest(self, keys, k):
        keys_all, rows = self.matrix.keys, self.matrix.rows
        positions = self._positions(keys)
        for start in range(0, len(positions), BLOCK):
            block = positions[start:start + BLOCK]
            scores = rows[block] @ rows.T
            for offset, position in enumerate(block):
                found_scores = scores[offset]
                found_scores[position] = -np.inf
                found = nearest(found_scores, keys_all, k)
                yield (int(keys_all[position]), rows[position], keys_all[found],
                       found_scores[found], rows[found])

    def above(self, keys, floor):
        keys_all, items, rows = self.matrix.keys, self.matrix.items, self.matrix.rows
        positions = self._positions(keys)
        for start in range(0, len(positions), ABOVE_BLOCK):
            block = positions[start:start + ABOVE_BLOCK]
            scores = rows[block] @ rows.T
            for offset, position in enumerate(block):
                scores[offset, position] = -np.inf
                others = np.flatnonzero(scores[offset] >= floor)
                yield (int(keys_all[position]), int(items[position]), keys_all[others],
                       items[others], scores[offset, others])

    def reaching(self, keys, owners, thresholds):
        fresh = self._positions(keys)
        positions = [self.matrix.row_of_key(owner) for owner in owners]
        there = np.array([p is not None for p in positions], dtype=bool)
        if not fresh or not there.any():
            return set()
        rows = self.matrix.rows
        places = np.array([p for p in positions if p is not None], dtype=np.int64)
        best = (rows[places] @ rows[fresh].T).max(axis=1)
        return set(np.asarray(owners)[there][best >= np.asarray(thresholds)[there]].tolist())


class ApproximateNeighbours(PlainNeighbours):
    """An ApproximateIndex over the plain column (search/index/approximate.py), synced, whose
    lock the caller holds."""

    def __init__(self, index, extractor: str):
        self.index, self.extractor = index, extractor
        self._asked: dict[int, tuple] = {}

    def _vectors(self, keys) -> dict[int, tuple[int, np.ndarray]]:
        """(image id, unit float32 vector) of each key that is here: from the delta, or from
        the snapshot's copy of the stored vectors (exactly what the exact index holds)."""
        delta, snapshot = self.index.delta, self.index.snapshot
        found, wanted = {}, []
        for key in map(int, keys):
            row = delta.row_of_key(key)
            if row is not None:
                found[key] = (int(delta.items[row]), delta.rows[row])
            else:
                wanted.append(key)
        if wanted and snapshot is not None:
            rows = snapshot.rows_of_keys(wanted)
            rows = np.sort(rows[~self.index.masked[rows]])
            for key, item, vector in zip(snapshot.keys[rows].tolist(),
                                         snapshot.items[rows].tolist(), snapshot.unit_rows(rows)):
                found[key] = (item, vector)
        return found

    def present(self, keys):
        found = self._vectors(keys)
        return [key for key in keys if int(key) in found]

    def _scored(self, key: int, query: np.ndarray, count: int):
        """Candidates for ``key``'s row with exact scores: the snapshot's ``count`` best by
        the codes, and the delta's ``count`` best. (keys, scores)."""
        delta, snapshot = self.index.delta, self.index.snapshot
        mine = delta.rows @ query
        best = (np.argpartition(-mine, count - 1)[:count] if mine.size > count
                else np.arange(mine.size))
        rows, _ = self._candidates(key, query, count)
        rows = np.sort(rows[~self.index.masked[rows]])  # read in file order
        keys = np.concatenate([delta.keys[best], snapshot.keys[rows]])
        # Scored in place from the snapshot's copy (search/index/bounds.py): only the k
        # chosen are read whole, for their blend.
        scores = np.concatenate([mine[best], cosines(snapshot, query, rows) if rows.size
                                 else np.zeros(0, dtype=np.float32)])
        others = keys != key
        return keys[others], scores[others]

    def nearest(self, keys, k):
        count = max(FIRST_CANDIDATES, 8 * (k + 1))
        for key in self.present(keys):
            query = self._vectors([key])[key][1]
            found_keys, scores = self._scored(key, query, count)
            chosen = nearest(scores, found_keys, k)
            vectors = self._vectors(found_keys[chosen])
            yield (key, query, found_keys[chosen], scores[chosen],
                   np.stack([vectors[other][1] for other in found_keys[chosen].tolist()])
                   if len(chosen) else np.zeros((0, query.size), dtype=np.float32))

    def above(self, keys, floor):
        snapshot = self.index.snapshot
        probes = RANGE_PROBES * settings.SEARCH_APPROXIMATE_PROBES
        present = self.present(keys)
        if len(present) >= JOIN_AT and snapshot is not None and snapshot.errors is not None:
            yield from self._above_joined(present, floor, probes)
            return
        for key in present:
            item, query = self._vectors([key])[key]
            # From the snapshot, one pass over its lists for every row whose codes' score
            # may be that of a cosine at the floor, then only those whose own bound lets
            # them reach it scored exactly.
            split = query_split(snapshot, query)
            most = code_error(snapshot, query, split=split)
            most = CODE_ERROR if most is None else most
            rows, codes = self.index.snapshot_within(query, floor - most, probes=probes)
            error = code_error(snapshot, query, rows, split=split)
            if error is not None:
                rows = rows[codes + error >= floor]
            yield self._above_found(key, item, query, rows, floor)

    def _above_joined(self, keys, floor, probes):
        """``above`` for many keys at once: the snapshot's candidates by a blocked join of
        its lists (search/index/join.py), the same rows a range search per key keeps."""
        vectors = self._vectors(keys)
        queries = np.stack([vectors[key][1] for key in keys])
        candidates = snapshot_candidates_joined(self.index.snapshot, self.index.masked, queries,
                                                floor=floor, probes=probes)
        for key, query, rows in zip(keys, queries, candidates):
            yield self._above_found(key, vectors[key][0], query, rows, floor, ask=False)

    def _above_found(self, key, item, query, rows, floor, *, ask=True):
        """(key, image id, other keys, their image ids, similarities) of the rows at or above
        ``floor``: the delta's, compared exactly, and those of the snapshot ``rows``
        (candidates) whose exact cosine reaches it (``ask``: see ``cosines``)."""
        delta, snapshot = self.index.delta, self.index.snapshot
        mine = np.flatnonzero(delta.rows @ query >= floor)
        rows = np.sort(rows)  # read in file order
        scores = (cosines(snapshot, query, rows, ask=ask) if rows.size
                  else np.zeros(0, np.float32))
        close = scores >= floor
        found_keys = np.concatenate([delta.keys[mine], snapshot.keys[rows[close]]])
        items = np.concatenate([delta.items[mine], snapshot.items[rows[close]]])
        scores = np.concatenate([delta.rows[mine] @ query, scores[close]])
        others = found_keys != key
        return key, item, found_keys[others], items[others], scores[others]

    def reaching(self, keys, owners, thresholds):
        # Nothing here is the size of the library but two comparisons per query: a pass
        # after every batch of uploads must not sort a million thresholds.
        owners = np.asarray(owners, dtype=np.int64)
        thresholds = np.asarray(thresholds, dtype=np.float32)
        fresh = self.present(keys)
        if not fresh or owners.size == 0:
            return set()
        reached = set(owners[np.isneginf(thresholds)].tolist())
        vectors = self._vectors(fresh)
        queries = {key: vectors[key][1] for key in fresh}
        # Owners in the delta: their vectors are here, compared exactly.
        delta = self.index.delta
        in_delta = positions_of(owners, delta.keys)
        if in_delta.size:
            places = [delta.row_of_key(o) for o in owners[in_delta].tolist()]
            best = (delta.rows[places] @ np.stack(list(queries.values())).T).max(axis=1)
            reached |= set(owners[in_delta][best >= thresholds[in_delta]].tolist())
        snapshot = self.index.snapshot
        if snapshot is None:
            return reached
        # The thresholds left to the snapshot's rows (+inf: reached already, or compared).
        left = np.where(np.isneginf(thresholds), np.inf, thresholds)
        left[in_delta] = np.inf
        for key, query in queries.items():
            count = FIRST_CANDIDATES
            while True:
                candidates, codes = self._candidates(key, query, count)
                covered = -np.inf if len(candidates) < count else float(codes.min()) + CODE_ERROR
                # Owners the candidates may have missed: those with a threshold that low.
                low = np.flatnonzero(left <= covered)
                if len(low) <= count or count >= MAX_CANDIDATES:
                    break
                count *= 4
            check = np.union1d(positions_of(owners, snapshot.keys[candidates]), low)
            check = check[np.isfinite(left[check])]
            # Their rows in the snapshot, unless changed since (the delta's were compared).
            rows = np.searchsorted(snapshot.keys, owners[check])
            there = rows < snapshot.size
            there[there] &= snapshot.keys[rows[there]] == owners[check[there]]
            there[there] &= ~self.index.masked[rows[there]]
            check, rows = check[there], rows[there]
            if rows.size == 0:
                continue
            order = np.argsort(rows)  # read in file order
            check, rows = check[order], rows[order]
            hit = snapshot.unit_rows(rows) @ query >= thresholds[check]
            reached |= set(owners[check[hit]].tolist())
        return reached

    def _candidates(self, key: int, query: np.ndarray, count: int):
        """``snapshot_candidates`` for ``key``'s row. The first FIRST_CANDIDATES are asked
        once a pass: augmentation asks for them twice for a new row (which rows it may
        change, and, with k up to 15, its own k nearest); larger asks are rare, not kept."""
        if count != FIRST_CANDIDATES:
            return self.index.snapshot_candidates(query, count)
        asked = self._asked.get(key)
        if asked is None:
            asked = self._asked[key] = self.index.snapshot_candidates(query, count)
        return asked

