"""Pairs found by the feature worker as vectors arrive: after any adds and deletes they are
exactly the pairs a comparison of every vector from scratch gives, and groups follow."""

import io

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage
from PIL import PngImagePlugin

from duplicates.models import DuplicatePair
from duplicates.selectors import duplicate_grouping
from features.extractors.loader import get_extractor
from features.jobs.worker import Worker
from features.models import FeatureVector
from gallery.services import image_create, images_delete
from tests.helpers import (STORED_TOLERANCE, fingerprint, library_image, run_stage,
                           sqlite_plan, unit)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def near(base: np.ndarray, seed: int, distance: float) -> np.ndarray:
    """A unit vector about ``1 / sqrt(1 + distance**2)`` alike to ``base``."""
    vector = base + distance * unit(seed, base.size)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def add(vectors: dict[int, np.ndarray]) -> dict[int, object]:
    return {n: library_image((n % 256, n // 256, 3), vector=vector)
            for n, vector in vectors.items()}


def library_vectors(count: int, seed: int = 0) -> dict[int, np.ndarray]:
    """Clusters of one to four vectors: close within (0.89-0.99), far between."""
    rng = np.random.default_rng(seed)
    vectors, n = {}, 0
    while n < count:
        base = unit(5000 + n)
        for member in range(rng.integers(1, 5)):
            vectors[n] = base if member == 0 else near(base, 9000 + n, rng.uniform(0.1, 0.5))
            n += 1
    return {n: vector for n, vector in vectors.items() if n < count}


def stored_pairs() -> dict[tuple[int, int], float]:
    return {(a, b): s for a, b, s in DuplicatePair.objects.values_list(
        "first_image_id", "second_image_id", "similarity")}


def pairs_from_scratch(floor: float = 0.80) -> dict[tuple[int, int], float]:
    rows = list(FeatureVector.objects.filter(extractor=fingerprint()).order_by("id"))
    matrix = np.stack([row.vector for row in rows])
    scores = matrix @ matrix.T
    return {(rows[i].image_id, rows[j].image_id): min(1.0, float(scores[i, j]))
            for i in range(len(rows)) for j in range(i + 1, len(rows)) if scores[i, j] >= floor}


def assert_equals_from_scratch():
    stored, expected = stored_pairs(), pairs_from_scratch()
    assert sorted(stored) == sorted(expected)
    assert [stored[pair] for pair in sorted(stored)] == pytest.approx(
        [expected[pair] for pair in sorted(stored)], abs=STORED_TOLERANCE)


def test_adds_and_deletes_leave_the_pairs_a_comparison_from_scratch_gives():
    vectors = library_vectors(40)
    images = add({n: v for n, v in vectors.items() if n < 30})
    run_stage("duplicates")
    assert stored_pairs(), "the clusters make pairs"
    assert_equals_from_scratch()

    images.update(add({n: v for n, v in vectors.items() if n >= 30}))
    run_stage("duplicates")
    assert_equals_from_scratch()

    images_delete(images=[images[0], images[1], images[33]])
    # Nothing to redo for deletes: the pairs went with the images.
    assert_equals_from_scratch()
    images.update(add({100 + n: near(vectors[2], 7000 + n, 0.2) for n in range(3)}))
    run_stage("duplicates")
    assert_equals_from_scratch()


def test_a_busy_worker_step_compares_a_bounded_number_and_the_idle_one_the_rest(monkeypatch):
    monkeypatch.setattr("duplicates.finding.BATCH", 4)
    add(library_vectors(12))
    assert run_stage("duplicates", budget_seconds=0) == 4
    assert run_stage("duplicates") == 8
    assert_equals_from_scratch()


def test_a_backlog_is_compared_in_larger_batches_with_the_same_pairs(monkeypatch):
    monkeypatch.setattr("duplicates.finding.BATCH", 4)
    monkeypatch.setattr("duplicates.finding.BACKLOG_BATCH", 10)
    monkeypatch.setattr("duplicates.finding.IDS_AT_ONCE", 3)
    add(library_vectors(25))
    # 25 waiting: two backlog batches of 10, then the 5 left four and one at a time.
    assert [run_stage("duplicates", budget_seconds=0) for _ in range(5)] == [10, 10, 4, 1, 0]
    assert_equals_from_scratch()


def test_groups_are_transitive_and_follow_the_threshold():
    # Three vectors in one plane: b at 0.95 from a, c at 0.92 from b on the far side.
    x, y = unit(1), unit(2)
    y = (y - (y @ x) * x) / np.linalg.norm(y - (y @ x) * x)
    first, second = np.arccos(0.95), np.arccos(0.92)
    a, b, c = (np.cos(angle) * x + np.sin(angle) * y for angle in (0, first, first + second))
    images = add({0: a, 1: b, 2: c, 3: unit(4)})
    run_stage("duplicates")
    ab, bc, ac = (float(x @ y) for x, y in ((a, b), (b, c), (a, c)))
    assert ab > 0.9 and bc > 0.9 and ac < 0.9  # a and c are joined only through b

    grouped = duplicate_grouping(threshold=0.90).groups
    assert [(g.image_ids, g.similarity) for g in grouped] == [
        ((images[0].pk, images[1].pk, images[2].pk), pytest.approx(max(ab, bc), abs=STORED_TOLERANCE))]
    assert duplicate_grouping(threshold=round(max(ab, bc), 4) + 0.0001).groups == []
    assert [g.image_ids for g in duplicate_grouping(threshold=min(ab, bc) + 0.0001).groups] == [
        tuple(sorted((images[0].pk, images[1].pk) if ab > bc else (images[1].pk, images[2].pk)))]


def picture(seed: int) -> PILImage.Image:
    rng = np.random.default_rng(seed)
    pixels = np.kron(rng.integers(0, 256, (6, 8, 3)), np.ones((8, 8, 1))).astype(np.uint8)
    return PILImage.fromarray(pixels)


def encoded(image: PILImage.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_the_same_pixels_saved_again_are_identical_and_a_recompressed_copy_is_near():
    photo = picture(1)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "saved again with other metadata")
    files = {"photo.png": encoded(photo, "PNG"),
             "copy.png": encoded(photo, "PNG", pnginfo=info),
             "other.png": encoded(picture(2), "PNG")}
    extractor = get_extractor()
    identical = [image_create(name=name, data=data).image for name, data in files.items()]
    brighter = photo.point(lambda value: min(255, value + 12))
    near_copy = image_create(name="near.jpg", data=encoded(brighter, "JPEG", quality=70)).image
    worker = Worker(extractor=extractor, publish=lambda job: None)
    from features.jobs.services import job_start
    job_start(extractor=extractor)
    worker.run_until_idle()
    worker.pool.shutdown(wait=True)

    grouped = duplicate_grouping(threshold=0.995).groups
    assert [(g.image_ids, g.tier) for g in grouped] == [
        ((identical[0].pk, identical[1].pk), "identical")]
    grouped = duplicate_grouping(threshold=0.90).groups
    assert [(g.image_ids, g.tier) for g in grouped] == [
        ((identical[0].pk, identical[1].pk, near_copy.pk), "near-duplicate")]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_once_caught_up_a_pass_looks_for_new_vectors_only_among_those_the_log_names():
    # At a million vectors, asking every vector whether it was compared took a second,
    # after every batch the worker saved.
    vectors = library_vectors(30)
    add({n: v for n, v in vectors.items() if n < 20})
    run_stage("duplicates")
    add({n: v for n, v in vectors.items() if n >= 20})

    with CaptureQueriesContext(connection) as queries:
        assert run_stage("duplicates") == 10

    assert_equals_from_scratch()
    asks = [q["sql"] for q in queries.captured_queries
            if "duplicates_duplicatescan" in q["sql"] and "NOT EXISTS" in q["sql"]]
    assert len(asks) == 2  # the pass that found the ten, and the one that found none
    for sql in asks:
        plan = sqlite_plan(sql)
        # Each vector the log names is probed by its id; the log is read by a range.
        assert any("features_featurevector" in step and "rowid=?" in step
                   for step in plan), plan
        assert any("rowid>?" in step for step in plan), plan


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_pairs_stored_already_are_looked_up_through_the_pairs_index():
    # A pass skips the pairs another pass stored (their thumbnails are not matched
    # again); a library holds millions of pairs, and the lookup must not read them all.
    vectors = library_vectors(20)
    add(vectors)
    run_stage("duplicates")
    add({100: near(vectors[0], 7000, 0.45)})  # in doubt: its thumbnails would be matched

    with CaptureQueriesContext(connection) as queries:
        assert run_stage("duplicates") == 1

    assert_equals_from_scratch()
    asks = [q["sql"] for q in queries.captured_queries if "IN (VALUES" in q["sql"]]
    assert len(asks) == 1
    plan = sqlite_plan(asks[0])
    assert any("duplicates_duplicatepair" in step and "first_id=?" in step
               for step in plan), plan


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_new_vectors_are_found_after_the_log_was_pruned_past_the_last_pass():
    from search.models import VectorChange

    vectors = library_vectors(30)
    add({n: v for n, v in vectors.items() if n < 20})
    run_stage("duplicates")
    add({n: v for n, v in vectors.items() if n >= 20})
    # Every reader applied the new vectors: the log keeps only its newest entry.
    VectorChange.objects.filter(id__lt=VectorChange.objects.order_by("-id").first().id).delete()

    assert run_stage("duplicates") == 10
    assert_equals_from_scratch()
