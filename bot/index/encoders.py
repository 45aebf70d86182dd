"""Choosing and loading the configured encoder: the one place that knows every implementation.

Kept apart from ``encoder`` (the protocol and shared helpers) so that implementations import the helpers
without the helpers importing the implementations.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.config import Config
from bot.index.encoder import Encoder, model_folder, pin_threads

log = logging.getLogger(__name__)


def encoder_folder(config: Config, *, train: bool = False) -> tuple[Path, dict | None]:
    """The model folder to load and, for the adapted encoder (``model.adapt``), its ``adaptation.json``.

    ``train`` (index builds) trains the adapted encoder for the current training data when it is missing.
    """
    folder = model_folder(config.model.package)
    if not config.model.adapt:
        return folder, None
    from bot.index.adaptation import adapted_folder, read_record

    adapted = adapted_folder(config, folder, train=train)
    return adapted, read_record(adapted)


def load_encoder(config: Config, *, train: bool = False) -> Encoder:
    """Build the encoder named in config, with threads pinned first: the packaged model, or with
    ``model.adapt`` the model adapted to this corpus (``train``: adapt it first if needed, for index builds)."""
    pin_threads(config.threads.torch, config.threads.faiss, use_torch=config.model.encoder == "torch")
    folder, adaptation = encoder_folder(config, train=train)
    if adaptation:
        log.info("using the adapted encoder %s (from %s)", adaptation["key"], folder)
    if config.model.encoder == "onnx":
        from bot.index.onnx_encoder import OnnxEncoder

        # The adapted model's export sits in its own folder; the packaged model's in index/onnx/.
        return OnnxEncoder(config.model.id, folder, cache_dir=folder if adaptation else config.index_dir / "onnx",
                           batch_size=config.model.batch_size, threads=config.threads.torch,
                           max_tokens=config.model.max_tokens, adaptation=adaptation)
    from bot.index.torch_encoder import SentenceTransformerEncoder as TorchEncoder

    log.info("loading %s from %s", config.model.id, folder)
    return TorchEncoder(config.model.id, folder, config.model.batch_size, adaptation=adaptation)
