"""The worker's neighbour queries through the approximate index: augmentation's blended
vectors and the duplicate pairs equal what exact search gives, from a snapshot of the
plain vectors plus the rows written since, without the exact plain matrix."""

import json

import numpy as np
import pytest

import search.index
from duplicates import finding
from duplicates.models import DuplicatePair
from features.models import FeatureVector
from gallery.models import Image
from search.index import approximate as approximate_index
from search.index import bounds, neighbours
from search.index.refresh import snapshot_refresh
from search.index.snapshot import snapshot_folder
from search.models import NeighbourLink
from search.reranking import augment_all
from tests.helpers import (approximate_index_serving, clustered_unit_vectors, fingerprint,
                           images_with_vectors, run_stage)

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots_folder(tmp_path):
    return tmp_path / "index"


@pytest.fixture(autouse=True)
def approximate(settings, tmp_path, monkeypatch):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    # Each query looks for a newer snapshot (not once a second).
    monkeypatch.setattr(approximate_index, "LOOK_EVERY", 0.0)

    def exact_plain_index():
        raise AssertionError("the exact plain matrix was loaded")

    # Where the approximate index serves, the worker never holds every plain vector.
    monkeypatch.setattr(search.index, "get_plain_index", exact_plain_index)
    with approximate_index_serving(settings, tmp_path / "index"):
        yield


def plain_library() -> tuple[list[int], np.ndarray]:
    """Vector ids in id order and their unit vectors (float32, as stored)."""
    rows = list(FeatureVector.objects.filter(extractor=fingerprint()).order_by("id")
                .values_list("id", "vector"))
    matrix = np.stack([vector for _, vector in rows]).astype(np.float32)
    return [key for key, _ in rows], matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def plain_index():
    from search.index import _plain_approximate

    return _plain_approximate()


# 1024-d vectors are projected on their principal directions before their codes are made
# (search/index/refresh.py), shorter ones are not.
LENGTHS = pytest.mark.parametrize("dim", [128, 1024])


def assert_augmentation_from_scratch():
    """The stored links and augmented vectors are those a recomputation from scratch gives."""
    keys, matrix = plain_library()
    augmented, positions, _ = augment_all(matrix, np.asarray(keys), 4)
    stored = dict(FeatureVector.objects.filter(extractor=fingerprint())
                  .values_list("id", "augmented"))
    links = {}
    for owner, neighbour in NeighbourLink.objects.values_list("owner_id", "neighbour_id"):
        links.setdefault(owner, set()).add(neighbour)
    for key, found in zip(keys, positions):
        assert links[key] == {keys[p] for p in found}, key
    # As stored: at half precision.
    assert np.abs(np.stack([stored[key] for key in keys]) - augmented).max() < 1e-3
    return keys


@LENGTHS
def test_augmentation_through_the_snapshot_equals_a_recomputation_from_scratch(dim):
    vectors = clustered_unit_vectors(2200, dim, seed=5)
    first = images_with_vectors(vectors[:2000])
    run_stage("augmentation")  # every row augmented (no plain snapshot yet: exactly)
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    # Written since the snapshot: new images (in the index's delta) and deletes.
    images_with_vectors(vectors[2000:])
    Image.objects.filter(pk__in=first[:40]).delete()

    assert run_stage("augmentation") > 200

    keys = assert_augmentation_from_scratch()
    index = plain_index()
    assert index.snapshot_generation == 1
    assert index.delta.size < len(keys)


@LENGTHS
def test_batches_after_the_snapshot_change_the_neighbours_of_rows_written_since(settings, dim):
    # Uploads arrive in batches: rows augmented after the snapshot (held by the delta) get
    # new nearest neighbours from later batches, as snapshot rows do.
    vectors = clustered_unit_vectors(2300, dim, seed=12)
    images_with_vectors(vectors[:2000])
    run_stage("augmentation")
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    for start in range(2000, 2300, 50):
        images_with_vectors(vectors[start:start + 50])
        assert run_stage("augmentation") >= 50
    assert_augmentation_from_scratch()
    index = plain_index()
    assert index.snapshot_generation == 1 and index.delta.size >= 300


