"""How far a snapshot's codes can score from the exact cosine, and exact cosines from its copies.

The duplicates pass wants every row at least ``DUPLICATE_FLOOR`` alike
(search/index/neighbours.py). The faiss codes only rank; the exact cosine comes from the
snapshot's half-precision copy of the stored vector. So that few rows are read again, the
writer measures, per row, two lengths that bound the codes' error for *any* query, and
writes them beside the snapshot (``snapshot-<gen>.error.npy``, with the stored vector's
length): a row is read again only when its own bound lets it reach the floor.

A row x is scored by the codes as <Pq, c> (P the projection on the principal directions,
orthonormal; c its codes' reconstruction there); its cosine with a unit query q is
<Pq, Px> + <q - P'Pq, x - P'Px>. The gap is therefore at most |Pq| |Px - c| +
|q - P'Pq| |x - P'Px|: a bound, not an estimate. For 2048-d ResNet vectors on 512
directions it is a few hundredths (on bench/million.py's 1M library, 0.025 for half the
rows and queries, where the gap itself reached 0.07).
"""

from functools import partial

import numpy as np

from core.vectors import normalise

# Added to every bound: float32 rounding in faiss's and NumPy's sums.
ROUNDING = 1e-3


def codes_add(index, stored: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Add vectors as stored (half precision) to the index, unit length, as its rows
    ``rows`` (the next ones if None); return per vector (float32, n x 3) its codes' error
    in the projected space |Px - c|, what the projection leaves out |x - P'Px|, and the
    stored vector's length."""
    import faiss

    stored = np.asarray(stored, dtype=np.float32)
    lengths = np.linalg.norm(stored, axis=1)
    unit = normalise(stored)
    if isinstance(index, faiss.IndexPreTransform):
        lists = faiss.downcast_index(index.index)
        projected = index.chain.at(0).apply(unit)
        outside = np.sqrt(np.maximum(0.0, 1.0 - np.einsum("ij,ij->i", projected, projected)))
    else:
        lists, projected = index, unit
        outside = np.zeros(len(unit), dtype=np.float32)
    # Encoded once: the codes added are the codes measured.
    codes = lists.sa_encode(projected)
    lists.add_sa_codes(codes, rows)
    index.ntotal = lists.ntotal
    coded = np.linalg.norm(projected - lists.sa_decode(codes), axis=1)
    return np.stack([coded, outside, lengths], axis=1).astype(np.float32)


def code_error(snapshot, query: np.ndarray, rows=None, *, split=None
               ) -> np.ndarray | float | None:
    """How much higher than its codes' score the cosine of ``query`` (unit) and each of
    ``rows`` can be, at most; with ``rows`` None, the most over every row. None for a
    snapshot written without bounds (format 2). ``split``: ``query_split``'s answer for
    this query, when already known."""
    if snapshot.errors is None:
        return None
    inside, outside = query_split(snapshot, query) if split is None else split
    if rows is None:
        most = snapshot.manifest["error_most"]
        return inside * most[0] + outside * most[1] + ROUNDING
    errors = snapshot.errors[rows]
    return inside * errors[:, 0] + outside * errors[:, 1] + ROUNDING


def query_split(snapshot, query: np.ndarray) -> tuple[float, float]:
    """The lengths of ``query`` (unit) inside the projection and outside it: |Pq| and
    |q - P'Pq|."""
    if snapshot.projection is None:
        return 1.0, 0.0
    projected = snapshot.projection.apply(np.ascontiguousarray(query[None], np.float32))[0]
    inside = float(np.linalg.norm(projected))
    return inside, float(np.sqrt(max(0.0, 1.0 - inside * inside)))


def cosines(snapshot, query: np.ndarray, rows, *, ask: bool = True) -> np.ndarray:
    """The exact cosine of ``query`` (unit) and each of ``rows``: what ``unit_rows(rows) @
    query`` gives (to float32 rounding), without float32 copies of the rows. ``ask``: ask
    the disk for the rows' pages first (``Snapshot.rows_ask``; a backfill, reading the
    whole file, skips it).

    faiss scores each half-precision row in place (its fp16 scalar quantizer, whose codes
    are the IEEE half floats themselves, converted by the CPU in SIMD), divided by the
    stored vector's length. NumPy's half-to-float conversion of the rows cost more than the
    rest of a duplicates pass. The calls go to faiss's compiled functions themselves
    (not their Python wrappers), which halved the time a row.
    """
    import faiss
    from faiss import _swigfaiss

    rows = np.asarray(rows, dtype=np.int64)
    if snapshot.errors is None:
        return snapshot.unit_rows(rows) @ query
    if ask:
        snapshot.rows_ask(rows)
    dim = snapshot.vectors.shape[1]
    halves = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                        faiss.METRIC_INNER_PRODUCT)
    scorer = halves.get_FlatCodesDistanceComputer()
    query = np.ascontiguousarray(query, dtype=np.float32)
    scorer.set_query(faiss.swig_ptr(query))
    addresses = (snapshot.vectors.ctypes.data + rows * (dim * 2)).tolist()
    score = partial(_swigfaiss.FlatCodesDistanceComputer_distance_to_code, scorer)
    products = np.fromiter(map(score, map(_swigfaiss.cast_integer_to_uint8_ptr, addresses)),
                           dtype=np.float32, count=rows.size)
    return products / np.maximum(snapshot.errors[rows, 2], np.float32(1e-12))
