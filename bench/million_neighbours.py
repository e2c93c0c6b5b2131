"""bench/million.py's neighbour part: the feature worker's queries on one library.

The worker asks, per new vector, for every other plain vector at or above
DUPLICATE_FLOOR (duplicates) and for its k nearest (augmentation). In its own process,
each kind answers them for the same vectors (random library rows, and the real dev-set
photos with their copies): exactly from the plain matrix, or through the approximate
index over the plain column's snapshot (search/index/neighbours.py). Printed: time per
vector, the process's own memory, and whether the approximate answers equal the exact
ones (the pairs, and the k nearest). Also how far the codes' scores fall below the exact
cosine (what ``CODE_ERROR`` allows for).

The dev-set copies: every real vector hidden in the library (the dev-set photos and their
crops, mirror images and colour shifts, through the real model) asks the approximate
index for its pairs, and the pairs among those real vectors are compared with the exact
ones, all 2,700 x 2,700 cosines of their stored vectors (read from the database, not
from the snapshot).
"""

import json
import time
from pathlib import Path

import numpy as np

EXTRACTOR = "bench-real-looking-2048"


def part_neighbours(folder: Path, kind: str, setup_django, memory, percentiles) -> dict:
    setup_django(folder, SEARCH_INDEX=kind)
    from django.conf import settings

    from search.index import neighbours, plain_neighbours

    result = {}
    keys = (np.load(folder / "query_rows.npy") + 1).tolist()
    floor, k = float(settings.DUPLICATE_FLOOR), settings.SEARCH_AUGMENT_NEIGHBOURS
    before = memory()
    pairs, nearest, above_s, nearest_s = {}, {}, [], []
    with plain_neighbours(EXTRACTOR) as plain:
        for key in keys:
            if kind == "approximate":
                # What one pass starts from: no vector read yet.
                plain = neighbours.ApproximateNeighbours(plain.index, EXTRACTOR)
            started = time.perf_counter()
            for _, _, others, _, scores in plain.above([key], floor):
                pairs[key] = sorted(others.tolist())
            above_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            for _, _, found, _, _ in plain.nearest([key], k):
                nearest[key] = found.tolist()
            nearest_s.append(time.perf_counter() - started)
        if kind == "approximate":
            result["code_error"] = _code_error(plain.index, keys[:50])
            result["copies"] = _copies(folder, plain.index, floor)
    result.update({"above": percentiles(above_s), "nearest": percentiles(nearest_s),
                   "memory_before": before, "memory": memory(), "floor": floor, "k": k})
    (folder / f"neighbours-{kind}.json").write_text(json.dumps({"pairs": pairs,
                                                               "nearest": nearest}))
    return result


def _copies(folder: Path, index, floor: float) -> dict:
    """The pairs among the dev-set copies: the approximate index's (each copy's own pass)
    against the exact ones, from their stored vectors."""
    from features.models import FeatureVector
    from search.index.neighbours import ApproximateNeighbours

    keys = np.sort(np.load(folder / "real_rows.npy") + 1)
    stored = dict(FeatureVector.objects.filter(pk__in=keys.tolist())
                  .values_list("pk", "vector"))
    rows = np.stack([stored[key] for key in keys.tolist()])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    alike = rows @ rows.T
    np.fill_diagonal(alike, -np.inf)
    exact = {int(key): set(keys[np.flatnonzero(alike[row] >= floor)].tolist())
             for row, key in enumerate(keys)}
    copies, seconds, found, same, missed, extra = set(keys.tolist()), [], 0, 0, [], 0
    for key in keys.tolist():
        plain = ApproximateNeighbours(index, EXTRACTOR)
        started = time.perf_counter()
        mine = set()
        for _, _, others, _, scores in plain.above([key], floor):
            mine = set(others.tolist()) & copies
        seconds.append(time.perf_counter() - started)
        found += len(mine & exact[key])
        same += mine == exact[key]
        extra += len(mine - exact[key])
        missed += [(key, other, float(alike[np.searchsorted(keys, key),
                                            np.searchsorted(keys, other)]))
                   for other in sorted(exact[key] - mine)]
    return {"vectors": len(keys), "pairs": sum(map(len, exact.values())), "found": found,
            "same": int(same), "extra": extra, "missed": missed[:20],
            "least": float(min((alike[row][alike[row] >= floor].min()
                                for row in range(len(keys)) if (alike[row] >= floor).any()),
                               default=np.nan)),
            "p50": float(np.percentile(seconds, 50) * 1000),
            "p99": float(np.percentile(seconds, 99) * 1000)}


