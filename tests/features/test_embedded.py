"""The embedded worker: started once per web process, only when the setting is on; uploads wake it."""

import threading
import time

import pytest

from features.jobs import embedded
from features.receivers import queue_new_images
from gallery.services import image_create
from tests.helpers import make_image_bytes


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
    monkeypatch.setattr(embedded, "watch_forever", lambda: started.append(
        (threading.current_thread().name, "watch")))
    return started


def test_it_is_not_started_when_the_setting_is_off(fresh_embedded, settings):
    settings.FEATURE_EMBEDDED_WORKER = False

    assert embedded.start_embedded_worker() is False
    assert embedded._thread is None


def test_it_starts_one_daemon_thread_once(fresh_embedded, settings):
    settings.FEATURE_EMBEDDED_WORKER = True

    first, second = embedded.start_embedded_worker(), embedded.start_embedded_worker()
    embedded._thread.join(5)
    time.sleep(0.2)  # the watch thread records its start

    assert (first, second) == (True, False)
    assert embedded._thread.daemon
    assert sorted(fresh_embedded) == [("feature-worker", 30.0), ("library-watch", "watch")]


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


@pytest.mark.django_db(transaction=True)
def test_the_watch_sees_images_added_and_work_queued_by_another_process():
    watch = embedded.LibraryWatch()
    assert watch.look() == (False, False)
    assert watch.look() == (False, False)

    # As import_folder does elsewhere (no wake() reaches this process): the image, then
    # its queueing.
    image = image_create(name="elsewhere.jpg", data=make_image_bytes(), announce=False).image
    after_the_image = watch.look()
    queue_new_images(sender=None, images=[image])

    assert after_the_image == (True, False)
    assert watch.look() == (False, True)
    assert watch.look() == (False, False)


@pytest.mark.django_db(transaction=True)
def test_the_watch_wakes_the_worker_and_tells_the_pages_within_a_second_or_two(
        add_image, monkeypatch):
    published = []
    monkeypatch.setattr("features.jobs.progress.publish_status", lambda: published.append(1))
    monkeypatch.setattr(embedded, "WATCH_SECONDS", 0.05)
    embedded._wake.clear()
    stop = threading.Event()
    watching = threading.Thread(target=embedded.watch_forever, kwargs={"stop": stop})
    watching.start()
    try:
        time.sleep(0.2)
        assert not embedded._wake.is_set() and published == []

        add_image()

        assert embedded._wake.wait(2)
        deadline = time.monotonic() + 2
        while not published and time.monotonic() < deadline:
            time.sleep(0.02)
        assert published
    finally:
        stop.set()
        watching.join(5)
