"""Progress for the websockets of bin/serve's other web processes (features/jobs/relay.py).

Only the first process runs the embedded worker, and the default channel layer lives in one
process's memory: the others read the jobs from the database and tell their sockets.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from features.extractors.loader import get_extractor
from features.jobs import services
from features.jobs.relay import relay
from features.models import FeatureJob
from features.selectors import job_body
from tests.features.test_progress import communicator
from tests.helpers import RecordingExtractor, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_relay(monkeypatch):
    monkeypatch.setattr(relay, "interval", 0.05)


def test_a_process_without_the_worker_tells_its_sockets_what_the_worker_did(
        settings, quick_relay, add_image, make_worker, admin):
    settings.WEB_PROCESS_INDEX, settings.REDIS_URL = 1, ""
    for n in range(3):
        add_image(f"{n}.jpg")
    job = services.job_start(extractor=get_extractor())[0]
    cookie = session_cookie(admin)

    async def scenario():
        ws = communicator(cookie)
        await ws.connect()
        await ws.receive_json_from(timeout=5)  # the status
        # The worker of another process: its own events never reach this one.
        await database_sync_to_async(
            FeatureJob.objects.filter(pk=job.pk).update)(state="running", done=1)
        running = await ws.receive_json_from(timeout=5)
        worker = make_worker(extractor=RecordingExtractor(), batch_size=2,
                             publish=lambda job: None)
        await database_sync_to_async(worker.run_until_idle)()
        events = [await ws.receive_json_from(timeout=5)]
        while events[-1]["type"] != "complete":
            events.append(await ws.receive_json_from(timeout=5))
        assert await ws.receive_nothing(timeout=0.3)  # the end is told once
        await ws.disconnect()
        return running, events

    running, events = async_to_sync(scenario)()

    job.refresh_from_db()
    assert running["type"] == "progress"
    assert (running["job"]["state"], running["job"]["done"], running["job"]["total"]) == \
        ("running", 1, 3)
    assert events[-1] == {"type": "complete", "job": job_body(job),
                          "counts": {"images": 3, "with_vectors": 3, "pending": 0, "failed": 0,
                                     "original_vectors": 0, "user_vectors": 3}}


def test_the_process_with_the_worker_relays_nothing(settings, quick_relay, add_image, admin):
    settings.WEB_PROCESS_INDEX = 0
    add_image()
    job = services.job_start(extractor=get_extractor())[0]
    cookie = session_cookie(admin)

    async def scenario():
        ws = communicator(cookie)
        await ws.connect()
        await ws.receive_json_from(timeout=5)
        await database_sync_to_async(
            FeatureJob.objects.filter(pk=job.pk).update)(state="running", done=1)
        quiet = await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return quiet

    # Its worker's own events reach its sockets; a relay would tell them twice.
    assert async_to_sync(scenario)()