def _code_error(index, keys) -> dict:
    """How much higher than its codes' score a candidate's exact cosine is (the 99.9th
    percentile and the most), over the first 1,000 candidates of some vectors."""
    from search.index.neighbours import ApproximateNeighbours

    plain = ApproximateNeighbours(index, EXTRACTOR)
    gaps = []
    for key in keys:
        query = plain._vectors([key])[key][1]
        rows, codes = index.snapshot_candidates(query, 1000)
        exact = index.snapshot.vectors[np.sort(rows)].astype(np.float32) @ query
        gaps.append(exact - codes[np.argsort(rows)])
    gaps = np.concatenate(gaps)
    return {"p999": float(np.percentile(gaps, 99.9)), "max": float(gaps.max())}


def neighbours_report(folder: Path, exact: dict | None, approximate: dict, real_ids) -> None:
    """``exact`` None: its answers of an earlier run on ``folder`` (not run again)."""
    answers = {kind: json.loads((folder / f"neighbours-{kind}.json").read_text())
               for kind in ("exact", "approximate")}
    keys = list(answers["exact"]["pairs"])
    real = {str(key) for key in real_ids}
    print(f"the worker's neighbour queries (plain vectors), {len(keys)} vectors:")
    for name, label in (("above", f"pairs >= {approximate['floor']:g} per vector"),
                        ("nearest", f"{approximate['k']} nearest per vector")):
        timed = (f"exact p50 {exact[name]['p50']:7.1f} ms p99 {exact[name]['p99']:7.1f} ms; "
                 if exact else "")
        print(f"  {label:<32}{timed}approximate p50 {approximate[name]['p50']:6.1f} ms p99 "
              f"{approximate[name]['p99']:6.1f} ms")
    for label, group in (("library images", [key for key in keys if key not in real]),
                         ("real dev-set vectors", [key for key in keys if key in real])):
        pairs = {kind: answers[kind]["pairs"] for kind in answers}
        same = sum(pairs["exact"][key] == pairs["approximate"][key] for key in group)
        total = sum(len(pairs["exact"][key]) for key in group)
        found = sum(len(set(pairs["exact"][key]) & set(pairs["approximate"][key]))
                    for key in group)
        nearest = sum(answers["exact"]["nearest"][key] == answers["approximate"]["nearest"][key]
                      for key in group)
        print(f"  {len(group)} {label}: the same pairs for {same} ({found}/{total} exact pairs "
              f"found), the same {approximate['k']} nearest for {nearest}")
    grown = {kind: result["memory"]["anonymous"] - result["memory_before"]["anonymous"]
             for kind, result in (("exact", exact), ("approximate", approximate)) if result}
    print("  the worker's own memory for them: "
          + (f"exact {grown['exact']:,.0f} MB anonymous, " if exact else "")
          + f"approximate {grown['approximate']:,.0f} MB (+ the mapped snapshot)")
    copies = approximate.get("copies")
    if copies:
        print(f"  the {copies['vectors']:,} dev-set copies (every real vector in the library), "
              f"pairs among them: the same pairs for {copies['same']:,} of {copies['vectors']:,} "
              f"({copies['found']:,}/{copies['pairs']:,} exact pairs found, {copies['extra']} "
              f"not exact; the least alike pair {copies['least']:.3f}); approximate p50 "
              f"{copies['p50']:.1f} ms p99 {copies['p99']:.1f} ms")
        for key, other, score in copies["missed"]:
            print(f"    missed: {key} and {other}, {score:.4f} alike")
    error = approximate["code_error"]
    print(f"  exact cosine above the codes' score: p99.9 {error['p999']:.3f}, "
          f"most {error['max']:.3f}")
