"""Reading many rows of a few numbers each (a million at a worker's start) into NumPy."""

import numpy as np
from django.db import connections


def values_array(queryset, *, dtype=np.int64) -> np.ndarray:
    """A ``values_list`` query's rows as one array (rows x columns): the ORM builds the
    query, the database cursor returns plain tuples. A million rows made into ORM rows
    took seconds longer, before the worker's first pass after its start.

    For numeric columns without NULLs only: the fields' own conversions are skipped (a
    NULL fails for integers, and is NaN for floats)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        columns = len(cursor.description)
    return np.asarray(rows, dtype=dtype).reshape(len(rows), columns)