@LENGTHS
def test_duplicate_pairs_through_the_snapshot_are_those_exact_search_finds(settings, monkeypatch,
                                                                          dim):
    settings.DUPLICATE_FLOOR, settings.DUPLICATE_THRESHOLD = 0.98, 0.99
    # The vectors alone decide here (these images have no files to match).
    monkeypatch.setattr(finding, "_matches", lambda pairs: {})
    monkeypatch.setattr(finding, "_digest_images", lambda images: None)
    vectors = clustered_unit_vectors(2200, dim, seed=6)
    first = images_with_vectors(vectors[:2000])
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    images_with_vectors(vectors[2000:])
    Image.objects.filter(pk__in=first[:30]).delete()

    while run_stage("duplicates"):
        pass

    keys, matrix = plain_library()
    image_of = dict(FeatureVector.objects.values_list("id", "image_id"))
    scores = matrix @ matrix.T
    first_rows, second_rows = np.nonzero(np.triu(scores >= 0.98, k=1))
    expected = {(image_of[keys[a]], image_of[keys[b]]): float(scores[a, b])
                for a, b in zip(first_rows, second_rows)}
    stored = {(a, b): s for a, b, s in DuplicatePair.objects.values_list(
        "first_image_id", "second_image_id", "similarity")}
    # A pair within float32 rounding of the floor may fall on either side of it.
    on_the_floor = {pair for pair, score in {**expected, **stored}.items()
                    if abs(score - 0.98) < 1e-6}
    stored = {pair: score for pair, score in stored.items() if pair not in on_the_floor}
    expected = {pair: score for pair, score in expected.items() if pair not in on_the_floor}
    assert len(expected) > 2000
    assert sorted(stored) == sorted(expected)
    assert [stored[pair] for pair in sorted(stored)] == pytest.approx(
        [min(1.0, expected[pair]) for pair in sorted(stored)], abs=1e-5)
    assert plain_index().snapshot_generation == 1


@LENGTHS
def test_a_vector_with_more_pairs_than_a_search_takes_gets_every_one_of_them(dim):
    # One burst of 500 near-copies among other photos: each has 499 pairs, far more than
    # the candidates a search re-checks.
    rng = np.random.default_rng(7)
    burst = np.abs(rng.standard_normal(dim)).astype(np.float32) + 0.02 * np.abs(
        rng.standard_normal((500, dim))).astype(np.float32)
    vectors = np.concatenate([clustered_unit_vectors(1500, dim, seed=8),
                              burst / np.linalg.norm(burst, axis=1, keepdims=True)])
    images_with_vectors(vectors)
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    keys, matrix = plain_library()
    asked = keys[1490:1510]  # ten rows outside the burst, ten in it

    with search.index.plain_neighbours(fingerprint()) as plain:
        found = {key: dict(zip(others.tolist(), scores.tolist()))
                 for key, _, others, _, scores in plain.above(asked, 0.9)}

    for key in asked:
        position = keys.index(key)
        scores = matrix @ matrix[position]
        expected = {keys[p]: float(scores[p]) for p in np.flatnonzero(scores >= 0.9)
                    if p != position}
        assert sorted(found[key]) == sorted(expected), key
        assert [found[key][other] for other in sorted(expected)] == pytest.approx(
            [expected[other] for other in sorted(expected)], abs=1e-5)
    assert min(len(found[key]) for key in asked[10:]) >= 499
    assert plain_index().snapshot_generation == 1


