"""The vector change log is pruned once every process reading it has caught up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from search import changelog
from search.index import exact
from search.index.exact import ExactIndex
from search.models import IndexReader, VectorChange
from tests.helpers import fingerprint, library_image, unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def report_at_once(monkeypatch):
    """Report and prune on every query, instead of every 30 seconds."""
    monkeypatch.setattr(changelog, "REPORT_EVERY", 0.0)


def search(index, seed):
    return [hit.image_id for hit in index.search(extractor=fingerprint(), query=unit(seed), k=1)]


def test_it_keeps_what_a_slower_process_has_not_applied_yet():
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(3)]
    fast, slow = ExactIndex(), ExactIndex()
    search(fast, 0), search(slow, 0)
    assert VectorChange.objects.count() == 1  # both have read all three

    added = [library_image((50 + i, 0, 0), vector=unit(50 + i)) for i in range(4)]
    search(fast, 50)  # only the fast one has read the four new entries

    assert VectorChange.objects.count() == 4 + 1  # theirs, and the one the slow one is at
    assert search(slow, 53) == [added[3].pk]  # the slow one still finds them in the log
    search(fast, 0)
    assert VectorChange.objects.count() == 1  # all applied: only the newest entry stays
    assert search(fast, 1) == [images[1].pk]


def test_the_newest_entry_is_always_kept_so_ids_are_never_reused():
    library_image((1, 0, 0), vector=unit(1))
    index = ExactIndex()
    search(index, 1)
    latest = VectorChange.objects.latest("id").id

    changelog.changes_prune()

    assert list(VectorChange.objects.values_list("id", flat=True)) == [latest]


def test_a_process_gone_too_long_is_forgotten_and_reloads_when_it_comes_back(monkeypatch):
    library_image((1, 0, 0), vector=unit(1))
    away, active = ExactIndex(), ExactIndex()
    search(away, 1), search(active, 1)
    IndexReader.objects.filter(name=away._reader.name).update(
        seen_at=timezone.now() - changelog.READER_TIMEOUT - timedelta(seconds=1))
    added = [library_image((60 + i, 0, 0), vector=unit(60 + i)) for i in range(3)]

    search(active, 60)  # prunes past the forgotten one
    assert not IndexReader.objects.filter(name=away._reader.name).exists()
    loads = []
    real_load_all = exact._load_all
    monkeypatch.setattr(exact, "_load_all",
                        lambda e, column: loads.append(e) or real_load_all(e, column))

    assert search(away, 62) == [added[2].pk]
    assert loads == [fingerprint()]  # it saw the gap and read the vectors whole again


def test_with_no_reader_only_the_newest_entry_stays():
    for i in range(3):
        library_image((i, 0, 0), vector=unit(i))

    logged = VectorChange.objects.count()

    assert changelog.changes_prune() == logged - 1
    assert VectorChange.objects.count() == 1


@pytest.mark.postgres
def test_pgvector_searches_keep_the_log_short():
    from search.index.pgvector import PgvectorIndex

    for i in range(3):
        library_image((i, 0, 0), vector=unit(i, dim=2048))
    assert VectorChange.objects.count() == 3

    PgvectorIndex().search(extractor=fingerprint(), query=unit(1, dim=2048), k=1)

    assert VectorChange.objects.count() == 1


def test_a_snapshots_place_outlives_a_stopped_server_but_not_a_week():
    # A server stopped overnight must find its snapshots usable: the log is kept from the
    # place a snapshot holds, however long ago it was renewed, for days.
    for i in range(3):
        library_image((i, 0, 0), vector=unit(i))
    first = VectorChange.objects.order_by("id").first().id
    long_ago = timezone.now() - changelog.READER_TIMEOUT - timedelta(hours=8)
    IndexReader.objects.create(name="snapshot:searchable:some-extractor", applied=first,
                               seen_at=long_ago)
    IndexReader.objects.create(name="host:123:abcdef", applied=first, seen_at=long_ago)

    changelog.changes_prune()

    assert list(IndexReader.objects.values_list("name", flat=True)) == [
        "snapshot:searchable:some-extractor"]
    assert VectorChange.objects.count() == 3
    IndexReader.objects.update(seen_at=timezone.now() - changelog.FILE_READER_TIMEOUT
                               - timedelta(seconds=1))
    changelog.changes_prune()
    assert not IndexReader.objects.exists() and VectorChange.objects.count() == 1


def test_the_logs_ends_are_read_from_its_key_not_from_every_entry():
    """Read before every search: a scan of a long log took 145 ms at two million entries."""
    from django.db import connection

    library_image((1, 0, 0), vector=unit(1))
    library_image((2, 0, 0), vector=unit(2))
    first, latest = changelog.log_bounds()
    entries = VectorChange.objects.order_by("id").values_list("id", flat=True)
    assert (first, latest) == (entries.first(), entries.last())
    if connection.vendor == "sqlite":  # PostgreSQL's planner scans a table this small
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + changelog._BOUNDS)
            plan = " ".join(str(step[-1]) for step in cursor.fetchall())
        assert "SCAN search_vectorchange" not in plan and "SEARCH search_vectorchange" in plan
