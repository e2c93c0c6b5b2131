"""A worker's start reads ahead, on a thread of its own, what its stages' first passes would
read of the whole library (every row's augmentation limits, every hash, a look at every
vector and image), so that its first passes after a batch look only at what is new."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duplicates import finding
from duplicates.models import DuplicateScan, ImageHash
from features.jobs import stages
from features.jobs.stages import Stage, stages_forget, stages_run, stages_warm
from features.models import FeatureVector
from search import augmentation
from tests.helpers import fingerprint, library_image

# The read-ahead runs on its own connection: it sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


# Where the stages keep a place in the log: on PostgreSQL their passes look at every vector.
SQLITE_ONLY = pytest.mark.skipif("connection.vendor != 'sqlite'")


@SQLITE_ONLY
def test_after_the_read_ahead_the_first_passes_look_only_at_what_is_new(settings):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    settings.FEATURE_STAGES_SHARE = 1.0  # every stage's turn after the batch
    for n in range(12):
        library_image((n * 20, 90, 255 - n * 20))
    stages_run(extractor=fingerprint(), idle=True)
    stages_forget()  # the worker stops and starts again
    augmentation._limits.clear()
    stages_warm(extractor=fingerprint())
    stages._warmed()
    new = library_image((250, 5, 5))  # the first upload after the start

    with CaptureQueriesContext(connection) as first_passes:
        stages_run(extractor=fingerprint(), idle=False)

    statements = [query["sql"] for query in first_passes.captured_queries]
    # No row's limit read from every link, no hash read but those added since.
    assert not [s for s in statements if "search_neighbourlink" in s and "GROUP BY" in s]
    assert not [s for s in statements if '"duplicates_imagehash"."id" <=' in s]
    # The vectors to compare, and the images to hash, looked for among the new ones only.
    looks = [s for s in statements if 'NOT EXISTS(SELECT 1 AS "a" FROM "duplicates_duplicatescan"'
             in s.replace(" (", "(")]
    assert looks and all("search_vectorchange" in s for s in looks)
    hash_looks = [s for s in statements if "duplicates_imagehash" in s and "gallery_image" in s
                  and "NOT EXISTS" in s]
    assert hash_looks and all('"gallery_image"."id" >' in s for s in hash_looks)
    # And the new image is done all the same.
    vector = FeatureVector.objects.get(image=new)
    assert vector.augmented is not None
    assert DuplicateScan.objects.filter(vector=vector).exists()
    assert ImageHash.objects.filter(image=new).exists()


def done(image) -> bool:
    vector = FeatureVector.objects.get(image=image)
    return (vector.augmented is not None and DuplicateScan.objects.filter(vector=vector).exists()
            and ImageHash.objects.filter(image=image).exists())


@SQLITE_ONLY
def test_work_waiting_at_the_start_or_stored_during_the_read_ahead_is_done(settings,
                                                                             monkeypatch):
    settings.SEARCH_AUGMENT, settings.SEARCH_AUGMENT_NEIGHBOURS = True, 4
    settings.FEATURE_STAGES_SHARE = 1.0  # every stage's turn after the batch
    images = [library_image((n * 20, 90, 255 - n * 20)) for n in range(12)]
    stages_run(extractor=fingerprint(), idle=True)
    stages_forget()
    augmentation._limits.clear()
    # Waiting as the worker starts: a new image, and a hash lost among the others.
    waiting = library_image((250, 250, 5))
    ImageHash.objects.filter(image=images[4]).delete()
    # Stored while the read-ahead looks (after it read the log's position).
    meanwhile = []

    def newest_then_one_more(extractor):
        newest = stages.vector_newest(extractor)
        meanwhile.append(library_image((5, 250, 250)))
        return newest

    monkeypatch.setattr(finding, "vector_newest", newest_then_one_more)
    stages_warm(extractor=fingerprint())
    stages._warmed()

    stages_run(extractor=fingerprint(), idle=False)
    assert done(waiting) and done(meanwhile[0])
    assert ImageHash.objects.filter(image=images[4]).exists()


def test_a_failing_read_ahead_is_logged_and_the_others_and_the_passes_still_run(monkeypatch,
                                                                                 caplog):
    passes, warmed = [], []

    def broken(extractor):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(stages, "_stages", {})
    stages.stage_register(Stage("broken", run=lambda work: passes.append(1) or 0, warm=broken))
    stages.stage_register(Stage("fine", run=lambda work: 0, warm=warmed.append))
    stages_warm(extractor=fingerprint())
    stages_run(extractor=fingerprint(), idle=True)
    assert passes == [1] and warmed == [fingerprint()]
    assert "Reading ahead for the broken stage failed" in caplog.text


def test_while_the_read_ahead_runs_a_step_after_a_batch_leaves_the_stages_for_later(
        monkeypatch):
    import threading

    release, passes = threading.Event(), []
    monkeypatch.setattr(stages, "_stages", {})
    stages.stage_register(Stage("slow to warm", run=lambda work: passes.append(1) or 0,
                                warm=lambda extractor: release.wait(10)))
    stages_warm(extractor=fingerprint())
    stages_run(extractor=fingerprint(), idle=False)  # extraction goes on
    assert passes == []
    release.set()
    stages_run(extractor=fingerprint(), idle=True)  # an idle step waits for it
    assert passes == [1]
