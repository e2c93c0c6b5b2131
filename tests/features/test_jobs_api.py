"""POST /api/v1/features/jobs/ and GET /api/v1/features/status/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from features.extractors.resnet50 import ResNet50Extractor
from features.models import FeatureJob, FeatureTask
from gallery.models import Image
from tests.helpers import RecordingExtractor, add_vector, replace_stored, sqlite_plan, unit

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
JOBS = reverse("api-features-jobs")
STATUS = reverse("api-features-status")


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def test_it_starts_a_job_over_every_image_without_a_vector(api_client, add_image):
    add_image("a.jpg")
    add_image("b.jpg", is_original=True)

    response = api_client.post(JOBS)

    job = FeatureJob.objects.get()
    assert response.status_code == 202
    assert response.json() == {
        "id": job.pk, "state": "queued", "total": 2, "done": 0, "failed": 0, "percent": 0.0,
        "rate": 0.0, "eta_seconds": None, "failures": [], "created_at": iso(job.created_at),
        "started_at": None, "finished_at": None,
    }
    assert FeatureTask.objects.filter(job=job).count() == 2


def test_a_second_request_while_one_runs_returns_the_running_job(api_client, add_image):
    add_image()
    first = api_client.post(JOBS)

    second = api_client.post(JOBS)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert FeatureJob.objects.count() == 1


def test_a_job_with_nothing_to_do_is_done_at_once(api_client):
    response = api_client.post(JOBS)

    body = response.json()
    assert response.status_code == 202
    assert (body["state"], body["total"], body["percent"], body["eta_seconds"]) == (
        "done", 0, 100.0, 0)


def test_without_weights_it_answers_503_saying_how_to_provide_them(api_client, add_image,
                                                                   monkeypatch, tmp_path, caplog):
    add_image()
    missing = ResNet50Extractor(weights=str(tmp_path / "none.h5"), precision="float32")
    monkeypatch.setattr("features.api.views.get_extractor", lambda: missing)

    response = api_client.post(JOBS)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The model weights are not available, so features cannot be made and search "
                  "by upload is off. An administrator finds why in the server's log and sets "
                  "FEATURE_WEIGHTS.",
        "code": "no_weights",
    }
    assert str(tmp_path) not in response.text
    assert f"The ResNet50 weights file {tmp_path / 'none.h5'} does not exist. Set " \
        "FEATURE_WEIGHTS" in caplog.text
    assert not FeatureJob.objects.exists()


def test_status_without_any_job(api_client, add_image, fingerprint):
    add_image()

    response = api_client.get(STATUS)

    assert response.status_code == 200
    counts = {"images": 1, "with_vectors": 0, "pending": 1, "failed": 0,
              "original_vectors": 0, "user_vectors": 0}
    assert response.json() == {
        "job": None,
        "counts": counts,
        "extractor": fingerprint,
        "switching": False,
        "serving": {"extractor": fingerprint, "counts": counts},
    }


def test_status_after_a_job_counts_vectors_and_failures(api_client, add_image, make_worker,
                                                        media_root, fingerprint):
    add_image("a.jpg")
    add_image("b.jpg", is_original=True)
    broken = add_image("broken.jpg")
    replace_stored(broken.file.name, b"not an image")
    api_client.post(JOBS)
    make_worker(extractor=RecordingExtractor()).run_until_idle()

    response = api_client.get(STATUS)

    job = FeatureJob.objects.get()
    counts = {"images": 3, "with_vectors": 2, "pending": 0, "failed": 1,
              "original_vectors": 1, "user_vectors": 1}
    assert response.json() == {
        "job": {
            "id": job.pk, "state": "done", "total": 3, "done": 2, "failed": 1,
            "percent": 100.0, "rate": round(job.rate, 2), "eta_seconds": 0,
            "failures": [{"image_id": broken.pk, "filename": broken.filename,
                          "reason": "The file is not an image ImageSim can read."}],
            "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
        },
        "counts": counts,
        "extractor": fingerprint,
        "switching": False,
        "serving": {"extractor": fingerprint, "counts": counts},
    }


def test_a_running_job_reports_percent_rate_and_eta(api_client, add_image):
    for n in range(4):
        add_image(f"{n}.jpg")
    job_id = api_client.post(JOBS).json()["id"]
    FeatureJob.objects.filter(pk=job_id).update(state="running", done=1, rate=0.5)

    body = api_client.get(STATUS).json()["job"]

    assert (body["state"], body["total"], body["done"], body["percent"], body["rate"],
            body["eta_seconds"]) == ("running", 4, 1, 25.0, 0.5, 6)


def test_uploads_are_queued_automatically(api_client, django_capture_on_commit_callbacks):
    from tests.helpers import make_image_bytes

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-images"),
                                   {"file": [_named(make_image_bytes(), "new.jpg")]})

    image_id = response.json()["results"][0]["image"]["id"]
    job = FeatureJob.objects.get()
    assert (job.state, job.total) == ("queued", 1)
    assert list(FeatureTask.objects.values_list("image_id", "job_id")) == [(image_id, job.pk)]


def test_uploads_during_a_job_join_it(api_client, add_image, django_capture_on_commit_callbacks):
    add_image()
    job_id = api_client.post(JOBS).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        add_image("late.jpg")

    assert list(FeatureJob.objects.values_list("pk", "total")) == [(job_id, 2)]


def _named(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _upload_then_delete(api_client, django_capture_on_commit_callbacks, make_image_bytes):
    """An upload queued in a job, deleted before any worker took it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-images"),
                                   {"file": [_named(make_image_bytes(), "gone.jpg")]})
    image_id = response.json()["results"][0]["image"]["id"]
    stale = FeatureJob.objects.get()
    assert api_client.delete(reverse("api-image-detail", args=[image_id])).status_code == 204
    return stale


