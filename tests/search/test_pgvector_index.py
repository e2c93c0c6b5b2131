"""The pgvector index on a real PostgreSQL: the HNSW index, its plan, filters and recall."""

import re

import numpy as np
import pytest
from django.db import connection, transaction

from core.vectors import pgvector_literal
from features.models import FeatureVector
from gallery.models import Image
from search.index import get_index
from search.index.exact import ExactIndex
from search.index.pgvector import PgvectorIndex, search_sql, set_search_options

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXTRACTOR = "resnet50-test-2048"


def library(vectors: np.ndarray, *, originals=lambda i: False) -> list[int]:
    """Image rows (no files: the index never reads them) with 2048-d vectors."""
    images = Image.objects.bulk_create(
        Image(filename=f"{i}.jpg", file=f"images/{i}.jpg", thumbnail=f"thumbnails/{i}.jpg",
              name=f"{i}.jpg", sha256=f"{i:064x}", width=1, height=1, format="JPEG",
              size_bytes=1, is_original=originals(i))
        for i in range(len(vectors)))
    FeatureVector.objects.bulk_create(
        FeatureVector(image=image, extractor=EXTRACTOR, dim=vectors.shape[1], vector=vector)
        for image, vector in zip(images, vectors))
    return [image.pk for image in images]


def clustered(count, *, seed=0, clusters=20, spread=0.6):
    rng = np.random.default_rng(seed)
    centres = rng.gamma(0.6, 1.0, (clusters, 2048))
    rows = centres[rng.integers(0, clusters, count)] + spread * rng.gamma(0.6, 1.0, (count, 2048))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_postgres_gets_the_pgvector_index():
    assert isinstance(get_index(), PgvectorIndex)


def test_the_migrations_build_an_hnsw_index_over_what_searches_compare_as_halfvec_2048():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                       ["search_vector_hnsw_2048"])
        (definition,) = cursor.fetchone()
    # The augmented vector where the worker has made one, else the plain one.
    assert ("USING hnsw (((COALESCE(augmented, vector))::halfvec(2048)) halfvec_cosine_ops)"
            in definition)
    assert "WHERE (dim = 2048)" in definition


def test_the_search_query_walks_the_hnsw_index(settings):
    # The planner weighs ef_search against the table's size: on 2,000 rows a broad search
    # costs about what an exact sort does, so this test asks for a narrow one. At 100k
    # rows the default walks the index too (bench/search.py prints that plan).
    settings.SEARCH_HNSW_EF_SEARCH = 40
    # Half originals: a filter that keeps many rows walks the index too. (With very few
    # originals the planner rightly scans them exactly instead.)
    library(clustered(2000), originals=lambda i: i % 2 == 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE features_featurevector")
        cursor.execute("ANALYZE gallery_image")
    query = clustered(1, seed=9)[0]
    with transaction.atomic(), connection.cursor() as cursor:
        set_search_options(cursor, k=6)
        for kind in ("all", "original"):
            cursor.execute(
                "EXPLAIN " + search_sql(dim=2048, kind=kind, exclude=True, min_similarity=False),
                {"extractor": EXTRACTOR, "query": pgvector_literal(query), "k": 6,
                 "is_original": True, "exclude": [1], "min_similarity": None})
            plan = "\n".join(re.sub(r"'\[[^]]*\]'", "'[...]'", row[0])
                             for row in cursor.fetchall())
            assert "Index Scan using search_vector_hnsw_2048" in plan, plan


def test_it_agrees_with_exact_search(settings):
    settings.SEARCH_HNSW_EF_SEARCH = 100
    vectors = clustered(1500, seed=1)
    ids = library(vectors)
    queries = clustered(40, seed=2)
    pgvector, exact = PgvectorIndex(), ExactIndex()

    recalls, scores_agree = [], []
    for query in queries:
        approximate = pgvector.search(extractor=EXTRACTOR, query=query, k=6)
        truth = exact.search(extractor=EXTRACTOR, query=query, k=6)
        recalls.append(len({h.image_id for h in approximate} & {h.image_id for h in truth}) / 6)
        by_id = {hit.image_id: hit.score for hit in truth}
        scores_agree += [abs(hit.score - by_id[hit.image_id]) < 1e-5
                         for hit in approximate if hit.image_id in by_id]
    assert np.mean(recalls) >= 0.99
    assert all(scores_agree)
    assert len(ids) == 1500


def test_filters_still_return_k_results_through_iterative_index_scans(settings):
    # 300 uploads crowd the query's neighbourhood; the 8 originals lie far away. A
    # plain HNSW scan (ef_search 10) would find only uploads and filter them all out.
    settings.SEARCH_HNSW_EF_SEARCH = 10
    near, far = clustered(300, seed=3, clusters=1, spread=0.2), clustered(8, seed=4, clusters=8)
    ids = library(np.concatenate([near, far]), originals=lambda i: i >= 300)
    index = PgvectorIndex()

    originals = index.search(extractor=EXTRACTOR, query=near[0], k=6, kind="original")
    uploads = index.search(extractor=EXTRACTOR, query=near[0], k=6, kind="upload",
                           exclude_image_ids=[ids[0]])

    assert len(originals) == 6 and {hit.image_id for hit in originals} <= set(ids[300:])
    assert len(uploads) == 6 and ids[0] not in {hit.image_id for hit in uploads}
    assert [hit.score for hit in originals] == sorted((hit.score for hit in originals),
                                                      reverse=True)


def test_a_minimum_similarity_leaves_out_the_rest(settings):
    vectors = clustered(50, seed=5)
    library(vectors)
    query = vectors[0]

    hits = PgvectorIndex().search(extractor=EXTRACTOR, query=query, k=50, min_similarity=0.9)
    expected = int(np.sum(vectors @ query >= 0.9))

    assert len(hits) == expected and all(hit.score >= 0.9 for hit in hits)
