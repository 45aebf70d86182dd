"""The adapted encoder: all-MiniLM-L6-v2 fine-tuned on this corpus's phrasings, seeded, then exported to ONNX.

Trained with sentence-transformers' own trainer (``SentenceTransformerTrainer``) and
``MultipleNegativesRankingLoss``: each phrasing is pulled towards the passage that answers it and away from
the other passages of its batch (no two rows of a batch share a text, so no passage is its own negative).
One CPU thread, every seed set and PyTorch's deterministic algorithms on: two trainings on the same data give
the same weights, so the adapted model is an artifact of its inputs like the index.

It lives in ``index/adapted/<key>/``, where the key hashes the training pairs, the base weights and the
recipe: a build trains only when one of them changed. The folder is a sentence-transformers model folder
(weights, tokenizer, pooling) with the ONNX export beside the weights (``model-<fingerprint>.onnx``, by
``bot.index.onnx_encoder.export_onnx`` as for the base model) and ``adaptation.json``, which says what it was
trained on and how long it took.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import resource
import shutil
import time
from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.corpus.reader import Corpus
from bot.errors import IndexUnavailableError, ModelUnavailableError
from bot.index.encoder import weights_fingerprint
from bot.index.training_pairs import TrainingPair, pairs_digest, training_pairs
from bot.storage.atomic import fsync_dir, write_bytes_atomic

log = logging.getLogger(__name__)

ADAPTED_DIR = "adapted"
RECORD = "adaptation.json"


@dataclass(frozen=True)
class Recipe:
    """How the adapted encoder is trained; part of its key, so a change retrains."""

    version: int = 1
    loss: str = "MultipleNegativesRankingLoss"
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    seed: int = 20261130
    # Hard negatives per pair, mined with the base model (sentence-transformers' ``mine_hard_negatives``): the
    # nearest other passage, kept only when it scores at least 5 % below the positive (else it may answer too).
    hard_negatives: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RECIPE = Recipe()


def adaptation_key(pairs: Sequence[TrainingPair], base_fingerprint: str, recipe: Recipe | None = None) -> str:
    """What names an adapted model: its training data, the base weights and the recipe (seed included)."""
    recipe = recipe or RECIPE
    payload = json.dumps({"pairs": pairs_digest(pairs), "base": base_fingerprint, "recipe": recipe.as_dict()},
                         sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def adapted_root(index_dir: Path) -> Path:
    return index_dir / ADAPTED_DIR


def link_adapted(source_index_dir: Path, index_dir: Path) -> None:
    """Each adapted encoder trained under ``source_index_dir``, linked one by one into ``index_dir`` (a scratch
    copy for the bench, a test project), so that nothing is trained again there; pruning there removes only the
    links (``_prune``), never the folders they point to."""
    trained = adapted_root(source_index_dir)
    if not trained.is_dir():
        return
    adapted_root(index_dir).mkdir(parents=True, exist_ok=True)
    for folder in trained.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            (adapted_root(index_dir) / folder.name).symlink_to(folder.resolve())


def read_record(folder: Path) -> dict[str, Any] | None:
    """The folder's ``adaptation.json``, or None when it is not a finished adapted model."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("key") == folder.name else None


def ensure_adapted(index_dir: Path, base_folder: Path, pairs: Sequence[TrainingPair], recipe: Recipe | None = None,
                   keep: frozenset[str] | set[str] = frozenset()) -> Path:
    """The adapted model for these pairs: the cached one, or trained now (minutes) when there is none.

    After training, adapted models other than this one and those in ``keep`` (the ones the current and
    previous index generations were built with) are removed: each takes about 180 MB.
    """
    key = adaptation_key(pairs, weights_fingerprint(base_folder), recipe)
    folder = adapted_root(index_dir) / key
    if read_record(folder) is not None:
        log.info("adapted encoder %s is cached in %s", key, folder)
        return folder
    if not pairs:
        raise ModelUnavailableError("model.adapt is on but the corpus has no phrasings to adapt the encoder to")
    log.info("adapting the encoder to %d phrasing pairs (key %s); this takes a few minutes", len(pairs), key)
    train_adapted(base_folder, pairs, folder, recipe)
    _prune(adapted_root(index_dir), keep | {key})
    return folder