def test_generate_after_the_queued_upload_was_deleted_finishes_the_empty_job_and_starts_anew(
        api_client, add_image, django_capture_on_commit_callbacks):
    from tests.helpers import make_image_bytes

    stale = _upload_then_delete(api_client, django_capture_on_commit_callbacks, make_image_bytes)
    add_image("kept.jpg")

    response = api_client.post(JOBS)

    stale.refresh_from_db()
    fresh = FeatureJob.objects.exclude(pk=stale.pk).get()
    assert (stale.state, stale.total, stale.done, stale.failed) == ("done", 0, 0, 0)
    assert stale.finished_at is not None
    assert response.status_code == 202
    assert (response.json()["id"], response.json()["state"], response.json()["total"]) == (
        fresh.pk, "queued", 1)


def test_a_worker_finding_nothing_to_claim_finishes_the_emptied_job_and_announces_it(
        api_client, make_worker, django_capture_on_commit_callbacks):
    from tests.helpers import make_image_bytes

    stale = _upload_then_delete(api_client, django_capture_on_commit_callbacks, make_image_bytes)
    published = []

    processed = make_worker(publish=lambda j: published.append(
        (j.pk, j.state, j.total))).run_until_idle()

    job = api_client.get(STATUS).json()["job"]
    assert processed == 0
    assert published == [(stale.pk, "done", 0)]
    assert (job["id"], job["state"], job["total"], job["percent"], job["eta_seconds"]) == (
        stale.pk, "done", 0, 100.0, 0)
    assert FeatureJob.objects.count() == 1


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_status_counts_without_looking_up_the_image_of_every_vector(api_client, add_image):
    # At a million vectors, one lookup each took seconds: the originals' vectors are read
    # from the originals' own index instead; the vectors are not counted (VectorCount).
    add_image("a.jpg")
    add_image("b.jpg", is_original=True)
    api_client.get(STATUS)  # the first makes the serving row (features/serving.py)

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(STATUS).status_code == 200

    counts = [query["sql"] for query in queries.captured_queries
              if "COUNT" in query["sql"] and "features_featurevector" in query["sql"]]
    assert counts  # the originals' vectors
    for sql in counts:
        plan = sqlite_plan(sql)
        assert not any("gallery_image USING INTEGER PRIMARY KEY" in step for step in plan), plan
        # Nor is every vector of the extractor counted: the triggers keep that count.
        assert not any(step.startswith("SCAN features_featurevector")
                       or "featurevector_extractor" in step for step in plan), plan


def test_the_status_counts_leave_the_trash_out_as_the_library_does(api_client, add_image,
                                                                   make_worker, admin_user):
    from gallery.trash import images_trash

    add_image("a.jpg")
    add_image("b.jpg")
    broken = add_image("broken.jpg")
    replace_stored(broken.file.name, b"not an image")
    api_client.post(JOBS)
    make_worker(extractor=RecordingExtractor()).run_until_idle()
    images_trash(images=[broken], by=admin_user)

    counts = api_client.get(STATUS).json()["counts"]

    # The unreadable one is in the trash: not "1 could not be read" beside 2 images.
    assert (counts["images"], counts["with_vectors"], counts["failed"], counts["pending"]) == \
        (2, 2, 0, 0)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_kept_vector_counts_stay_right_through_every_kind_of_write(add_image, admin_user,
                                                                       fingerprint):
    from features.jobs.saving import vectors_write
    from features.models import FeatureVector, VectorCount
    from gallery.trash import image_restore, images_purge, images_trash

    def kept():
        return dict(VectorCount.objects.values_list("extractor", "vectors"))

    def real():
        return {extractor: FeatureVector.objects.filter(extractor=extractor).count()
                for extractor in ("other", fingerprint)}

    images = [add_image(f"{n}.jpg") for n in range(6)]
    for image in images:
        add_vector(image, unit(image.pk))
    # As the worker stores them: a vector already there is kept, and not counted again.
    vectors_write(extractor="other", vectors={images[0].pk: unit(99)})
    vectors_write(extractor="other", vectors={images[0].pk: unit(98)})
    images_trash(images=images[1:3], by=admin_user)
    image_restore(image=Image.all_objects.get(pk=images[1].pk))
    images_purge(images=[Image.all_objects.get(pk=images[2].pk)])
    Image.objects.filter(pk=images[3].pk).delete()
    FeatureVector.objects.filter(image=images[4]).delete()
    with connection.cursor() as cursor:  # a write no Django code sees
        cursor.execute("UPDATE features_featurevector SET extractor = 'other' WHERE image_id = %s",
                       [images[5].pk])

    # The trash took two vectors, the restored image has none until it is extracted again.
    assert kept() == real() == {"other": 2, fingerprint: 1}
