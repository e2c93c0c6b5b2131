"""Database-side augmentation kept by the worker: after any adds and deletes the stored
augmented vectors and neighbour links equal a recomputation from scratch."""

import io

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from features.extractors.loader import get_extractor
from features.jobs.worker import Worker
from features.models import FeatureVector
from gallery.services import images_delete
from search.models import NeighbourLink, VectorChange
from search.reranking import augment_all
from tests.helpers import (
    STORED_TOLERANCE,
    add_vector,
    fingerprint,
    library_image,
    make_image_bytes,
    run_stage,
    sqlite_plan,
    unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def augmentation_on(settings):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4


def clustered(seed: int, dim: int = 192) -> np.ndarray:
    """Vectors around eight centres, so neighbours mean something (and do not tie)."""
    centre = unit(1000 + seed % 8, dim) * 3
    vector = centre + unit(seed, dim)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def add(seeds):
    return [library_image((seed % 256, seed // 256, 7), vector=clustered(seed)) for seed in seeds]


def stored_state():
    """Per vector id: its augmented vector and its links (neighbour id, similarity) best first."""
    rows = FeatureVector.objects.filter(extractor=fingerprint()).order_by("id")
    links = {}
    for owner, neighbour, similarity in (NeighbourLink.objects.order_by("owner_id", "-similarity",
                                                                         "neighbour_id")
                                         .values_list("owner_id", "neighbour_id", "similarity")):
        links.setdefault(owner, []).append((neighbour, similarity))
    return {row.pk: (row.augmented, links.get(row.pk, [])) for row in rows}


def assert_equals_recomputation():
    rows = list(FeatureVector.objects.filter(extractor=fingerprint()).order_by("id"))
    ids = np.array([row.pk for row in rows])
    augmented, positions, similarities = augment_all(np.stack([row.vector for row in rows]), ids,
                                                     k=4)
    state = stored_state()
    assert sorted(state) == ids.tolist()
    for row, expected, found, scores in zip(rows, augmented, positions, similarities):
        stored, links = state[row.pk]
        assert stored is not None, f"vector {row.pk} has no augmented vector"
        assert [n for n, _ in links] == ids[found].tolist(), f"neighbours of {row.pk}"
        assert [s for _, s in links] == pytest.approx(scores.tolist(), abs=STORED_TOLERANCE)
        assert np.allclose(stored, expected, atol=STORED_TOLERANCE)


def test_adds_and_deletes_leave_what_a_recomputation_from_scratch_gives():
    images = add(range(30))
    run_stage("augmentation")
    assert_equals_recomputation()

    more = add(range(30, 36))
    run_stage("augmentation")
    assert_equals_recomputation()

    # Deleting images whose vectors are others' neighbours (every vector is someone's).
    images_delete(images=[images[0], images[3], more[1], images[17]])
    run_stage("augmentation")
    assert_equals_recomputation()

    # Both at once, and an image whose vector was made again (a new row).
    images_delete(images=[images[5], more[4]])
    add(range(40, 43))
    FeatureVector.objects.filter(image=images[9]).delete()
    add_vector(images[9], clustered(77))
    run_stage("augmentation")
    assert_equals_recomputation()


def test_a_new_image_re_blends_only_the_rows_whose_neighbours_it_changes():
    add(range(40))
    assert run_stage("augmentation") == 40

    add([40])

    # Itself and the few rows it is now one of the 4 nearest of: not the whole library.
    assert 1 < run_stage("augmentation") < 12
    assert_equals_recomputation()


def test_a_large_first_build_goes_in_bounded_passes_and_ends_the_same(monkeypatch):
    monkeypatch.setattr("search.augmentation.BATCH", 7)
    add(range(25))

    run_stage("augmentation")

    assert_equals_recomputation()


def test_a_pass_with_nothing_changed_does_nothing():
    add(range(10))
    run_stage("augmentation")

    assert run_stage("augmentation") == 0


def test_a_library_of_one_image_is_its_own_augmentation():
    image = add([3])[0]

    run_stage("augmentation")

    row = FeatureVector.objects.get(image=image)
    assert np.allclose(row.augmented, row.vector, atol=STORED_TOLERANCE)
    assert NeighbourLink.objects.count() == 0


def test_other_extractors_vectors_are_left_alone():
    image = add([1])[0]
    other = add_vector(image, unit(5, 48), extractor="another-extractor")
    add(range(2, 8))

    run_stage("augmentation")

    other.refresh_from_db()
    assert other.augmented is None
    assert_equals_recomputation()


def test_turning_it_off_clears_the_augmented_vectors_and_a_new_k_remakes_them(settings):
    add(range(12))
    run_stage("augmentation")

    settings.SEARCH_AUGMENT = False
    run_stage("augmentation")
    assert not FeatureVector.objects.filter(augmented__isnull=False).exists()
    assert NeighbourLink.objects.count() == 0

    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 2
    run_stage("augmentation")
    assert NeighbourLink.objects.count() == 12 * 2
    settings.SEARCH_AUGMENT_NEIGHBOURS = 4
    run_stage("augmentation")
    assert_equals_recomputation()


def test_the_worker_keeps_it_after_uploads_and_a_delete_never_the_request(api_client):
    files = {f"photo{n}.png": make_image_bytes("PNG", color=(30 * n, 200 - 20 * n, 90))
             for n in range(8)}
    for name, data in files.items():
        response = api_client.post("/api/v1/images/", {"file": _named(data, name)},
                                   format="multipart")
        assert response.status_code == 201
    assert api_client.post("/api/v1/features/jobs/").status_code == 202
    worker = Worker(extractor=get_extractor(), publish=lambda job: None)

    worker.run_until_idle()
    assert_equals_recomputation()

    victim = FeatureVector.objects.order_by("id").first()
    response = api_client.delete(f"/api/v1/images/{victim.image_id}/")
    assert response.status_code == 204
    # The request only deleted: its former neighbours still hold it, until the worker runs.
    assert NeighbourLink.objects.filter(neighbour_id=victim.pk).exists()
    worker.run_until_idle()
    assert not NeighbourLink.objects.filter(neighbour_id=victim.pk).exists()
    assert_equals_recomputation()
    worker.pool.shutdown(wait=True)


def _named(data, name):
    file = io.BytesIO(data)
    file.name = name
    return file


def test_a_pass_after_the_change_log_was_pruned_still_re_blends_around_deleted_vectors():
    images = add(range(20))
    run_stage("augmentation")
    images_delete(images=[images[2], images[11]])
    # Every reader applied the deletes meanwhile: the log keeps only its newest entry.
    VectorChange.objects.filter(id__lt=VectorChange.objects.order_by("-id").first().id).delete()

    run_stage("augmentation")

    assert_equals_recomputation()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_pass_looks_for_deleted_neighbours_among_the_links_to_changed_vectors_only():
    images = add(range(20))
    run_stage("augmentation")
    images_delete(images=[images[4]])

    with CaptureQueriesContext(connection) as queries:
        run_stage("augmentation")

    assert_equals_recomputation()
    looked = [q["sql"] for q in queries.captured_queries
              if "search_neighbourlink" in q["sql"] and "NOT EXISTS" in q["sql"]]
    assert looked
    for sql in looked:  # each pass's
        plan = sqlite_plan(sql)
        # The links are found through their neighbour's index, from the log's few entries.
        assert not any(step.startswith("SCAN") and "search_neighbourlink" in step
                       for step in plan), plan
        assert any("search_neighbourlink" in step and "neighbour_id" in step
                   for step in plan), plan


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_vectors_left_to_blend_are_found_in_their_own_small_index():
    # At a million vectors, reading every vector's row to ask this took 0.8 s a pass.
    add(range(6))

    with CaptureQueriesContext(connection) as queries:
        run_stage("augmentation")

    asks = [q["sql"] for q in queries.captured_queries
            if '"features_featurevector"."augmented" IS NULL' in q["sql"] and "LIMIT" in q["sql"]]
    assert asks
    for sql in asks:
        plan = sqlite_plan(sql)
        assert any("INDEX vector_unaugmented" in step for step in plan), plan


def limits_reads(queries) -> int:
    return sum(1 for q in queries.captured_queries
               if "search_neighbourlink" in q["sql"] and "GROUP BY" in q["sql"])


def test_a_process_reads_every_rows_limit_only_when_another_process_passed_since():
    from search.models import AugmentationState

    add(range(24))
    run_stage("augmentation")
    add([100])
    run_stage("augmentation")  # the first passes read them

    add([101])
    with CaptureQueriesContext(connection) as mine:
        run_stage("augmentation")
    assert limits_reads(mine) == 0
    assert_equals_recomputation()

    # Another process passes: its generation is not the one this process saw.
    AugmentationState.objects.update(generation="another-process-pass")
    add([102])
    with CaptureQueriesContext(connection) as after_another:
        run_stage("augmentation")
    assert limits_reads(after_another) == 1
    assert_equals_recomputation()


def test_the_limits_kept_through_passes_are_those_read_from_the_links():
    # What a process keeps of every row's k-th similarity after its own passes is what a
    # process started now reads from the links (a row with fewer than k: none, -inf).
    from search import augmentation
    from search.models import AugmentationState

    images = add(range(3))
    run_stage("augmentation")
    for start in (3, 20, 41):
        images += add(range(start, start + 17))
        run_stage("augmentation")
    images_delete(images=[images[5], images[30]])
    add([200])
    run_stage("augmentation")

    kept = augmentation._limits[fingerprint()]
    state = AugmentationState.objects.get(extractor=fingerprint())
    read = augmentation._limits_read(state, 4)
    assert read.owners.tolist() == sorted(FeatureVector.objects.filter(
        extractor=fingerprint()).values_list("id", flat=True))
    assert len(read.owners) == 53 and np.isfinite(read.limits).all()  # each has 4 nearest
    assert kept.owners[np.isin(kept.owners, read.owners)].tolist() == read.owners.tolist()
    np.testing.assert_allclose(kept.limits[np.isin(kept.owners, read.owners)], read.limits,
                               atol=1e-6)


def test_rows_with_fewer_than_k_neighbours_read_as_reached_by_any_new_row():
    # Three images, four neighbours asked: each row has two, so any new image may change
    # it (its limit reads -inf), and one added next is blended into all of them.
    from search import augmentation
    from search.models import AugmentationState

    add(range(3))
    run_stage("augmentation")
    state = AugmentationState.objects.get(extractor=fingerprint())
    read = augmentation._limits_read(state, 4)
    assert len(read.owners) == 3 and np.isneginf(read.limits).all()

    augmentation._limits.clear()  # as a process started now
    new = add([3])[0]
    run_stage("augmentation")
    new_vector = FeatureVector.objects.get(image=new).pk
    assert NeighbourLink.objects.filter(neighbour_id=new_vector).count() == 3
    assert_equals_recomputation()
