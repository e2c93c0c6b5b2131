"""The progress websocket (/ws/features/) and the original app's SSE and check endpoints."""

import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.urls import reverse

from features.extractors.loader import get_extractor
from features.extractors.resnet50 import ResNet50Extractor
from features.jobs import progress, services
from features.models import FeatureJob
from features.selectors import feature_status, job_body
from imagesim.asgi import application
from tests.helpers import RecordingExtractor, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


def communicator(cookie: bytes):
    """A websocket to the progress group, signed in with a session cookie (session_cookie)."""
    return WebsocketCommunicator(application, "/ws/features/",
                                 headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
                                          (b"cookie", cookie)])


def read_stream(response) -> str:
    async def collect():
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(collect)().decode()


def work_until(worker, count: int, *, seconds: float = 20.0) -> None:
    """Run the worker (as the embedded one would) until it has processed ``count`` images."""
    deadline = time.monotonic() + seconds
    processed = 0
    while processed < count and time.monotonic() < deadline:
        processed += worker.run_until_idle()
        time.sleep(0.05)
    connection.close()


def test_a_page_that_connects_gets_the_current_state_at_once(add_image, fingerprint, admin):
    add_image()
    job = services.job_start(extractor=get_extractor())[0]

    cookie = session_cookie(admin)
    async def scenario():
        ws = communicator(cookie)
        connected, _ = await ws.connect()
        first = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return connected, first

    connected, first = async_to_sync(scenario)()

    assert connected
    counts = {"images": 1, "with_vectors": 0, "pending": 1, "failed": 0,
              "original_vectors": 0, "user_vectors": 0}
    assert first == {"type": "status", "job": job_body(job), "extractor": fingerprint,
                     "counts": counts, "switching": False,
                     "serving": {"extractor": fingerprint, "counts": counts}}


def test_it_forwards_progress_and_completion_published_by_a_worker(add_image, make_worker,
                                                                   admin):
    for n in range(3):
        add_image(f"{n}.jpg")
    job = services.job_start(extractor=get_extractor())[0]

    cookie = session_cookie(admin)
    async def scenario():
        ws = communicator(cookie)
        await ws.connect()
        await ws.receive_json_from(timeout=5)  # the status
        worker = make_worker(extractor=RecordingExtractor(), batch_size=2,
                             publish=progress.publish)
        await database_sync_to_async(worker.run_until_idle)()
        events = [await ws.receive_json_from(timeout=5) for _ in range(2)]
        await ws.send_to(text_data="not json: clients only listen")
        assert await ws.receive_nothing(timeout=0.2)
        await ws.disconnect()
        return events

    running, complete = async_to_sync(scenario)()

    job.refresh_from_db()
    assert running["type"] == "progress"
    assert (running["job"]["id"], running["job"]["state"], running["job"]["done"],
            running["job"]["total"], running["job"]["percent"]) == (job.pk, "running", 2, 3, 66.7)
    assert complete == {"type": "complete", "job": job_body(job),
                        "counts": {"images": 3, "with_vectors": 3, "pending": 0, "failed": 0,
                                   "original_vectors": 0, "user_vectors": 3}}


def test_check_features_says_whether_any_vector_exists(client, add_image, make_worker):
    url = reverse("legacy-check-features")
    before = client.get(url).json()
    add_image()
    services.job_start(extractor=get_extractor())
    make_worker().run_until_idle()

    assert before == {"exists": False}
    assert client.get(url).json() == {"exists": True}


def test_generate_features_streams_progress_then_completion(client, add_image, make_worker):
    add_image("original.jpg", is_original=True)
    for n in range(4):
        add_image(f"{n}.jpg")
    worker = make_worker(extractor=RecordingExtractor(delay=0.3), batch_size=2)
    thread = threading.Thread(target=work_until, args=(worker, 5))
    thread.start()

    response = client.post(reverse("legacy-generate-features"), HTTP_ACCEPT="text/event-stream")
    events = [json.loads(line[6:]) for line in read_stream(response).splitlines()
              if line.startswith("data: ")]
    thread.join(10)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    progress_events, last = events[:-1], events[-1]
    assert last == {"complete": True, "count": 4, "original_count": 1}
    assert progress_events[-1] == {"progress": 100, "current": 5, "total": 5}
    assert all(set(e) == {"progress", "current", "total"} and e["total"] == 5
               for e in progress_events)
    currents = [e["current"] for e in progress_events]
    assert currents == sorted(currents)


def test_generate_features_with_nothing_to_do_completes_at_once(client, add_image, make_worker):
    add_image("original.jpg", is_original=True)
    services.job_start(extractor=get_extractor())
    make_worker().run_until_idle()

    response = client.post(reverse("legacy-generate-features"))

    assert read_stream(response) == (
        'data: {"complete": true, "count": 0, "original_count": 1}\n\n')


def test_generate_features_without_weights_answers_503_in_the_original_shape(
        client, add_image, monkeypatch, tmp_path):
    add_image()
    missing = ResNet50Extractor(weights=str(tmp_path / "none.h5"), precision="float32")
    monkeypatch.setattr("features.legacy.views.get_extractor", lambda: missing)

    response = client.post(reverse("legacy-generate-features"))

    body = response.json()
    assert response.status_code == 503
    assert body == {"success": False, "error": body["detail"], "detail": body["detail"],
                    "code": "no_weights"}
    assert "FEATURE_WEIGHTS" in body["detail"]
    # Only the job that queued the upload itself: none for the unavailable extractor.
    assert not FeatureJob.objects.filter(extractor=missing.fingerprint).exists()


def test_status_is_the_same_over_rest_and_websocket(client, add_image, fingerprint):
    add_image()

    rest = client.get(reverse("api-features-status")).json()

    assert rest == feature_status(extractor=fingerprint)


def test_the_job_body_is_what_the_schema_describes(admin):
    """The body is built without the API layer; the schema's serializer agrees with it."""
    from features.api.serializers import FeatureJobSerializer

    job, _ = services.job_start(extractor=get_extractor())
    job.rate, job.started_at = 3.14159, job.created_at
    job.save()
    assert job_body(job) == json.loads(json.dumps(FeatureJobSerializer(job).data))
