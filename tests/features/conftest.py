import threading

import pytest

from features.extractors.fake import FakeExtractor
from features.extractors.loader import get_extractor
from features.jobs.worker import Worker
from gallery import services
from tests.conftest import make_image_bytes


class RecordingExtractor(FakeExtractor):
    """The fake extractor, noting every image id it was asked for (through the worker)."""

    def __init__(self, *, delay: float = 0.0):
        self.delay = delay
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def infer(self, batch):
        import time

        with self.lock:
            self.batches.append(len(batch))
        if self.delay:
            time.sleep(self.delay)
        return super().infer(batch)


@pytest.fixture
def fingerprint():
    return get_extractor().fingerprint


@pytest.fixture
def add_image(db):
    """Add an image through the library service, as an upload does."""
    colours = iter(range(1, 10_000))

    def add(name="photo.jpg", *, is_original=False, data=None):
        n = next(colours)
        data = data or make_image_bytes("JPEG", color=(n * 37 % 256, n * 91 % 256, n * 13 % 256))
        return services.image_create(name=name, data=data, is_original=is_original).image

    return add


@pytest.fixture
def make_worker():
    workers = []

    def make(**kwargs):
        kwargs.setdefault("publish", lambda job: None)
        worker = Worker(**kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.pool.shutdown(wait=True)
