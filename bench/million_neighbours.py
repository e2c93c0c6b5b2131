"""bench/million.py's neighbour part: the feature worker's queries on one library.

The worker asks, per new vector, for every other plain vector at or above
DUPLICATE_FLOOR (duplicates) and for its k nearest (augmentation). In its own process,
each kind answers them for the same vectors (random library rows, and the real dev-set
photos with their copies): exactly from the plain matrix, or through the approximate
index over the plain column's snapshot (search/index/neighbours.py). Printed: time per
vector, the process's own memory, and whether the approximate answers equal the exact
ones (the pairs, and the k nearest). Also how far the codes' scores fall below the exact
cosine (what ``CODE_ERROR`` allows for).
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
    result.update({"above": percentiles(above_s), "nearest": percentiles(nearest_s),
                   "memory_before": before, "memory": memory(), "floor": floor, "k": k})
    (folder / f"neighbours-{kind}.json").write_text(json.dumps({"pairs": pairs,
                                                               "nearest": nearest}))
    return result


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
    error = approximate["code_error"]
    print(f"  exact cosine above the codes' score: p99.9 {error['p999']:.3f}, "
          f"most {error['max']:.3f}")
