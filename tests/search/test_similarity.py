"""The pure maths: top k, the vector matrix and the ranking figures."""

import numpy as np
import pytest

from core.vectors import normalise
from search.evaluation import evaluate_ranking
from search.similarity import EXCLUDED, VectorMatrix, top_k


def random_rows(count, dim=32, seed=0):
    return normalise(np.random.default_rng(seed).standard_normal((count, dim)))


def brute_force(rows, query, k):
    similarities = [float(np.dot(row, query)) for row in rows]
    order = sorted(range(len(rows)), key=lambda i: (-similarities[i], i))[:k]
    return order, [similarities[i] for i in order]


def test_top_k_matches_a_brute_force_ranking():
    rows, query = random_rows(500), random_rows(1, seed=1)[0]
    positions, scores = top_k(rows @ query, 10)
    expected_positions, expected_scores = brute_force(rows, query, 10)
    assert positions.tolist() == expected_positions
    assert scores.tolist() == pytest.approx(expected_scores, abs=1e-6)


def test_top_k_breaks_ties_by_position_and_skips_excluded_entries():
    scores = np.array([0.5, 0.9, 0.5, EXCLUDED, 0.9], dtype=np.float32)
    positions, best = top_k(scores, 10)
    assert positions.tolist() == [1, 4, 0, 2]
    assert best.tolist() == pytest.approx([0.9, 0.9, 0.5, 0.5])


def test_top_k_drops_scores_below_the_minimum():
    positions, _ = top_k(np.array([0.2, 0.8, 0.6], dtype=np.float32), 3, min_similarity=0.6)
    assert positions.tolist() == [1, 2]


def test_the_matrix_finds_what_a_brute_force_search_finds_after_adds_and_removals():
    rows = random_rows(300)
    matrix = VectorMatrix(32)
    matrix.add(range(1, 301), range(1001, 1301), [i % 2 == 0 for i in range(300)], rows)
    removed = set(range(1, 301, 3))
    matrix.remove(sorted(removed))
    kept = [i for i in range(300) if i + 1 not in removed]
    query = random_rows(1, seed=5)[0]
    order, scores = brute_force(rows[kept], query, 8)
    found = matrix.search(query, 8)
    assert [item for item, _ in found] == [1001 + kept[i] for i in order]
    assert [score for _, score in found] == pytest.approx(scores, abs=1e-6)
    assert matrix.size == len(kept)


def test_the_matrix_filters_by_flag_and_leaves_out_one_item():
    rows = random_rows(20)
    matrix = VectorMatrix(32)
    matrix.add(range(20), range(100, 120), [i < 5 for i in range(20)], rows)
    originals = matrix.search(rows[0], 10, only_flag=True, exclude_items=[100])
    assert sorted(item for item, _ in originals) == [101, 102, 103, 104]
    uploads = matrix.search(rows[0], 100, only_flag=False)
    assert sorted(item for item, _ in uploads) == list(range(105, 120))


def test_the_matrix_holds_one_copy_of_its_rows_with_little_spare_room():
    matrix = VectorMatrix(64, capacity=1000)
    matrix.add(range(1000), range(1000), [False] * 1000, random_rows(1000, dim=64))
    assert matrix.rows.base is not None  # a view of the buffer, not a copy
    assert matrix.nbytes == 1000 * 64 * 4 + 1000 * (8 + 8 + 1)


def test_ranking_figures_for_a_small_labelled_set():
    # a1 and a2 point one way, b1 and b2 another; b2 leans towards the a's.
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.8, 0.6]], dtype=np.float32)
    ranking = evaluate_ranking(vectors, ["a", "a", "b", "b"], cutoffs=(1, 2))
    # a1: a2 first (AP 1). a2: a1 first (AP 1). b1: b2 first (AP 1).
    # b2: a2, a1, b1 -> the relevant one at rank 3 (AP 1/3).
    assert ranking.queries == 4
    assert ranking.mean_average_precision == pytest.approx((1 + 1 + 1 + 1 / 3) / 4)
    assert ranking.precision_at == pytest.approx({1: 3 / 4, 2: (0.5 + 0.5 + 0.5 + 0) / 4})
    assert ranking.per_label == pytest.approx({"a": 1.0, "b": (1 + 1 / 3) / 2})