def train_adapted(base_folder: Path, pairs: Sequence[TrainingPair], target: Path,
                  recipe: Recipe | None = None) -> dict[str, Any]:
    """Fine-tune the base model on ``pairs`` and write the model folder ``target`` (atomically: a folder
    that exists is complete). Returns what ``adaptation.json`` records."""
    recipe = recipe or RECIPE
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import torch
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    except ImportError as exc:
        raise ModelUnavailableError(f"adapting the encoder needs the 'adapt' extra: pip install -e '.[adapt]' "
                                    f"({exc})") from None
    try:  # sentence-transformers 6 moved these; 5 has them at the top
        from sentence_transformers.sentence_transformer import losses
        from sentence_transformers.sentence_transformer.training_args import (
            BatchSamplers,
            SentenceTransformerTrainingArguments,
        )
    except ImportError:
        # sentence-transformers 5's layout; the installed 6 has no stubs for it, hence the ignores.
        from sentence_transformers import losses  # type: ignore[no-redef,attr-defined]
        from sentence_transformers.training_args import (  # type: ignore[no-redef,import-not-found]
            BatchSamplers,
            SentenceTransformerTrainingArguments,
        )
    from bot.index.onnx_encoder import export_onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    started, cpu_started = time.monotonic(), _cpu_seconds()
    try:
        # One thread: the sums inside matrix products then run in one order, so the weights repeat exactly.
        torch.set_num_threads(1)
        model = SentenceTransformer(str(base_folder), device="cpu")
        dataset = Dataset.from_dict({"anchor": [p.anchor for p in pairs], "positive": [p.positive for p in pairs]})
        if recipe.hard_negatives:
            from sentence_transformers.util import mine_hard_negatives

            dataset = mine_hard_negatives(dataset, model, num_negatives=recipe.hard_negatives, relative_margin=0.05,
                                          sampling_strategy="top", output_format="n-tuple", verbose=False)
        args = SentenceTransformerTrainingArguments(
            output_dir=str(temp / "trainer"), num_train_epochs=recipe.epochs,
            per_device_train_batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
            warmup_steps=recipe.warmup_ratio, seed=recipe.seed, data_seed=recipe.seed, full_determinism=True,
            batch_sampler=BatchSamplers.NO_DUPLICATES, use_cpu=True, dataloader_num_workers=0,
            save_strategy="no", eval_strategy="no", logging_strategy="no", report_to="none", disable_tqdm=True,
        )
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                             loss=losses.MultipleNegativesRankingLoss(model))
        trainer.train()
        shutil.rmtree(temp / "trainer", ignore_errors=True)
        model.save(str(temp))
        fingerprint = weights_fingerprint(temp)
        train_seconds, train_cpu = time.monotonic() - started, _cpu_seconds() - cpu_started
        export_onnx(temp, temp / f"model-{fingerprint}.onnx")
        record = {
            "key": target.name, "fingerprint": fingerprint, "base_fingerprint": weights_fingerprint(base_folder),
            "recipe": recipe.as_dict(), "pairs": len(pairs), "pairs_sha256": pairs_digest(pairs),
            "pairs_by_origin": _count_by_origin(pairs),
            "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu, 1),
            "total_seconds": round(time.monotonic() - started, 1),
            "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        write_bytes_atomic(temp / RECORD, json.dumps(record, indent=2).encode("utf-8"))
        shutil.rmtree(target, ignore_errors=True)  # an unfinished folder (no record) from an older build
        os.rename(temp, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    log.info("adapted encoder %s trained in %.0f s (%.0f s CPU), %d pairs", target.name, record["train_seconds"],
             record["train_cpu_seconds"], len(pairs))
    return record


def _cpu_seconds() -> float:
    """User CPU time of this process and its children (the machine is shared: wall time alone misleads)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + children.ru_utime


def _count_by_origin(pairs: Sequence[TrainingPair]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.origin] = counts.get(pair.origin, 0) + 1
    return counts


def _prune(root: Path, keep: Set[str]) -> None:
    for path in root.iterdir():
        if path.is_symlink():  # an encoder linked from elsewhere (a test project, a bench copy): only the link goes
            if path.name not in keep:
                path.unlink()
            continue
        if path.is_dir() and path.name not in keep and not path.name.startswith(".tmp-"):
            log.info("removing adapted encoder %s (no index generation uses it)", path.name)
            shutil.rmtree(path, ignore_errors=True)


def current_pairs(config: Config, corpus: Corpus | None = None) -> list[TrainingPair]:
    """The training pairs of the corpus and bank as they are now (the bank is optional: a deployment may not
    ship it, and then the corpus's phrasings alone are used)."""
    from bot.corpus.reader import load_corpus
    from bot.evaluation.bank import load_bank

    corpus = corpus or load_corpus(config.corpus_dir)
    bank = []
    if config.eval_bank.is_dir() and any(config.eval_bank.glob("*.yaml")):
        bank = load_bank(config.eval_bank)
    else:
        log.warning("no question bank at %s: adapting on the corpus's phrasings only", config.eval_bank)
    return training_pairs(corpus, bank)


def generation_adaptations(index_dir: Path) -> list[str]:
    """Keys of the adapted encoders that the current and previous index generations were built with."""
    from bot.index.store import current_generation, previous_generation, read_manifest

    keys = []
    for generation in (current_generation(index_dir), previous_generation(index_dir)):
        if generation is None:
            continue
        try:
            adaptation = read_manifest(index_dir / generation)["model"].get("adaptation")
        except (IndexUnavailableError, AttributeError):
            continue
        if isinstance(adaptation, dict) and isinstance(adaptation.get("key"), str):
            keys.append(adaptation["key"])
    return keys


def adapted_folder(config: Config, base_folder: Path, *, train: bool = False) -> Path:
    """Which adapted model to load.

    For an index build (``train``): the one for the current training data, trained first if missing. For
    everything else: the one the current index was built with, so that questions are encoded like its
    passages even after live corpus edits changed the training data; failing that, the one for the
    current training data. None built yet is an error that says how to build one.
    """
    root = adapted_root(config.index_dir)
    in_use = generation_adaptations(config.index_dir)
    if train:
        return ensure_adapted(config.index_dir, base_folder, current_pairs(config), keep=set(in_use))
    if in_use and read_record(root / in_use[0]) is not None:
        return root / in_use[0]
    folder = root / adaptation_key(current_pairs(config), weights_fingerprint(base_folder))
    if read_record(folder) is None:
        raise ModelUnavailableError("model.adapt is on but no adapted encoder is built yet: run "
                                    "`redlines-bot index build` (it trains one first, a few minutes)")
    return folder
