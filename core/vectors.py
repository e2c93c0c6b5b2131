"""Vector helpers every app shares: plain NumPy, no Django."""

import numpy as np


def normalise(rows: np.ndarray) -> np.ndarray:
    """Rows (or one vector) scaled to length 1, as float32; zero rows stay zero."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))


def pgvector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of a vector, ``[0.1,0.2,...]``, exact to float32."""
    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector, dtype=np.float32).ravel()) + "]"
