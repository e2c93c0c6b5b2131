"""The embedded worker: started once per web process, only when the setting is on; uploads wake it."""

import threading

import pytest

from features.jobs import embedded
from features.receivers import queue_new_images


@pytest.fixture
def fresh_embedded(monkeypatch):
    monkeypatch.setattr(embedded, "_thread", None)
    started = []

    class FakeWorker:
        def __init__(self, *, wake):
            self.wake = wake

        def run_forever(self, *, poll):
            started.append((threading.current_thread().name, poll))

    monkeypatch.setattr("features.jobs.worker.Worker", FakeWorker)
    return started


def test_it_is_not_started_when_the_setting_is_off(fresh_embedded, settings):
    settings.FEATURE_EMBEDDED_WORKER = False

    assert embedded.start_embedded_worker() is False
    assert embedded._thread is None


def test_it_starts_one_daemon_thread_once(fresh_embedded, settings):
    settings.FEATURE_EMBEDDED_WORKER = True

    first, second = embedded.start_embedded_worker(), embedded.start_embedded_worker()
    embedded._thread.join(5)

    assert (first, second) == (True, False)
    assert embedded._thread.daemon
    assert fresh_embedded == [("feature-worker", 30.0)]


@pytest.mark.django_db
def test_an_upload_wakes_it(add_image):
    embedded._wake.clear()
    image = add_image()

    queue_new_images(sender=None, images=[image])

    assert embedded._wake.is_set()


def test_a_failure_to_queue_never_fails_the_upload(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("features.jobs.services.images_enqueue", broken)

    queue_new_images(sender=None, images=[])

    assert "Could not queue new images for feature extraction" in caplog.text
