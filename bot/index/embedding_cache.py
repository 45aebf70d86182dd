"""Vectors of texts already encoded, keyed by the text's hash, so a rebuild encodes only what changed."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from bot.storage.atomic import write_bytes_atomic

log = logging.getLogger(__name__)


class EmbeddingCache:
    """A per-model map from sha256(text) to its vector, kept in one ``.npz`` file."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    @classmethod
    def for_model(cls, folder: Path, model_id: str, fingerprint: str, dimension: int) -> EmbeddingCache:
        safe = "".join(ch if ch.isalnum() else "-" for ch in model_id)
        return cls(folder / f"{safe}-{fingerprint}.npz", dimension)

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                hashes, vectors = data["hashes"], data["vectors"]
            if vectors.ndim != 2 or vectors.shape[1] != self.dimension or len(hashes) != len(vectors):
                raise ValueError("shape does not match")
            self._vectors = {str(h): v for h, v in zip(hashes, vectors, strict=True)}
        except Exception as exc:  # noqa: BLE001 - a bad cache only costs re-encoding
            log.warning("ignoring unreadable embedding cache %s (%s)", self.path, exc)
            self._vectors = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text_hash: str) -> np.ndarray | None:
        return self._vectors.get(text_hash)

    def put(self, text_hash: str, vector: np.ndarray) -> None:
        self._vectors[text_hash] = vector

    def save(self, keep: set[str] | None = None) -> None:
        """Write the cache atomically, keeping only ``keep`` hashes when given (drops stale texts)."""
        items = [(h, v) for h, v in self._vectors.items() if keep is None or h in keep]
        hashes = np.array([h for h, _ in items], dtype="<U64")
        vectors = np.array([v for _, v in items], dtype=np.float32).reshape(len(items), self.dimension)
        buffer = io.BytesIO()
        np.savez(buffer, hashes=hashes, vectors=vectors)
        write_bytes_atomic(self.path, buffer.getvalue())
