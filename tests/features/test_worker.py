"""The worker's steps and loop: every image done once, failures recorded, deletes safe."""

import os
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from features.extractors.loader import get_extractor
from features.jobs import services
from features.jobs.worker import MAX_ATTEMPTS, batch_claim, batch_release, claims_release_dead_local
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector
from gallery.models import Image
from tests.helpers import (
    STORED_TOLERANCE,
    RecordingExtractor,
    make_image_bytes,
    remove_stored,
    replace_stored,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def start_job():
    return services.job_start(extractor=get_extractor())[0]


def test_it_extracts_every_image_once_in_batches(add_image, make_worker, fingerprint):
    images = [add_image(f"photo-{n}.jpg") for n in range(5)]
    job = start_job()
    extractor = RecordingExtractor()
    published = []

    processed = make_worker(extractor=extractor, batch_size=2,
                            publish=lambda j: published.append((j.state, j.done))).run_until_idle()

    job.refresh_from_db()
    assert processed == 5
    assert extractor.batches == [2, 2, 1]
    assert sorted(FeatureVector.objects.filter(extractor=fingerprint)
                  .values_list("image_id", flat=True)) == sorted(i.pk for i in images)
    assert (job.state, job.total, job.done, job.failed) == ("done", 5, 5, 0)
    assert job.started_at and job.finished_at and job.rate > 0
    assert published == [("running", 2), ("running", 4), ("done", 5)]
    assert not FeatureTask.objects.exists()


def test_its_vectors_are_the_extractors_vectors(add_image, make_worker, fingerprint):
    data = make_image_bytes(color=(12, 200, 99))
    image = add_image(data=data)
    start_job()

    make_worker().run_until_idle()

    stored = FeatureVector.objects.get(image=image, extractor=fingerprint)
    assert stored.dim == get_extractor().dim
    assert np.allclose(stored.vector, get_extractor().extract([data])[0], atol=STORED_TOLERANCE)


def test_a_corrupt_image_fails_with_its_reason_and_the_job_goes_on(add_image, make_worker,
                                                                   media_root):
    good = add_image("good.jpg")
    bad = add_image("bad.jpg")
    replace_stored(bad.file.name, b"\xff\xd8\xff garbage, not a JPEG any more")
    job = start_job()

    make_worker().run_until_idle()

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.failed) == ("done", 2, 1, 1)
    assert FeatureVector.objects.filter(image=good).exists()
    failure = FeatureFailure.objects.get()
    assert (failure.image_id, failure.job_id, failure.filename) == (bad.pk, job.pk, bad.filename)
    assert failure.reason == "The file is not an image ImageSim can read."


def test_a_missing_file_fails_that_image_only(add_image, make_worker, media_root):
    add_image("kept.jpg")
    gone = add_image("gone.jpg")
    remove_stored(gone.file.name)
    job = start_job()

    make_worker().run_until_idle()

    job.refresh_from_db()
    assert (job.done, job.failed) == (1, 1)
    assert FeatureFailure.objects.get().reason == "The image file is missing from storage."


def test_an_unreadable_file_fails_without_its_path_in_the_reason(caplog):
    from features.extraction import prepare

    def read():
        raise PermissionError(13, "Permission denied", "/srv/imagesim/media/images/a.jpg")

    prepared = prepare(7, read, get_extractor())

    assert prepared.reason == "The image file cannot be read from storage."
    assert "/srv/imagesim/media/images/a.jpg" in caplog.text


def test_a_new_job_tries_failed_images_again(add_image, make_worker, media_root):
    image = add_image("flaky.jpg")
    good_bytes = image.file.read()
    replace_stored(image.file.name, b"broken")
    start_job()
    make_worker().run_until_idle()
    replace_stored(image.file.name, good_bytes)

    job = start_job()
    make_worker().run_until_idle()

    job.refresh_from_db()
    assert (job.total, job.done, job.failed) == (1, 1, 0)
    assert not FeatureFailure.objects.exists()


