import pytest

from features.extractors.loader import get_extractor
from features.jobs.worker import Worker


@pytest.fixture
def fingerprint():
    return get_extractor().fingerprint


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
