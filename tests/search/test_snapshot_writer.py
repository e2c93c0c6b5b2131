"""The worker writes index snapshots on a thread of its own: new uploads are extracted
while a long write is in progress, and searches find them meanwhile."""

import threading

import pytest

from features.jobs import services
from features.jobs.stages import stages_run
from features.jobs.worker import Worker
from features.extractors.loader import get_extractor
from features.models import FeatureVector
from search.index import refresh
from search.index.approximate import ApproximateIndex
from search.index.snapshot import manifest_current, snapshot_folder
from search.index.writer import snapshot_writer_join
from tests.helpers import approximate_index_serving, fingerprint, library_image, unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def approximate(settings, tmp_path):
    with approximate_index_serving(settings, tmp_path / "index") as folder:
        yield folder


@pytest.fixture
def slowed_write(monkeypatch):
    """Writes that stop once the rows are read, until the test lets them go on."""
    started, go_on = threading.Event(), threading.Event()
    trained = refresh._trained

    def slowly(*args, **kwargs):
        started.set()
        assert go_on.wait(30)
        return trained(*args, **kwargs)

    monkeypatch.setattr(refresh, "_trained", slowly)
    yield started, go_on
    go_on.set()


@pytest.fixture
def worker():
    worker = Worker(publish=lambda job: None)
    yield worker
    worker.pool.shutdown(wait=True)


def test_a_new_upload_is_extracted_while_a_snapshot_is_being_written(
        add_image, worker, slowed_write, approximate):
    started, go_on = slowed_write
    [library_image((i, 11, 11), vector=unit(i, get_extractor().dim)) for i in range(12)]
    worker.run_until_idle()  # the idle step starts the write, and does not wait for it
    assert started.wait(10)

    upload = add_image("while-writing.jpg")
    services.job_start(extractor=get_extractor())
    processed = worker.run_until_idle()

    assert processed == 1
    vector = FeatureVector.objects.get(image=upload, extractor=fingerprint()).vector
    assert not snapshot_writer_join(timeout=0)  # still writing
    searched = snapshot_folder(approximate, extractor=fingerprint(), column="searchable")
    assert manifest_current(searched) is None
    go_on.set()
    assert snapshot_writer_join(timeout=30)
    assert manifest_current(searched)["count"] == 12
    # The upload came after the rows were read: searches take it from the database.
    hits = ApproximateIndex().search(extractor=fingerprint(), query=vector, k=1)
    assert hits[0].image_id == upload.pk


def test_a_long_import_starts_a_snapshot_between_batches_without_waiting_for_it(slowed_write,
                                                                              approximate,
                                                                              settings):
    settings.FEATURE_STAGES_SHARE = 1.0  # every stage's turn after a batch
    started, go_on = slowed_write
    [library_image((i, 12, 12), vector=unit(i, get_extractor().dim)) for i in range(12)]

    stages_run(extractor=fingerprint(), idle=False)  # after a batch, more to extract

    assert started.wait(10)
    assert not snapshot_writer_join(timeout=0)
    go_on.set()
    assert snapshot_writer_join(timeout=30)
    searched = snapshot_folder(approximate, extractor=fingerprint(), column="searchable")
    assert manifest_current(searched)["count"] == 12