def test_deleting_an_image_mid_job_shrinks_the_job(add_image, make_worker):
    images = [add_image(f"photo-{n}.jpg") for n in range(4)]
    job = start_job()
    worker = make_worker(batch_size=2)
    claimed = worker.claim()
    queued = [i for i in images if i.pk not in {c.image_id for c in claimed}]
    Image.objects.filter(pk=claimed[0].image_id).delete()  # deleted while in the worker's hands
    Image.objects.filter(pk=queued[0].pk).delete()  # deleted while still queued
    batch_release(worker=worker.name, claimed=claimed)

    worker.run_until_idle()

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.failed) == ("done", 2, 2, 0)
    assert FeatureVector.objects.count() == 2


def test_a_batch_saved_after_its_image_was_deleted_stores_nothing_for_it(add_image, make_worker):
    from features.extraction import infer_prepared
    from features.jobs.saving import batch_save
    from features.jobs.worker import image_prepare

    first, second = add_image("a.jpg"), add_image("b.jpg")
    job = start_job()
    worker = make_worker()
    claimed = worker.claim()
    result = infer_prepared([image_prepare(c, worker.extractor) for c in claimed],
                            worker.extractor)
    first.delete()

    (saved,) = batch_save(worker=worker.name, extractor=worker.extractor, claimed=claimed,
                          vectors=result.vectors, failures=result.failures, elapsed=0.1)

    assert list(FeatureVector.objects.values_list("image_id", flat=True)) == [second.pk]
    assert (saved.pk, saved.state, saved.total, saved.done) == (job.pk, "done", 1, 1)


def test_two_claims_never_share_an_image(add_image, fingerprint):
    for n in range(5):
        add_image(f"photo-{n}.jpg")
    start_job()

    first = batch_claim(worker="a", extractor=fingerprint, size=3)
    second = batch_claim(worker="b", extractor=fingerprint, size=3)
    third = batch_claim(worker="c", extractor=fingerprint, size=3)

    assert len(first) == 3 and len(second) == 2 and third == []
    assert not {c.image_id for c in first} & {c.image_id for c in second}


def test_a_dead_workers_claim_is_taken_over_after_the_timeout(add_image, fingerprint, settings):
    add_image()
    start_job()
    (lost,) = batch_claim(worker="dead", extractor=fingerprint, size=5)
    assert batch_claim(worker="alive", extractor=fingerprint, size=5) == []

    FeatureTask.objects.update(
        claimed_at=timezone.now() - timedelta(seconds=settings.FEATURE_CLAIM_TIMEOUT + 1))
    (taken,) = batch_claim(worker="alive", extractor=fingerprint, size=5)

    assert taken.image_id == lost.image_id
    assert FeatureTask.objects.get().claimed_by == "alive"


def test_an_image_that_keeps_killing_workers_is_given_up(add_image, make_worker, fingerprint):
    image = add_image("poison.jpg")
    job = start_job()
    FeatureTask.objects.update(attempts=MAX_ATTEMPTS)

    make_worker().run_until_idle()

    job.refresh_from_db()
    assert (job.done, job.failed) == (0, 1)
    assert FeatureFailure.objects.get(image=image).reason.startswith(
        f"Extraction stopped {MAX_ATTEMPTS} times on this image")


def test_without_a_model_the_job_fails_and_its_images_stay_queued(add_image, make_worker,
                                                                  tmp_path):
    from features.extractors.resnet50 import ResNet50Extractor

    add_image()
    missing = ResNet50Extractor(weights=str(tmp_path / "none.h5"), precision="float32")
    job = services.job_start(extractor=get_extractor())[0]
    FeatureJob.objects.filter(pk=job.pk).update(extractor=missing.fingerprint)
    FeatureTask.objects.update(extractor=missing.fingerprint)

    assert make_worker(extractor=missing).run_until_idle() == 0

    job.refresh_from_db()
    assert job.state == "failed"
    assert "FEATURE_WEIGHTS" in job.error
    task = FeatureTask.objects.get()
    assert (task.claimed_by, task.claimed_at, task.attempts) == ("", None, 0)


