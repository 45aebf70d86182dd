"""all-MiniLM-L6-v2 through ONNX Runtime: the same vectors as sentence-transformers, with less around the model.

The packaged weights are exported with torch once (``export_onnx``), cached beside the index in
``index/onnx/`` under the weights' fingerprint, then run with the ``tokenizers`` tokenizer, ONNX
Runtime on one thread, mean pooling over the attention mask and L2 normalisation — the steps of the
model's own sentence-transformers pipeline (Transformer → Pooling(mean) → Normalize).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.errors import ModelUnavailableError
from bot.index.encoder import Progress, encode_by_length, weights_fingerprint
from bot.storage.atomic import fsync_dir

log = logging.getLogger(__name__)

OPSET = 17


def export_onnx(model_folder: Path, target: Path) -> None:
    """Export the transformer to ONNX (dynamic batch and length), written atomically."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_folder)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones(1, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    axes = {"b": 0, "s": 1}
    dynamic = {name: {axes["b"]: "batch", axes["s"]: "sequence"}
               for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")}
    # The TorchScript exporter is deprecated but needs nothing beyond torch and onnx; the newer one needs
    # onnxscript. Its deprecation warnings are for us, not for whoever runs the bot.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(model), (example, torch.ones_like(example), torch.zeros_like(example)),
                          str(temp), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=OPSET,
                          dynamo=False)
    os.replace(temp, target)
    fsync_dir(target.parent)


class OnnxEncoder:
    """Drop-in ``Encoder`` backed by ONNX Runtime; records the same model id and weights fingerprint."""

    def __init__(self, model_id: str, folder: Path, cache_dir: Path, batch_size: int = 32, threads: int = 1,
                 max_tokens: int = 256, adaptation: dict | None = None) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailableError(f"the onnx encoder needs onnxruntime and tokenizers ({exc})") from None
        self.model_id = model_id
        self.fingerprint = weights_fingerprint(folder)
        self.adaptation = adaptation  # what the weights were adapted on (bot/index/adaptation.py), or None
        self.batch_size = batch_size
        onnx_path = cache_dir / f"model-{self.fingerprint}.onnx"
        if not onnx_path.exists():
            if not can_export():
                raise ModelUnavailableError(
                    f"the ONNX export of {model_id} is missing ({onnx_path}) and exporting it needs torch, which a "
                    "serving install leaves out. Install the build extras once — pip install 'redlines-bot[build]' "
                    "(or `make install` in a checkout) — and run `redlines-bot index build`; or copy the file from a "
                    "machine that has it")
            log.info("exporting %s to ONNX at %s (once)", model_id, onnx_path)
            try:
                export_onnx(folder, onnx_path)
            except Exception as exc:  # noqa: BLE001
                raise ModelUnavailableError(f"could not export the model to ONNX ({exc}); "
                                            "use model.encoder: torch") from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - a damaged cached export: say how to recover
            raise ModelUnavailableError(f"cannot load {onnx_path} ({exc}); delete it to export again") from exc
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        limit = _max_tokens(folder, max_tokens)
        self._tokenizer.enable_truncation(max_length=limit)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
        self.dimension = int(self._session.get_outputs()[0].shape[-1] or 384)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        # One ONNX run pads every text to the longest and holds attention for all of them at once: many
        # texts go in batches (red-team t21: 400 long questions in one run took 7.2 GB).
        if len(texts) <= self.batch_size:
            return self._encode(texts)
        return encode_by_length(self._encode, texts, self.batch_size, self.dimension)

    def encode_documents(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return encode_by_length(self._encode, texts, self.batch_size, self.dimension, progress)


def can_export() -> bool:
    """Whether this environment has what the one-time export needs (the build extras: torch, transformers, onnx)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers", "onnx"))
    except ImportError:
        return False


def _max_tokens(folder: Path, configured: int) -> int:
    """The model's own limit (sentence_bert_config.json), never more than configured."""
    try:
        limit = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
    except (OSError, KeyError, ValueError):
        return configured
    return min(int(limit), configured)
