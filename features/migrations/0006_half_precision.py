"""SQLite: the float32 vectors written before are rewritten as float16 (features/fields.py),
in chunks; PostgreSQL keeps pgvector's columns as they are."""

import numpy as np
from django.db import migrations

CHUNK = 2000


def to_half(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM features_featurevector")
        last = cursor.fetchone()[0]
        for start in range(0, last + 1, CHUNK):
            cursor.execute("SELECT id, dim, vector, augmented FROM features_featurevector "
                           "WHERE id >= %s AND id < %s", [start, start + CHUNK])
            rows = [(_half(vector, dim), _half(augmented, dim), pk)
                    for pk, dim, vector, augmented in cursor.fetchall()]
            cursor.executemany("UPDATE features_featurevector SET vector = %s, augmented = %s "
                               "WHERE id = %s", rows)


def _half(blob, dim):
    """A float32 row as float16 bytes; one already that size (or none) stays."""
    if blob is None or len(blob) != 4 * dim:
        return blob
    return np.frombuffer(blob, dtype="<f4").astype("<f2").tobytes()


class Migration(migrations.Migration):
    dependencies = [("features", "0005_serving_extractor")]

    operations = [migrations.RunPython(to_half, migrations.RunPython.noop, elidable=True)]