def test_a_stopped_worker_gives_its_prefetched_batch_back(add_image, make_worker):
    for n in range(4):
        add_image(f"photo-{n}.jpg")
    job = start_job()
    worker = make_worker(batch_size=2)
    worker.publish = lambda j: worker.stop.set()  # asked to stop after its first batch

    assert worker.run_until_idle() == 2

    job.refresh_from_db()
    assert (job.state, job.done) == ("running", 2)
    assert list(FeatureTask.objects.values_list("claimed_by", flat=True)) == ["", ""]


def test_claims_of_dead_workers_on_this_machine_are_taken_back(add_image, fingerprint):
    import socket
    import subprocess
    import sys

    for n in range(3):
        add_image(f"{n}.jpg")
    start_job()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    batch_claim(worker=f"{host}:{gone.pid}:dead01", extractor=fingerprint, size=1)
    batch_claim(worker=f"{host}:{os.getpid()}:alive1", extractor=fingerprint, size=1)
    batch_claim(worker=f"elsewhere:{gone.pid}:remote", extractor=fingerprint, size=1)

    assert claims_release_dead_local() == 1

    assert sorted(FeatureTask.objects.values_list("claimed_by", flat=True)) == [
        "", f"elsewhere:{gone.pid}:remote", f"{host}:{os.getpid()}:alive1"]


def test_images_left_by_a_failed_job_are_picked_up_by_the_next_worker(add_image, make_worker):
    images = [add_image(f"{n}.jpg") for n in range(2)]
    failed = start_job()
    services.job_fail_active(extractor=failed.extractor, reason="no weights then")

    make_worker().run_until_idle()

    failed.refresh_from_db()
    resumed = FeatureJob.objects.exclude(pk=failed.pk).get()
    assert (failed.state, failed.error) == ("failed", "no weights then")
    assert (resumed.state, resumed.total, resumed.done) == ("done", 2, 2)
    assert FeatureVector.objects.filter(image__in=images).count() == 2


class NoModelExtractor(RecordingExtractor):
    """The fake extractor, but its model cannot load (no weights)."""

    def load(self):
        from core.errors import Unavailable

        raise Unavailable("No weights here.", code="no_weights")


def test_without_a_model_repeated_polls_make_no_new_jobs_and_say_why_once(add_image, make_worker,
                                                                          caplog):
    add_image()
    job = start_job()
    published = []
    worker = make_worker(extractor=NoModelExtractor(),
                         publish=lambda j: published.append((j.pk, j.state)))

    passes = [worker.run_until_idle() for _ in range(5)]

    job.refresh_from_db()
    assert passes == [0, 0, 0, 0, 0]
    assert list(FeatureJob.objects.values_list("pk", "state", "error")) == [
        (job.pk, "failed", "No weights here.")]
    assert published == [(job.pk, "failed")]
    assert [r.getMessage() for r in caplog.records if r.name == "features.jobs.worker"] == [
        "Feature extraction cannot run: No weights here."]
    assert FeatureTask.objects.get().job_id == job.pk


def test_a_batch_whose_images_moved_to_a_new_job_counts_them_in_that_job(add_image, make_worker):
    from features.extraction import infer_prepared
    from features.jobs.saving import batch_save
    from features.jobs.worker import image_prepare

    for n in range(2):
        add_image(f"{n}.jpg")
    first = start_job()
    worker = make_worker()
    claimed = worker.claim()
    result = infer_prepared([image_prepare(c, worker.extractor) for c in claimed],
                            worker.extractor)
    services.job_fail_active(extractor=first.extractor, reason="stopped meanwhile")
    moved_to = services.tasks_adopt(extractor=first.extractor)  # its images join a new job

    saved = batch_save(worker=worker.name, extractor=worker.extractor, claimed=claimed,
                       vectors=result.vectors, failures=result.failures, elapsed=0.1)

    moved_to.refresh_from_db()
    assert moved_to.pk != first.pk
    assert (moved_to.state, moved_to.total, moved_to.done, moved_to.failed) == ("done", 2, 2, 0)
    assert [(job.pk, job.state, job.done) for job in saved] == [(moved_to.pk, "done", 2)]
    assert FeatureVector.objects.count() == 2
