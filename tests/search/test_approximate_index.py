"""The approximate index: the machine's snapshot plus the changes since, against exact search."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from features.models import FeatureVector
from gallery.models import Image
from search.index import get_index, reset_index
from search.index.approximate import ApproximateIndex
from search.index.exact import ExactIndex
from search.index.refresh import snapshot_refresh
from search.index.snapshot import manifest_current, snapshot_folder
from tests.helpers import (add_vector, approximate_index_serving, clustered_unit_vectors, fingerprint, images_with_vectors,
                           library_image, unit)

pytestmark = pytest.mark.django_db
WORKER = Path(__file__).with_name("snapshot_process.py")


@pytest.fixture(autouse=True)
def snapshots(settings, tmp_path):
    with approximate_index_serving(settings, tmp_path / "index") as folder:
        yield folder


def ids(hits):
    return [hit.image_id for hit in hits]


def folder(root, extractor=None):
    return snapshot_folder(root, extractor=extractor or fingerprint(), column="searchable")


def test_it_returns_the_exact_top_6_for_at_least_99_percent_of_queries_on_20k_vectors():
    matrix = clustered_unit_vectors(20_000, 128, seed=3)
    image_ids = images_with_vectors(matrix, originals=50)
    assert snapshot_refresh(extractor=fingerprint(), force=True) == 20_000
    approximate, exact = ApproximateIndex(), ExactIndex()

    queries = np.random.default_rng(4).choice(len(matrix), 300, replace=False)
    same = 0
    for row in queries:
        # As a search by library image is: the image itself left out.
        asked = dict(extractor=fingerprint(), query=matrix[row], k=6,
                     exclude_image_ids=[image_ids[row]])
        found, truth = approximate.search(**asked), exact.search(**asked)
        # The same six images (two within the half-precision copy's rounding may swap places).
        if set(ids(found)) == set(ids(truth)):
            same += 1
            assert [hit.score for hit in found] == pytest.approx(
                [hit.score for hit in truth], abs=1e-3)
    assert same / len(queries) >= 0.99
    assert approximate.snapshot_generation == 1
    originals = approximate.search(extractor=fingerprint(), query=matrix[5], k=6, kind="original")
    assert ids(originals) == ids(exact.search(extractor=fingerprint(), query=matrix[5], k=6,
                                              kind="original"))


def test_a_small_library_of_long_vectors_gets_a_snapshot_without_the_projection(snapshots):
    # Asked for by name (SEARCH_INDEX=approximate) with fewer rows than dimensions: faiss
    # finds no 512 principal directions in them, so the lists take the vectors as they are.
    matrix = clustered_unit_vectors(300, 2048, seed=12)
    image_ids = images_with_vectors(matrix)
    assert snapshot_refresh(extractor=fingerprint(), force=True) == 300
    manifest = manifest_current(folder(snapshots))
    assert not manifest["training"]["factory"].startswith("PCA")

    found = ApproximateIndex().search(extractor=fingerprint(), query=matrix[7], k=6)
    exact = ExactIndex().search(extractor=fingerprint(), query=matrix[7], k=6)
    assert ids(found) == ids(exact) and ids(found)[0] == image_ids[7]


def test_a_second_index_sees_inserts_and_deletes_made_after_the_snapshot(snapshots):
    images = [library_image((i, 1, 1), vector=unit(i)) for i in range(40)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    reader = ApproximateIndex()
    assert ids(reader.search(extractor=fingerprint(), query=unit(7), k=1)) == [images[7].pk]

    added = library_image((200, 1, 1), vector=unit(200))
    images[7].delete()
    FeatureVector.objects.filter(image=images[8]).update(vector=unit(300))

    assert ids(reader.search(extractor=fingerprint(), query=unit(200), k=1)) == [added.pk]
    assert images[7].pk not in ids(reader.search(extractor=fingerprint(), query=unit(7), k=40))
    assert ids(reader.search(extractor=fingerprint(), query=unit(300), k=1)) == [images[8].pk]
    assert reader.search(extractor=fingerprint(), query=unit(300), k=1)[0].score == \
        pytest.approx(1.0, abs=1e-6)
    assert reader.size(extractor=fingerprint()) == 40
    assert reader.snapshot_generation == 1

    # The worker writes the next snapshot; a process started now opens it, reading no log.
    assert snapshot_refresh(extractor=fingerprint(), force=True) == 40
    restarted = ApproximateIndex()
    assert ids(restarted.search(extractor=fingerprint(), query=unit(200), k=1)) == [added.pk]
    assert restarted.snapshot_generation == 2
    assert images[7].pk not in ids(restarted.search(extractor=fingerprint(), query=unit(7), k=40))
    assert ids(reader.search(extractor=fingerprint(), query=unit(300), k=1)) == [images[8].pk]


def test_an_image_made_an_original_is_found_by_the_kind_filter_at_once():
    images = [library_image((i, 2, 2), vector=unit(i)) for i in range(10)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    reader = ApproximateIndex()
    assert reader.search(extractor=fingerprint(), query=unit(3), k=1, kind="original") == []

    Image.objects.filter(pk=images[3].pk).update(is_original=True)

    assert ids(reader.search(extractor=fingerprint(), query=unit(3), k=3, kind="original")) == \
        [images[3].pk]


def test_after_an_extractor_switch_searches_read_that_extractors_own_snapshot(snapshots):
    old = [library_image((i, 3, 3), vector=unit(i)) for i in range(20)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    for image in old:
        add_vector(image, unit(1000 + image.pk, 64), extractor="other-extractor")
    assert snapshot_refresh(extractor="other-extractor", force=True) == 20
    reader = ApproximateIndex()

    hits = reader.search(extractor="other-extractor", query=unit(1000 + old[4].pk, 64), k=2)

    assert ids(hits)[0] == old[4].pk
    assert reader.snapshot_generation == 1
    assert manifest_current(folder(snapshots, "other-extractor"))["extractor"] == \
        "other-extractor"
    # And back: the first extractor's snapshot still answers for it.
    assert ids(reader.search(extractor=fingerprint(), query=unit(9), k=1)) == [old[9].pk]


def test_without_a_snapshot_it_searches_every_vector_exactly():
    images = [library_image((i, 4, 4), vector=unit(i)) for i in range(12)]
    reader = ApproximateIndex()

    assert ids(reader.search(extractor=fingerprint(), query=unit(5), k=1)) == [images[5].pk]
    assert reader.snapshot_generation is None


def test_a_torn_snapshot_is_never_opened(snapshots):
    images = [library_image((i, 5, 5), vector=unit(i)) for i in range(30)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    where = folder(snapshots)
    # What a crash mid-write leaves: half a temporary file, a manifest naming files that
    # never arrived, and a manifest cut short.
    (where / ".tmp-999-snapshot-00000002.faiss").write_bytes(b"\x00garbage" * 100)
    current = json.loads((where / "manifest-00000001.json").read_text())
    (where / "manifest-00000002.json").write_text(json.dumps(
        {**current, "generation": 2, "names": {k: v.replace("00000001", "00000002")
                                               for k, v in current["names"].items()},
         "files": {name.replace("00000001", "00000002"): size
                   for name, size in current["files"].items()}}))
    (where / "manifest-00000003.json").write_text(json.dumps(current)[:40])
    # And a generation whose index file was cut short.
    truncated = {**current, "generation": 4}
    (where / "manifest-00000004.json").write_text(json.dumps(truncated))
    index_file = where / current["names"]["index"]
    (where / "snapshot-00000004.faiss").write_bytes(index_file.read_bytes()[:100])
    truncated["names"] = {**current["names"], "index": "snapshot-00000004.faiss"}
    truncated["files"] = {**current["files"], "snapshot-00000004.faiss": index_file.stat().st_size}
    (where / "manifest-00000004.json").write_text(json.dumps(truncated))

    reader = ApproximateIndex()

    assert ids(reader.search(extractor=fingerprint(), query=unit(11), k=1)) == [images[11].pk]
    assert reader.snapshot_generation == 1
    # The next write clears the debris and goes on past it.
    snapshot_refresh(extractor=fingerprint(), force=True)
    assert manifest_current(where)["generation"] == 5
    assert not list(where.glob(".tmp-*"))


def test_search_index_auto_changes_to_the_snapshot_once_the_worker_writes_one(settings):
    settings.SEARCH_INDEX = "auto"
    settings.SEARCH_INDEX_AUTO_SIZE = 10
    reset_index()
    [library_image((i, 6, 6), vector=unit(i)) for i in range(6)]
    assert isinstance(get_index(), ExactIndex)
    assert snapshot_refresh(extractor=fingerprint()) == 0  # below the size: exact serves

    [library_image((i, 7, 7), vector=unit(100 + i)) for i in range(6)]
    assert snapshot_refresh(extractor=fingerprint()) == 12
    reset_index()

    assert isinstance(get_index(), ApproximateIndex)
    settings.SEARCH_INDEX = "exact"
    reset_index()
    assert isinstance(get_index(), ExactIndex)
    assert snapshot_refresh(extractor=fingerprint(), force=True) == 0


@pytest.mark.django_db(transaction=True)
def test_the_workers_steps_write_both_snapshots_busy_or_idle(snapshots, settings):
    settings.FEATURE_STAGES_SHARE = 1.0  # every stage's turn after a batch
    from features.jobs.stages import stages_run
    from search.index.writer import snapshot_writer_join

    [library_image((i, 9, 9), vector=unit(i)) for i in range(8)]
    where = folder(snapshots)

    stages_run(extractor=fingerprint(), idle=False)
    assert snapshot_writer_join(timeout=30)
    assert manifest_current(where)["count"] == 8
    plain = snapshot_folder(snapshots, extractor=fingerprint(), column="vector")
    assert manifest_current(plain)["count"] == 8
    library_image((20, 9, 9), vector=unit(20))
    stages_run(extractor=fingerprint(), idle=True)
    assert snapshot_writer_join(timeout=30)
    assert manifest_current(where)["count"] == 8  # one change: the delta holds it


def test_a_refresh_writes_nothing_until_enough_changed(monkeypatch):
    from search.index import refresh

    [library_image((i, 8, 8), vector=unit(i)) for i in range(10)]
    assert snapshot_refresh(extractor=fingerprint()) == 10  # the first one
    assert snapshot_refresh(extractor=fingerprint()) == 0
    library_image((50, 8, 8), vector=unit(50))
    assert snapshot_refresh(extractor=fingerprint()) == 0  # one change: the delta holds it
    monkeypatch.setattr(refresh, "SNAPSHOT_CHANGES", 1)
    assert snapshot_refresh(extractor=fingerprint()) == 11


def test_an_old_snapshot_is_written_again_once_enough_of_the_library_changed(monkeypatch):
    from search.index import refresh

    [library_image((i, 7, 7), vector=unit(i)) for i in range(10)]
    assert snapshot_refresh(extractor=fingerprint()) == 10
    monkeypatch.setattr(refresh, "SNAPSHOT_MAX_AGE", 0.0)  # every snapshot old
    monkeypatch.setattr(refresh, "AGED_SHARE", 5)  # a fifth of the library: two changes
    library_image((60, 7, 7), vector=unit(60))
    assert snapshot_refresh(extractor=fingerprint()) == 0  # one: the delta holds it
    library_image((61, 7, 7), vector=unit(61))
    assert snapshot_refresh(extractor=fingerprint()) == 12


def test_a_snapshot_the_change_log_no_longer_reaches_is_written_again():
    from search.models import VectorChange

    [library_image((i, 6, 6), vector=unit(i)) for i in range(10)]
    assert snapshot_refresh(extractor=fingerprint()) == 10
    added = library_image((70, 6, 6), vector=unit(70))
    library_image((71, 6, 6), vector=unit(71))
    assert snapshot_refresh(extractor=fingerprint()) == 0  # two changes: the delta holds them
    # Pruned past the snapshot: no process could tell the first of them from the log.
    VectorChange.objects.filter(id__lt=VectorChange.objects.latest("id").id).delete()

    assert snapshot_refresh(extractor=fingerprint()) == 12
    reader = ApproximateIndex()
    assert ids(reader.search(extractor=fingerprint(), query=unit(70), k=1)) == [added.pk]
    assert reader.snapshot_generation == 2


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_writing_a_snapshot_leaves_the_previous_one_in_use(snapshots):

    images = [library_image((i, 9, 9), vector=unit(i)) for i in range(30)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    library_image((77, 9, 9), vector=unit(77))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
           "SEARCH_INDEX_DIR": str(snapshots), "SEARCH_INDEX": "approximate"}
    worker = subprocess.Popen([sys.executable, WORKER, "hang-while-writing", fingerprint()],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "writing"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    where = folder(snapshots)
    assert list(where.glob(".tmp-*"))  # it died with its index file half done

    reader = ApproximateIndex()

    assert reader.search(extractor=fingerprint(), query=unit(12), k=1)[0].image_id == images[12].pk
    assert reader.snapshot_generation == 1
    assert manifest_current(where)["generation"] == 1
    # The next worker clears what the dead one left and writes the generation it could not.
    assert snapshot_refresh(extractor=fingerprint(), force=True) == 31
    assert manifest_current(where)["generation"] == 2
    assert not list(where.glob(".tmp-*"))


def test_a_snapshot_of_another_database_is_never_opened(snapshots):
    images = [library_image((i, 10, 10), vector=unit(i)) for i in range(8)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    where = folder(snapshots)
    manifest = json.loads((where / "manifest-00000001.json").read_text())
    # As if the database file had been made again (or restored) since the snapshot.
    (where / "manifest-00000001.json").write_text(json.dumps({**manifest, "database": "0:0"}))
    reader = ApproximateIndex()

    assert ids(reader.search(extractor=fingerprint(), query=unit(3), k=1)) == [images[3].pk]
    assert reader.snapshot_generation is None
    assert snapshot_refresh(extractor=fingerprint()) == 8  # the worker writes a fresh one


def test_query_expansion_and_min_similarity_answer_as_the_exact_index_does():
    matrix = clustered_unit_vectors(600, 64, seed=8)
    image_ids = images_with_vectors(matrix)
    snapshot_refresh(extractor=fingerprint(), force=True)
    approximate, exact = ApproximateIndex(), ExactIndex()

    for row in (3, 40, 333):
        asked = dict(extractor=fingerprint(), query=matrix[row], k=6, min_similarity=0.9,
                     exclude_image_ids=[image_ids[row]], expand_neighbours=3)
        found, truth = approximate.search(**asked), exact.search(**asked)
        assert ids(found) == ids(truth)
        assert [hit.score for hit in found] == pytest.approx([hit.score for hit in truth],
                                                             abs=1e-6)
        assert all(hit.score >= 0.9 for hit in found)
    assert approximate.snapshot_generation == 1


def generation_contents(root, generation: int) -> dict:
    """A snapshot generation as data: its rows, vectors, code errors, and each IVF list's
    (row, code) entries in row order."""
    import faiss

    from search.index.snapshot import manifest_read, snapshot_open

    path = folder(root) / f"manifest-{generation:08d}.json"
    snapshot = snapshot_open(folder(root), manifest_read(path))
    ivf = faiss.extract_index_ivf(snapshot.index)
    lists = []
    for number in range(ivf.nlist):
        size = ivf.invlists.list_size(number)
        rows = faiss.rev_swig_ptr(ivf.invlists.get_ids(number), size).copy()
        codes = faiss.rev_swig_ptr(ivf.invlists.get_codes(number), size * ivf.code_size) \
            .reshape(size, -1).copy()
        order = np.argsort(rows)
        lists.append((rows[order], codes[order]))
    return {"keys": snapshot.keys, "items": snapshot.items, "flags": snapshot.flags,
            "vectors": np.asarray(snapshot.vectors), "errors": np.asarray(snapshot.errors),
            "lists": lists, "count": snapshot.index.ntotal}


@pytest.mark.parametrize("dim, rows", [(128, 3000), (2048, 2100)])
def test_a_new_generation_carries_the_last_one_over_with_the_changes_and_reads_only_those(
        snapshots, monkeypatch, dim, rows):
    # Reading and encoding every row again took 100 s a generation at a million rows.
    from search.index import refresh

    matrix = clustered_unit_vectors(rows, dim, seed=21)
    image_ids = images_with_vectors(matrix)
    assert snapshot_refresh(extractor=fingerprint(), force=True) == rows
    added = images_with_vectors(clustered_unit_vectors(20, dim, seed=22))
    Image.objects.filter(pk__in=image_ids[100:110]).delete()
    for image_id, vector in zip(image_ids[200:205], clustered_unit_vectors(5, dim, seed=23)):
        FeatureVector.objects.filter(image_id=image_id).update(vector=vector)
    Image.objects.filter(pk__in=image_ids[300:303]).update(is_original=True)
    real_stream = refresh._stream
    monkeypatch.setattr(refresh, "_stream", None)  # every row read again: not this time

    assert snapshot_refresh(extractor=fingerprint(), force=True) == rows + 20 - 10
    # The same generation written from every row, as before.
    monkeypatch.setattr(refresh, "_stream", real_stream)
    monkeypatch.setattr(refresh, "CARRY_SHARE", 10 ** 9)
    assert snapshot_refresh(extractor=fingerprint(), force=True) == rows + 20 - 10

    carried, whole = generation_contents(snapshots, 2), generation_contents(snapshots, 3)
    for part in ("keys", "items", "flags", "vectors"):
        assert np.array_equal(carried[part], whole[part]), part
    assert carried["flags"].sum() == 3 and added[-1] == carried["items"][-1]
    assert carried["errors"] == pytest.approx(whole["errors"], abs=1e-5)
    assert carried["count"] == whole["count"] == rows + 10
    for (rows_carried, codes_carried), (rows_whole, codes_whole) in zip(carried["lists"],
                                                                      whole["lists"]):
        assert np.array_equal(rows_carried, rows_whole)
        assert np.array_equal(codes_carried, codes_whole)
    found = ApproximateIndex().search(extractor=fingerprint(), query=matrix[7], k=6)
    assert ids(found) == ids(ExactIndex().search(extractor=fingerprint(), query=matrix[7], k=6))


def test_a_restart_after_every_process_was_gone_for_long_still_opens_the_snapshot(
        snapshots, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from search import changelog
    from search.index.snapshot import snapshot_pins_forget
    from search.models import IndexReader

    monkeypatch.setattr(changelog, "REPORT_EVERY", 0.0)  # report and prune at every search
    images = [library_image((i, 3, 3), vector=unit(i)) for i in range(40)]
    snapshot_refresh(extractor=fingerprint(), force=True)
    added = library_image((200, 3, 3), vector=unit(200))
    library_image((201, 3, 3), vector=unit(201))
    # Every process, the worker too, stopped longer ago than a reader is remembered.
    IndexReader.objects.update(seen_at=timezone.now() - changelog.READER_TIMEOUT
                               - timedelta(seconds=1))
    snapshot_pins_forget()  # the processes below are new: they have renewed nothing yet

    first = ApproximateIndex()  # the first process back prunes what no reader needs
    assert ids(first.search(extractor=fingerprint(), query=unit(200), k=1)) == [added.pk]
    second = ApproximateIndex()

    assert ids(second.search(extractor=fingerprint(), query=unit(200), k=1)) == [added.pk]
    assert ids(second.search(extractor=fingerprint(), query=unit(7), k=1)) == [images[7].pk]
    assert second.snapshot_generation == 1  # not every vector read again
