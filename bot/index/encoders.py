"""Choosing and loading the configured encoder: the one place that knows every implementation.

Kept apart from ``encoder`` (the protocol and shared helpers) so that implementations import the helpers
without the helpers importing the implementations.
"""

from __future__ import annotations

import logging

from bot.config import Config
from bot.index.encoder import Encoder, model_folder, pin_threads

log = logging.getLogger(__name__)


def load_encoder(config: Config) -> Encoder:
    """Build the encoder named in config, with threads pinned first."""
    pin_threads(config.threads.torch, config.threads.faiss, use_torch=config.model.encoder == "torch")
    folder = model_folder(config.model.package)
    if config.model.encoder == "onnx":
        from bot.index.onnx_encoder import OnnxEncoder

        return OnnxEncoder(config.model.id, folder, cache_dir=config.index_dir / "onnx",
                           batch_size=config.model.batch_size, threads=config.threads.torch,
                           max_tokens=config.model.max_tokens)
    from bot.index.torch_encoder import SentenceTransformerEncoder as TorchEncoder

    log.info("loading %s from %s", config.model.id, folder)
    return TorchEncoder(config.model.id, folder, config.model.batch_size)
