"""A vector column that works on every supported database, stored at half precision on
SQLite: a unit vector of ResNet50's loses nothing that search or duplicates can see there
(cosines move by about 1e-4; `manage.py evaluate` prints the same figures), and a library
of a million images takes half the disk (8 KB an image for its plain and blended vectors)."""

import numpy as np
from django.db import models

from core.vectors import pgvector_literal

# How SQLite stores a vector's components: little-endian float16.
STORED = np.dtype("<f2")


class VectorField(models.Field):
    """A 1-D vector of any length, read back as float32.

    On PostgreSQL it is a pgvector ``vector`` column (search indexes it as
    ``halfvec``); elsewhere it is the raw little-endian float16 bytes, which NumPy
    reads back without parsing (migration features/0006 turned earlier float32 rows into
    those).
    """

    description = "Vector (float16 bytes on SQLite)"

    def db_type(self, connection):
        return "vector" if connection.vendor == "postgresql" else "blob"

    def from_db_value(self, value, expression, connection):
        return None if value is None else to_vector(value)

    def to_python(self, value):
        return None if value is None else to_vector(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        vector = np.asarray(value, dtype=np.float32).ravel()
        if connection.vendor == "postgresql":
            # pgvector's text input form; psycopg sends it untyped so the server casts it.
            return pgvector_literal(vector)
        return vector.astype(STORED).tobytes()


def to_vector(value) -> np.ndarray:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return np.frombuffer(value, dtype=STORED).astype(np.float32)
    if isinstance(value, str):
        return np.array(value.strip("[]").split(","), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)
