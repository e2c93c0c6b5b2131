"""Re-ranking maths: neighbours, blending, augmentation and query expansion (pure NumPy)."""

import numpy as np
import pytest

from core.vectors import normalise
from search.evaluation import evaluate_ranking
from search.reranking import Reranking, augment_all, blend, expand, nearest


def test_nearest_gives_the_best_first_and_ties_to_the_smaller_id():
    scores = np.array([0.5, 0.9, 0.7, 0.9, -np.inf], dtype=np.float32)
    ids = np.array([40, 30, 20, 10, 0])

    assert nearest(scores, ids, 3).tolist() == [3, 1, 2]  # ids 10 and 30 tie: 10 first
    assert nearest(scores, ids, 10).tolist() == [3, 1, 2, 0]  # never the excluded one
    assert nearest(scores, ids, 0).tolist() == []


def test_blend_weighs_each_neighbour_by_its_similarity_cubed():
    vector, neighbours = np.array([1.0, 0, 0]), np.array([[0, 1.0, 0], [0, 0, 1.0]])

    blended = blend(vector, neighbours, np.array([0.5, -0.2]))

    # 1 * e1 + 0.5 ** 3 * e2 + (a negative similarity weighs nothing) * e3, at length 1.
    assert blended == pytest.approx(normalise(np.array([1.0, 0.125, 0.0])))
    assert expand(vector, neighbours, np.array([0.5, -0.2])) == pytest.approx(blended)


def test_augmentation_blends_each_row_with_its_k_nearest_other_rows():
    rows = normalise(np.array([[1, 0, 0], [0.9, 0.3, 0], [0.2, 1, 0], [0, 0, 1]], np.float32))

    augmented, positions, similarities = augment_all(rows, np.arange(4), k=2)

    similarity = rows @ rows.T
    for row in range(4):
        others = [j for j in np.argsort(-similarity[row], kind="stable") if j != row][:2]
        assert positions[row].tolist() == others
        assert similarities[row] == pytest.approx(similarity[row, others])
        assert augmented[row] == pytest.approx(
            normalise(rows[row] + (similarity[row, others] ** 3) @ rows[others]), abs=1e-6)


def test_augmentation_in_blocks_equals_one_product(monkeypatch):
    rows = normalise(np.random.default_rng(3).random((50, 16), dtype=np.float32))
    whole, whole_positions, _ = augment_all(rows, np.arange(50), k=4)

    monkeypatch.setattr("search.reranking.BLOCK", 7)
    blocks, positions, _ = augment_all(rows, np.arange(50), k=4)

    # The same neighbours; the sums differ at most in float32 rounding.
    assert [p.tolist() for p in positions] == [p.tolist() for p in whole_positions]
    assert np.allclose(blocks, whole, atol=1e-6)


def reference_ranking_scores(rows, k_augment, k_expand):
    """The two steps written out densely, as in the papers: every query's scores."""
    similarity = rows @ rows.T
    np.fill_diagonal(similarity, -np.inf)
    library = rows
    if k_augment:
        near = np.argsort(-similarity, axis=1, kind="stable")[:, :k_augment]
        weights = np.take_along_axis(similarity, near, 1) ** 3
        library = normalise(rows + np.einsum("nk,nkd->nd", weights, rows[near]))
    queries = library
    if k_expand:
        first = library @ library.T
        np.fill_diagonal(first, -np.inf)
        near = np.argsort(-first, axis=1, kind="stable")[:, :k_expand]
        weights = np.clip(np.take_along_axis(first, near, 1), 0, None) ** 3
        queries = normalise(library + np.einsum("nk,nkd->nd", weights, library[near]))
    return queries @ library.T


@pytest.mark.parametrize("k_augment, k_expand", [(0, 0), (3, 0), (0, 2), (3, 2)])
def test_evaluation_ranks_as_the_dense_reference_does(k_augment, k_expand):
    rng = np.random.default_rng(7)
    centres = rng.random((4, 32), dtype=np.float32)
    labels = [f"c{n % 4}" for n in range(40)]
    rows = normalise(centres[np.arange(40) % 4] + 0.6 * rng.random((40, 32), dtype=np.float32))

    ranking = evaluate_ranking(rows, labels, reranking=Reranking(k_augment, k_expand),
                               cutoffs=(1,))

    expected = reference_ranking_scores(rows, k_augment, k_expand)
    np.fill_diagonal(expected, -np.inf)
    top1 = expected.argmax(axis=1)
    assert ranking.precision_at[1] == pytest.approx(
        np.mean([labels[j] == labels[i] for i, j in enumerate(top1)]))


def test_re_ranking_names_and_the_settings_that_switch_it(settings):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    settings.SEARCH_QUERY_EXPANSION, settings.SEARCH_EXPANSION_NEIGHBOURS = False, 3

    configured = Reranking.configured(settings)

    assert configured == Reranking(augment_neighbours=4, expand_neighbours=0)
    assert configured.name == "augmentation (k=4)"
    assert Reranking(4, 3).name == "augmentation (k=4) + query expansion (k=3)"
    assert Reranking().name == "none"
