"""Every snapshot row at or above a floor, for many queries at once: a blocked join.

The duplicates pass asks, for each new vector, for every row at least DUPLICATE_FLOOR
alike (search/index/neighbours.py). One query at a time, that is a range search over
the IVF lists it probes: at a million rows, 128 lists of about 500 codes each, read and
scored one code at a time, about 13 ms a vector. A library embedded before duplicates
existed asks it of every vector at once (a backfill), which made hours.

Here the queries of a batch are sorted by the lists they probe. Each list's codes are
decoded once for the whole batch and scored against all of its queries in one matrix
product, so the work is the same arithmetic done by BLAS, each list read once a batch.
A query keeps exactly the rows a range search of its own lists would keep: those whose
codes' score plus the row's own error bound (search/index/bounds.py) reaches the floor.
Those rows are then scored exactly, as for a single query.
"""

import numpy as np

from search.index.bounds import ROUNDING

# Queries of one list scored at once (bounds the score matrix: rows x list size floats).
QUERY_BLOCK = 4096


def snapshot_candidates_joined(snapshot, masked: np.ndarray, queries: np.ndarray, *,
                               floor: float, probes: int) -> list[np.ndarray]:
    """Per query (unit float32 rows of ``queries``): the snapshot rows, not ``masked``, in
    the ``probes`` lists nearest it whose codes' score may reach ``floor`` by the rows' own
    bounds. The snapshot must have bounds (``snapshot.errors``)."""
    import faiss

    ivf = faiss.extract_index_ivf(snapshot.index)
    projected = (snapshot.projection.apply(np.ascontiguousarray(queries, np.float32))
                 if snapshot.projection is not None else np.ascontiguousarray(queries, np.float32))
    inside = np.linalg.norm(projected, axis=1)
    outside = np.sqrt(np.maximum(0.0, 1.0 - inside * inside))
    faiss.omp_set_num_threads(1)
    _, lists = ivf.quantizer.search(projected, min(probes, ivf.nlist))
    # Which queries probe each list: the (query, list) pairs sorted by list.
    by_list = np.argsort(lists, axis=None, kind="stable")
    list_of = lists.ravel()[by_list]
    query_of = by_list // lists.shape[1]
    bounds = np.flatnonzero(np.r_[True, list_of[1:] != list_of[:-1], True])
    found_queries, found_rows = [], []
    invlists, code_size = ivf.invlists, ivf.code_size
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        number = int(list_of[start])
        if number < 0:
            continue
        size = invlists.list_size(number)
        if size == 0:
            continue
        codes = faiss.rev_swig_ptr(invlists.get_codes(number), size * code_size)
        rows = faiss.rev_swig_ptr(invlists.get_ids(number), size).astype(np.int64)
        decoded = _decoded(ivf, number, np.frombuffer(codes, np.uint8).reshape(size, code_size))
        errors = snapshot.errors[rows]
        most = errors[:, :2].max(axis=0)
        mine = query_of[start:end]
        for block in range(0, mine.size, QUERY_BLOCK):
            chosen = mine[block:block + QUERY_BLOCK]
            scores = projected[chosen] @ decoded.T
            # First against the list's largest error (one number a query), then each row
            # that clears that against its own.
            least = floor - ROUNDING - inside[chosen] * most[0] - outside[chosen] * most[1]
            hit_query, hit_row = np.nonzero(scores >= least[:, None])
            bound = (inside[chosen[hit_query]] * errors[hit_row, 0]
                     + outside[chosen[hit_query]] * errors[hit_row, 1])
            keep = scores[hit_query, hit_row] + bound >= floor - ROUNDING
            if masked.size:
                keep &= ~masked[rows[hit_row]]
            found_queries.append(chosen[hit_query[keep]])
            found_rows.append(rows[hit_row[keep]])
    return _per_query(found_queries, found_rows, len(queries))


def _decoded(ivf, number: int, codes: np.ndarray) -> np.ndarray:
    """The vectors a list's codes stand for, as faiss scores them (float32, size x dim)."""
    import faiss

    decoded = faiss.downcast_index(ivf).sq.decode(codes)
    if ivf.by_residual:
        decoded += ivf.quantizer.reconstruct(number)
    return decoded


def _per_query(found_queries: list, found_rows: list, count: int) -> list[np.ndarray]:
    if not found_queries:
        return [np.zeros(0, dtype=np.int64) for _ in range(count)]
    queries = np.concatenate(found_queries)
    rows = np.concatenate(found_rows)
    order = np.lexsort((rows, queries))
    queries, rows = queries[order], rows[order]
    splits = np.searchsorted(queries, np.arange(1, count))
    return np.split(rows, splits)
