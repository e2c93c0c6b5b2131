"""The exact in-process index follows the database: adds, deletes and updates by anyone."""

import numpy as np
import pytest
from django.db import connection

from features.models import FeatureVector
from gallery.models import Image
from search.index import exact
from search.index.exact import ExactIndex
from tests.helpers import add_vector, fingerprint, library_image, unit

pytestmark = pytest.mark.django_db


def ids(hits):
    return [hit.image_id for hit in hits]


def brute_force(query, k=6, *, exclude=None, originals=None):
    rows = FeatureVector.objects.filter(extractor=fingerprint()).select_related("image")
    scored = sorted(
        ((-float(np.dot(np.asarray(row.vector), query)), row.image_id) for row in rows
         if row.image_id != exclude
         and (originals is None or row.image.is_original == originals)),
    )
    return [image_id for _, image_id in scored[:k]]


def test_it_sees_rows_added_and_deleted_after_it_was_loaded_without_reloading_all(monkeypatch):
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(10)]
    index = ExactIndex()
    assert ids(index.search(extractor=fingerprint(), query=unit(3), k=1)) == [images[3].pk]
    full_loads = []
    monkeypatch.setattr(exact, "_load_all",
                        lambda extractor, column: full_loads.append(extractor) or None)

    added = library_image((99, 0, 0), vector=unit(99))
    assert ids(index.search(extractor=fingerprint(), query=unit(99), k=1)) == [added.pk]
    images[3].delete()
    assert index.search(extractor=fingerprint(), query=unit(3), k=1)[0].image_id != images[3].pk
    assert index.size(extractor=fingerprint()) == 10
    assert full_loads == []


def test_it_sees_rows_written_with_plain_sql_behind_the_orms_back():
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(5)]
    index = ExactIndex()
    index.search(extractor=fingerprint(), query=unit(0), k=1)
    table = FeatureVector._meta.db_table
    # What another program (or another process) does: plain SQL on the same database.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE image_id = %s", [images[0].pk])
        cursor.execute(f"UPDATE {table} SET vector = %s WHERE image_id = %s",
                       [FeatureVector._meta.get_field("vector").get_db_prep_value(
                           unit(0), connection), images[1].pk])

    hits = index.search(extractor=fingerprint(), query=unit(0), k=2)

    assert ids(hits) == [images[1].pk, brute_force(unit(0), 2)[1]]
    assert hits[0].score == pytest.approx(1.0, abs=1e-6)


def test_it_filters_on_an_images_kind_after_the_kind_changes():
    images = [library_image((i, 0, 0), vector=unit(i)) for i in range(6)]
    index = ExactIndex()
    assert index.search(extractor=fingerprint(), query=unit(2), k=6, kind="original") == []

    images[2].is_original = True
    images[2].save(update_fields=["is_original"])

    assert ids(index.search(extractor=fingerprint(), query=unit(0), k=6, kind="original")) == [
        images[2].pk]


def test_it_agrees_with_brute_force_under_every_filter():
    images = [library_image((i, i, 0), vector=unit(i), original=i % 4 == 0) for i in range(60)]
    index = ExactIndex()
    query = unit(1000)

    assert ids(index.search(extractor=fingerprint(), query=query, k=10)) == brute_force(query, 10)
    assert ids(index.search(extractor=fingerprint(), query=query, k=10, kind="original")) == (
        brute_force(query, 10, originals=True))
    assert ids(index.search(extractor=fingerprint(), query=query, k=10, kind="upload",
                            exclude_image_ids=[images[1].pk])) == (
        brute_force(query, 10, originals=False, exclude=images[1].pk))


def test_it_keeps_each_extractors_vectors_apart():
    image = library_image((1, 0, 0), vector=unit(1))
    add_vector(image, unit(2, dim=64), extractor="another-model-v1")
    index = ExactIndex()

    assert ids(index.search(extractor=fingerprint(), query=unit(1), k=5)) == [image.pk]
    assert ids(index.search(extractor="another-model-v1", query=unit(2, dim=64), k=5)) == [
        image.pk]
    assert index.search(extractor="never-used", query=unit(1), k=5) == []


def test_it_holds_one_copy_of_the_matrix():
    images = Image.objects.bulk_create(
        Image(filename=f"{i}.png", file=f"images/{i}.png", thumbnail=f"thumbnails/{i}.jpg",
              name=f"{i}.png", sha256=f"{i:064x}", width=1, height=1, format="PNG",
              size_bytes=1)
        for i in range(1000))
    FeatureVector.objects.bulk_create(
        FeatureVector(image=image, extractor=fingerprint(), dim=192, vector=unit(i))
        for i, image in enumerate(images))
    index = ExactIndex()

    assert index.size(extractor=fingerprint()) == 1000
    matrix_bytes = 1000 * 192 * 4
    # The float32 rows plus three small per-row arrays and a little room to grow.
    assert matrix_bytes < index.memory_bytes(extractor=fingerprint()) < 1.2 * matrix_bytes


def test_an_expanded_search_reads_the_change_log_once_and_sees_a_vector_written_before_it():
    from django.test.utils import CaptureQueriesContext

    for seed in range(8):
        add_vector(library_image((seed * 30, 40, 50), with_vector=False), unit(seed))
    index = ExactIndex()
    index.search(extractor=fingerprint(), query=unit(0), k=3)  # loaded
    newest = library_image((250, 250, 250), with_vector=False)
    add_vector(newest, unit(100))

    with CaptureQueriesContext(connection) as queries:
        hits = index.search(extractor=fingerprint(), query=unit(100), k=3, expand_neighbours=2)

    assert ids(hits)[0] == newest.pk
    log_reads = [q["sql"] for q in queries.captured_queries
                 if "search_vectorchange" in q["sql"] and "MAX(" in q["sql"].upper()]
    assert len(log_reads) == 1
