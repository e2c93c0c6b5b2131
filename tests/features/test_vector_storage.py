"""Vectors on SQLite are stored at half precision: 2 bytes a component, read back as
float32 within what search can see; a library written before is rewritten by migration."""

import importlib
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection

from features.models import FeatureVector
from tests.helpers import STORED_TOLERANCE, library_image, unit

pytestmark = pytest.mark.django_db

migration = importlib.import_module("features.migrations.0006_half_precision")


@pytest.fixture(autouse=True)
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps pgvector's own columns")


def stored_bytes(row_id: int) -> tuple[int, int | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT length(vector), length(augmented) FROM features_featurevector "
                       "WHERE id = %s", [row_id])
        return cursor.fetchone()


def test_a_vector_takes_two_bytes_a_component_and_reads_back_close():
    vector = unit(3)
    image = library_image((10, 20, 30), vector=vector)
    row = FeatureVector.objects.get(image=image)

    assert stored_bytes(row.pk) == (2 * vector.size, None)
    assert row.vector.dtype == np.float32
    assert np.allclose(row.vector, vector, atol=STORED_TOLERANCE)
    assert float(row.vector @ vector) == pytest.approx(1.0, abs=STORED_TOLERANCE)


def test_the_migration_rewrites_float32_rows_at_half_precision():
    plain, blended = unit(4), unit(5)
    row = FeatureVector.objects.get(image=library_image((1, 2, 3), vector=plain))
    with connection.cursor() as cursor:  # as an earlier version wrote them
        cursor.execute("UPDATE features_featurevector SET vector = %s, augmented = %s "
                       "WHERE id = %s", [plain.astype("<f4").tobytes(),
                                         blended.astype("<f4").tobytes(), row.pk])
    assert stored_bytes(row.pk) == (4 * plain.size, 4 * blended.size)

    migration.to_half(None, SimpleNamespace(connection=connection))

    assert stored_bytes(row.pk) == (2 * plain.size, 2 * blended.size)
    row.refresh_from_db()
    assert np.allclose(row.vector, plain, atol=STORED_TOLERANCE)
    assert np.allclose(row.augmented, blended, atol=STORED_TOLERANCE)