def test_each_rows_written_bound_holds_for_every_row_the_lists_return():
    # Projected on their principal directions, 8-bit codes: the score a row gets from its
    # codes is never further from its exact cosine than the snapshot says.
    vectors = clustered_unit_vectors(2000, 1024, seed=9)
    images_with_vectors(vectors)
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    index = plain_index()
    with search.index.plain_neighbours(fingerprint()):
        snapshot = index.snapshot
        assert snapshot.manifest["format"] == 3
        checked = 0
        for row in range(0, 2000, 50):
            query = snapshot.unit_rows([row])[0]
            rows, codes = index.snapshot_within(query, -1.0, probes=10_000)
            exact = snapshot.unit_rows(rows) @ query
            # Scored in place from the half-precision copies: the same cosines.
            assert np.abs(bounds.cosines(snapshot, query, rows) - exact).max() < 1e-5
            gaps = np.abs(exact - codes)
            limits = bounds.code_error(snapshot, query, rows)
            assert (gaps <= limits).all()
            assert limits.max() <= bounds.code_error(snapshot, query)
            checked += len(rows)
    assert checked == 40 * 2000
    # Tight enough to spare the re-reading: well under the constant margin.
    assert np.median(limits) < neighbours.CODE_ERROR / 2


def test_a_snapshot_written_before_rows_had_bounds_still_finds_every_pair(snapshots_folder):
    vectors = clustered_unit_vectors(2000, 1024, seed=10)
    images_with_vectors(vectors)
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    # As the previous format wrote it: no error file, no bounds in the manifest.
    where = snapshot_folder(snapshots_folder, extractor=fingerprint(), column="vector")
    manifest_path = where / "manifest-00000001.json"
    manifest = json.loads(manifest_path.read_text())
    (where / manifest["names"].pop("error")).unlink()
    manifest["files"] = {name: size for name, size in manifest["files"].items()
                         if name in manifest["names"].values()}
    manifest.update(format=2)
    del manifest["error_most"]
    manifest_path.write_text(json.dumps(manifest))
    keys, matrix = plain_library()
    asked = keys[::100]

    with search.index.plain_neighbours(fingerprint()) as plain:
        found = {key: sorted(others.tolist()) for key, _, others, _, _ in plain.above(asked, 0.9)}
        assert plain.index.snapshot.errors is None

    for key in asked:
        position = keys.index(key)
        assert found[key] == [keys[p] for p in np.flatnonzero(matrix @ matrix[position] >= 0.9)
                              if p != position], key
    assert sum(map(len, found.values())) > 50


@LENGTHS
def test_many_vectors_asked_at_once_get_the_pairs_each_would_get_alone(dim):
    # A backlog (a library embedded before duplicates existed) is asked in one batch, and
    # the snapshot's lists are joined with all of it: the same pairs as one by one, and as
    # exact search, deletes and rows written since the snapshot included.
    vectors = clustered_unit_vectors(2300, dim, seed=11)
    first = images_with_vectors(vectors[:2000])
    assert snapshot_refresh(extractor=fingerprint(), column="vector", force=True) == 2000
    images_with_vectors(vectors[2000:])
    Image.objects.filter(pk__in=first[:25]).delete()
    keys, matrix = plain_library()
    asked = keys[::4]
    assert len(asked) >= neighbours.JOIN_AT

    with search.index.plain_neighbours(fingerprint()) as plain:
        together = {key: dict(zip(others.tolist(), scores.tolist()))
                    for key, _, others, _, scores in plain.above(asked, 0.95)}
        alone = {key: sorted(others.tolist()) for key in asked
                 for _, _, others, _, _ in plain.above([key], 0.95)}
        assert plain.index.snapshot.generation == 1

    for key in asked:
        position = keys.index(key)
        scores = matrix @ matrix[position]
        expected = {keys[p]: float(scores[p]) for p in np.flatnonzero(scores >= 0.95)
                    if p != position and abs(scores[p] - 0.95) > 1e-6}
        found = {other: score for other, score in together[key].items()
                 if abs(score - 0.95) > 1e-6}
        assert sorted(found) == sorted(expected), key
        assert [found[other] for other in sorted(expected)] == pytest.approx(
            [expected[other] for other in sorted(expected)], abs=1e-5)
        assert sorted(together[key]) == alone[key], key
    assert sum(map(len, together.values())) > 1000
