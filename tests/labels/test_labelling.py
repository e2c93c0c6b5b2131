"""Labels stored as rows and kept in step with the vectors by the feature worker."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from features.extractors.loader import get_extractor
from features.jobs.worker import Worker
from features.models import FeatureVector
from gallery.services import images_delete
from labels.models import ImageLabel
from tests.helpers import (
    LABEL_CLASSES,
    add_vector,
    class_vector,
    library_image,
    make_image_bytes,
    run_stage,
    sqlite_plan,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def stored(image):
    return [(label.name, round(label.score, 3)) for label in ImageLabel.objects.filter(image=image)]


def names(image):
    return [name for name, _ in stored(image)]


def test_each_image_gets_its_top_labels_with_scores_best_first(tiny_head):
    sandal = library_image((1, 2, 3), vector=class_vector(0, mix=1))
    cat = library_image((4, 5, 6), vector=class_vector(3))

    assert run_stage("labels") == 2

    assert names(sandal)[:2] == ["sandal", "running shoe"]
    assert names(cat)[0] == "tabby"
    scores = list(ImageLabel.objects.filter(image=sandal).values_list("score", flat=True))
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] < scores[0] <= 1
    assert len(stored(sandal)) == 3  # LABEL_TOP_K
    row = ImageLabel.objects.get(image=sandal, rank=0)
    assert (row.wnid, row.extractor) == ("n04133789", get_extractor().fingerprint)


def test_a_refresh_with_nothing_new_labels_nothing(tiny_head, django_assert_max_num_queries):
    library_image((1, 2, 3), vector=class_vector(0))
    assert run_stage("labels") == 1

    with django_assert_max_num_queries(3):
        assert run_stage("labels") == 0


def test_without_a_classifier_nothing_is_labelled(settings):
    settings.LABEL_HEAD_WEIGHTS = "off"
    library_image((1, 2, 3), vector=class_vector(0))

    assert run_stage("labels") == 0
    assert not ImageLabel.objects.exists()


def test_a_classifier_for_other_vectors_labels_nothing(tiny_head, tmp_path, settings):
    import numpy as np

    np.savez(tmp_path / "wide.npz", kernel=np.ones((2048, 5), np.float32),
             bias=np.zeros(5, np.float32))
    settings.LABEL_HEAD_WEIGHTS = str(tmp_path / "wide.npz")
    library_image((1, 2, 3), vector=class_vector(0))

    assert run_stage("labels") == 0
    assert not ImageLabel.objects.exists()


def test_a_missing_classifier_file_labels_nothing_and_says_why(settings, caplog):
    settings.LABEL_HEAD_WEIGHTS = "/nowhere/head.npz"
    settings.LABEL_CLASS_INDEX = "/nowhere/classes.json"
    library_image((1, 2, 3), vector=class_vector(0))

    assert run_stage("labels") == 0
    assert "could not be loaded" in caplog.text


def test_a_new_vector_of_an_image_relabels_it(tiny_head):
    image = library_image((1, 2, 3), vector=class_vector(0))
    run_stage("labels")
    FeatureVector.objects.filter(image=image).delete()
    add_vector(image, class_vector(2))

    run_stage("labels")

    assert names(image)[0] == "jersey"


def test_deleting_an_image_to_the_trash_deletes_its_labels(tiny_head):
    keep = library_image((1, 2, 3), vector=class_vector(0))
    gone = library_image((4, 5, 6), vector=class_vector(3))
    run_stage("labels")

    images_delete(images=[gone])

    assert ImageLabel.objects.filter(image_id=gone.pk).count() == 0
    assert names(keep)[0] == "sandal"


def test_a_large_library_is_labelled_in_bounded_passes(tiny_head, monkeypatch):
    from labels import services

    monkeypatch.setattr(services, "BATCH", 4)
    images = [library_image((n, 7, 7), vector=class_vector(n % 4)) for n in range(10)]

    assert run_stage("labels", budget_seconds=0) == 4  # one pass, then the budget is spent
    assert run_stage("labels") == 6
    assert all(names(image)[0] == ["sandal", "running shoe", "jersey", "tabby"][n % 4]
               for n, image in enumerate(images))


def test_another_classifier_relabels_everything_and_old_labels_go(tiny_head, tmp_path, settings):
    import json

    image = library_image((1, 2, 3), vector=class_vector(0))
    unvectored = library_image((4, 5, 6), vector=class_vector(3))
    run_stage("labels")
    # Its vector is gone (say, the extractor could not read it again): its labels go too.
    FeatureVector.objects.filter(image=unvectored).delete()
    renamed = json.loads((tmp_path / "classes.json").read_text())
    renamed["0"] = ["n04133789", "sandal_renamed"]
    (tmp_path / "renamed.json").write_text(json.dumps(renamed))
    settings.LABEL_CLASS_INDEX = str(tmp_path / "renamed.json")

    run_stage("labels")

    assert names(image)[0] == "sandal renamed"
    assert not ImageLabel.objects.filter(image=unvectored).exists()


def test_the_worker_labels_uploads_and_an_existing_library(api_client, tiny_head):
    # An existing library: a vector stored before labels existed.
    existing = library_image((9, 9, 9), vector=class_vector(3))
    response = api_client.post("/api/v1/images/", {"file": _named(
        make_image_bytes("PNG", color=(200, 10, 10)), "red.png")}, format="multipart")
    assert response.status_code == 201
    uploaded = response.json()["results"][0]["image"]["id"]
    assert api_client.post("/api/v1/features/jobs/").status_code == 202
    worker = Worker(extractor=get_extractor(), publish=lambda job: None)

    worker.run_until_idle()
    worker.pool.shutdown(wait=True)

    assert names(existing)[0] == "tabby"
    assert len(names(uploaded)) == 3  # the fake extractor's vector, labelled by the tiny head


def _named(data: bytes, name: str):
    import io

    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_a_class_index_that_does_not_fit_the_classifier_labels_nothing(tiny_head, tmp_path,
                                                                       settings, caplog):
    (tmp_path / "short.json").write_text('{"0": ["n04133789", "sandal"]}')
    settings.LABEL_CLASS_INDEX = str(tmp_path / "short.json")
    library_image((1, 2, 3), vector=class_vector(0))

    assert run_stage("labels") == 0
    assert f"the class index must name classes 0 to {len(LABEL_CLASSES) - 1}" in caplog.text


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_vectors_left_to_label_are_found_from_indexes_alone(tiny_head):
    # At a million vectors, reading every vector's row to ask this took 9 s a pass.
    library_image((1, 2, 3), vector=class_vector(0))

    with CaptureQueriesContext(connection) as queries:
        assert run_stage("labels") == 1

    asks = [query["sql"] for query in queries.captured_queries
            if "NOT EXISTS" in query["sql"]
            and 'FROM "features_featurevector" WHERE' in query["sql"]]
    assert asks
    for sql in asks:
        plan = sqlite_plan(sql)
        assert any("features_featurevector USING COVERING INDEX" in step for step in plan), plan
        assert any("INDEX label_vector" in step for step in plan), plan


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_once_caught_up_only_the_vectors_the_log_names_are_looked_at(tiny_head):
    # Asking every vector whether it has labels, and every label whether its vector is
    # there, took seconds at a million, after every batch the worker saved.
    lost = library_image((1, 2, 3), vector=class_vector(0))
    run_stage("labels")
    FeatureVector.objects.filter(image=lost).delete()  # its labels are stale now
    new = library_image((4, 5, 6), vector=class_vector(3))

    with CaptureQueriesContext(connection) as queries:
        assert run_stage("labels") == 1

    assert names(new)[0] == "tabby" and names(lost) == []
    asks = [query["sql"] for query in queries.captured_queries if "NOT EXISTS" in query["sql"]]
    assert len(asks) == 3  # labels waiting (found one, then none), labels stale
    for sql in asks:
        plan = sqlite_plan(sql)
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert any("rowid>?" in step for step in plan), plan  # the log, from the last pass


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_after_a_start_the_read_ahead_spares_the_first_pass_a_look_at_every_vector(tiny_head):
    # A worker's start looks at every vector and label once, off its thread
    # (features.jobs.stages.stages_warm), not in the first pass after its first batch.
    from features.jobs.stages import stages_forget
    from labels.services import labels_warm

    library_image((1, 2, 3), vector=class_vector(0))
    run_stage("labels")
    stages_forget()  # the worker stops and starts again
    labels_warm(get_extractor().fingerprint)
    new = library_image((4, 5, 6), vector=class_vector(3))

    with CaptureQueriesContext(connection) as queries:
        assert run_stage("labels") == 1

    assert names(new)[0] == "tabby"
    asks = [query["sql"] for query in queries.captured_queries if "NOT EXISTS" in query["sql"]]
    assert asks and all(any("rowid>?" in step for step in sqlite_plan(sql)) for sql in asks)
