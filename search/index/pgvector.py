"""The PostgreSQL index: pgvector's HNSW over ``halfvec`` with cosine distance.

Searches compare each row's augmented vector where the worker has made one, else its
plain vector: ``COALESCE(augmented, vector)``. Migration search/0003 builds
``USING hnsw ((COALESCE(augmented, vector)::halfvec(2048)) halfvec_cosine_ops)
WHERE dim = 2048``, pgvector's pattern for a column holding vectors of several
lengths. A search is one query that orders by the same expression, so the planner
walks that index. Iterative index scans (``hnsw.iterative_scan = relaxed_order``)
keep walking until the filters (kind, the query image itself) have let k rows
through. The k candidates are then re-scored in full float32 precision from the
stored vectors and sorted by that, so halfvec rounding never shows in the result.

Vectors of another length are searched by the same query without an index (an
exact scan): correct, only slower.
"""

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from core.vectors import pgvector_literal
from features.fields import to_vector
from features.models import FeatureVector
from gallery.models import Image
from search.changelog import changes_prune_if_due
from search.index.base import Hit, VectorIndex

INDEXED_DIM = 2048
SEARCHABLE = "COALESCE(fv.augmented, fv.vector)"


def search_sql(*, dim: int, kind: str, exclude: bool, min_similarity: bool,
               with_vectors: bool = False) -> str:
    """The search query; ``dim`` is written into the text so the planner matches the index."""
    dim = int(dim)
    vectors = connection.ops.quote_name(FeatureVector._meta.db_table)
    images = connection.ops.quote_name(Image._meta.db_table)
    filters = ["fv.extractor = %(extractor)s", f"fv.dim = {dim}"]
    if Image.Kind(kind).is_original is not None:
        filters.append("img.is_original = %(is_original)s")
    if exclude:
        filters.append("NOT (fv.image_id = ANY(%(exclude)s))")
    outer = "WHERE 1 - (vector <=> %(query)s::vector) >= %(min_similarity)s" if min_similarity else ""
    return f"""
        WITH candidates AS MATERIALIZED (
            SELECT fv.image_id, {SEARCHABLE} AS vector
            FROM {vectors} fv JOIN {images} img ON img.id = fv.image_id
            WHERE {" AND ".join(filters)}
            ORDER BY {SEARCHABLE}::halfvec({dim}) <=> %(query)s::halfvec({dim})
            LIMIT %(k)s
        )
        SELECT image_id, 1 - (vector <=> %(query)s::vector) AS similarity
               {", vector::text" if with_vectors else ""}
        FROM candidates {outer}
        ORDER BY similarity DESC, image_id
    """


class PgvectorIndex(VectorIndex):
    def _search(self, *, extractor, query, k, kind="all", min_similarity=None,
                exclude_image_ids=(), with_vectors=False) -> list[Hit]:
        query = np.asarray(query, dtype=np.float32).ravel()
        sql = search_sql(dim=query.size, kind=kind, exclude=bool(exclude_image_ids),
                         min_similarity=min_similarity is not None, with_vectors=with_vectors)
        params = {
            "extractor": extractor,
            "is_original": Image.Kind(kind).is_original,
            "exclude": sorted(int(i) for i in exclude_image_ids),
            "query": pgvector_literal(query),
            "k": int(k),
            "min_similarity": min_similarity,
        }
        changes_prune_if_due()  # nothing here reads the change log: keep it short
        with transaction.atomic(), connection.cursor() as cursor:
            set_search_options(cursor, k=k)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [Hit(int(row[0]), float(row[1]), to_vector(row[2]) if with_vectors else None)
                for row in rows]


def set_search_options(cursor, *, k: int) -> None:
    """For this transaction only: search breadth, and keep scanning until k pass the filters."""
    ef_search = max(int(settings.SEARCH_HNSW_EF_SEARCH), int(k))
    cursor.execute(
        "SELECT set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
        [str(ef_search)],
    )
