"""all-MiniLM-L6-v2 through sentence-transformers (torch): the reference encoder the ONNX one is checked against."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.errors import ModelUnavailableError
from bot.index.encoder import Progress, encode_by_length, weights_fingerprint


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, offline."""

    def __init__(self, model_id: str, folder: Path, batch_size: int = 32) -> None:
        # Fail fast rather than retry a model hub for a minute on a machine with no network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(str(folder), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any failure here means the same thing to the user
            raise ModelUnavailableError(f"cannot load the embedding model from {folder}: {exc}") from exc
        self.model_id = model_id
        self.fingerprint = weights_fingerprint(folder)
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if dimension is None:
            raise ModelUnavailableError(f"the model in {folder} does not state its embedding dimension")
        self.dimension = int(dimension)
        self.batch_size = batch_size

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode_query(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=self.batch_size,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        def encode_batch(batch: Sequence[str]) -> np.ndarray:
            return self._model.encode_document(list(batch), normalize_embeddings=True, convert_to_numpy=True,
                                               batch_size=self.batch_size, show_progress_bar=False)

        return encode_by_length(encode_batch, texts, self.batch_size, self.dimension, progress)
