"""Small vector helpers the learned models share: a vector in a model's reduced space, and float32 matrices
packed into the models file."""

from __future__ import annotations

import base64

import numpy as np


def project(vector: np.ndarray, projection: np.ndarray | None) -> np.ndarray:
    """A vector in a model's space (``projection``: its directions as columns; ``None``: the full embedding),
    unit length, so that a dot product there is a cosine."""
    if projection is None:
        return vector.astype(np.float32)
    projected = vector.astype(np.float32) @ projection
    norm = float(np.sqrt(projected @ projected))  # np.linalg.norm's own formula, without its wrapper
    return projected / norm if norm else projected


def pack(matrix: np.ndarray) -> dict[str, object]:
    return {"shape": list(matrix.shape), "float32": base64.b64encode(matrix.astype("<f4").tobytes()).decode("ascii")}


def unpack(packed: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed["float32"]), dtype="<f4").reshape(tuple(packed["shape"])).copy()
