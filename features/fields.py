"""A float32 vector column that works on every supported database."""

import numpy as np
from django.db import models

from core.vectors import pgvector_literal


class VectorField(models.Field):
    """A 1-D float32 vector of any length.

    On PostgreSQL it is a pgvector ``vector`` column (search indexes it as
    ``halfvec``); elsewhere it is the raw little-endian float32 bytes, which NumPy
    reads back without parsing.
    """

    description = "Float32 vector"

    def db_type(self, connection):
        return "vector" if connection.vendor == "postgresql" else "blob"

    def from_db_value(self, value, expression, connection):
        return None if value is None else to_vector(value)

    def to_python(self, value):
        return None if value is None else to_vector(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        vector = np.asarray(value, dtype="<f4").ravel()
        if connection.vendor == "postgresql":
            # pgvector's text input form; psycopg sends it untyped so the server casts it.
            return pgvector_literal(vector)
        return vector.tobytes()


def to_vector(value) -> np.ndarray:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(value), dtype="<f4").astype(np.float32)
    if isinstance(value, str):
        return np.array(value.strip("[]").split(","), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)
