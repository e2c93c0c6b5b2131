"""Concurrent workers on PostgreSQL claim with FOR UPDATE SKIP LOCKED: never the same image."""

import threading

import pytest
from django.db import connection, transaction

from features.extractors.loader import get_extractor
from features.jobs import services
from features.jobs.worker import Worker, batch_claim
from features.models import FeatureJob, FeatureTask, FeatureVector
from tests.helpers import RecordingExtractor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
IMAGES = 24


class ClaimRecordingWorker(Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.claimed_images: list[int] = []

    def claim(self):
        claimed = super().claim()
        self.claimed_images += [c.image_id for c in claimed]
        return claimed


def run_in_thread(worker):
    try:
        worker.run_until_idle()
    finally:
        connection.close()


def test_two_concurrent_workers_never_extract_the_same_image(add_image, fingerprint):
    assert connection.vendor == "postgresql"
    images = [add_image(f"photo-{n}.jpg") for n in range(IMAGES)]
    job = services.job_start(extractor=get_extractor())[0]
    workers = [ClaimRecordingWorker(extractor=RecordingExtractor(delay=0.05), batch_size=2,
                                    publish=lambda job: None) for _ in range(2)]
    threads = [threading.Thread(target=run_in_thread, args=(w,)) for w in workers]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    first, second = (set(w.claimed_images) for w in workers)
    assert first and second, "both workers should have had work"
    assert not first & second
    assert first | second == {image.pk for image in images}
    assert sum(len(w.claimed_images) for w in workers) == IMAGES
    assert FeatureVector.objects.filter(extractor=fingerprint).count() == IMAGES
    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.failed) == ("done", IMAGES, IMAGES, 0)


def test_a_claim_skips_rows_another_worker_has_locked(add_image, fingerprint):
    for n in range(4):
        add_image(f"photo-{n}.jpg")
    services.job_start(extractor=get_extractor())
    locked, other = threading.Event(), {}

    def claim_in_other_connection():
        locked.wait(10)
        try:
            other["claimed"] = batch_claim(worker="b", extractor=fingerprint, size=4)
        finally:
            connection.close()

    thread = threading.Thread(target=claim_in_other_connection)
    thread.start()
    with transaction.atomic():
        held = list(FeatureTask.objects.select_for_update().order_by("id")[:2])
        locked.set()
        thread.join(10)

    assert {c.task_id for c in other["claimed"]} == set(
        FeatureTask.objects.exclude(pk__in=[t.pk for t in held]).values_list("pk", flat=True))
    assert FeatureJob.objects.get().state == "running"


def test_an_image_deleted_while_its_vector_is_saved_is_deleted_cleanly(add_image, fingerprint):
    """The vector lands after Django collected the image's rows: the database cascades it."""
    from django.db import connection as conn

    image = add_image()
    with transaction.atomic():
        with conn.cursor() as cursor:
            cursor.execute("DELETE FROM features_featurevector WHERE image_id = %s", [image.pk])
        FeatureVector.objects.create(image=image, extractor=fingerprint, dim=3,
                                     vector=[1.0, 0.0, 0.0])
        with conn.cursor() as cursor:
            cursor.execute("DELETE FROM features_featuretask WHERE image_id = %s", [image.pk])
            cursor.execute("DELETE FROM gallery_image WHERE id = %s", [image.pk])

    assert not FeatureVector.objects.exists()
