"""Guarding the live index: a rebuild that makes retrieval worse is not published.

``index build`` writes the new generation (fitting its ranking and decline models on the question bank's train
split), runs the clean question set and the bank's dev split against the current and the new generation,
prints both, and publishes the new one only when neither hit@3 (on either set) nor the bank's decline recall
dropped by more than the configured margin (``--force`` publishes anyway). A refusal is recorded beside the
generations, so the last good generation is served, and ``index status`` and the bot's log say why, until a
build is published.

The caller holds the writer lock (``bot.storage.locks.exclusive_writes``) for the whole build: nothing else
may publish, and so prune, while the new generation waits unpublished for its verdict.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.config import Config
from bot.core.answer import Answerer, LiveIndex
from bot.core.quality_models import models_set_aside
from bot.corpus.reader import Corpus
from bot.errors import IndexUnavailableError, UserFacingError
from bot.evaluation.metrics import EvalQuestion, RetrieverReport, evaluate, format_table, load_bank_questions, load_questions
from bot.index.encoder import Encoder
from bot.index.store import (
    BuildResult,
    SearchIndex,
    build_index,
    current_generation,
    discard,
    publish,
    read_generation,
    record_refusal,
)

log = logging.getLogger(__name__)


class RegressionRefused(UserFacingError):
    """The new index answers the question set worse than the live one."""


def _current_index(config: Config, encoder: Encoder) -> SearchIndex | None:
    generation = current_generation(config.index_dir)
    if generation is None:
        return None
    try:
        return read_generation(config.index_dir / generation, encoder)
    except IndexUnavailableError as exc:
        log.info("no usable current index to compare with (%s)", exc)
        return None


def _report(config: Config, encoder: Encoder, index: SearchIndex, label: str, questions: list[EvalQuestion]) -> RetrieverReport:
    answerer = Answerer(config.retrieval, encoder, LiveIndex(index))
    report = evaluate(answerer, questions, config.retrieval.retriever)
    return RetrieverReport(label, report.results)


def _question_sets(config: Config) -> dict[str, list[EvalQuestion]]:
    """The sets the guard measures with: the clean question set and the bank's dev split, those present."""
    sets = {}
    if config.eval_questions.is_file():
        sets[config.eval_questions.name] = load_questions(config.eval_questions)
    try:
        sets[f"{config.eval_bank.name} (dev split)"] = load_bank_questions(config.eval_bank, "dev")
    except UserFacingError as exc:
        log.info("the quality guard runs without the question bank: %s", exc)
    return sets


def guarded_build(config: Config, encoder: Encoder, corpus: Corpus | None = None, *, force: bool = False,
                  use_cache: bool = True, say: Callable[[str], None] = print) -> BuildResult:
    """Build a generation (fitting its quality models) and publish it unless it regresses on the question sets.

    Without ``corpus``, the corpus is read now (under the caller's writer lock), so the build includes every
    change published before it started."""
    from bot.evaluation.fitting import quality_deriver

    old = _current_index(config, encoder)
    result = build_index(config, encoder, corpus, use_cache=use_cache, publish_now=False,
                         derive=quality_deriver(config, encoder))
    sets = _question_sets(config)
    if old is None or not sets or models_set_aside(old):
        reason = "no current index to compare with" if old is None else \
            "no question set or bank to measure with" if not sets else \
            (f"the current index {old.generation} was fitted with models this version sets aside (other features): "
             "it answers in the retriever's order, which is no baseline for the new models")
        say(f"quality guard skipped: {reason}")
        publish(config.index_dir, result.generation)
        return result
    new = result.index or read_generation(config.index_dir / result.generation, encoder)
    allowed = config.evaluation.max_hit3_drop
    problems = []
    for name, questions in sets.items():
        before = _report(config, encoder, old, "before", questions)
        after = _report(config, encoder, new, "after", questions)
        say(f"quality guard on {name} ({config.retrieval.retriever}):\n{format_table([before, after])}")
        if before.hit_at(3) - after.hit_at(3) > allowed:
            problems.append(f"hit@3 {before.hit_at(3):.3f} -> {after.hit_at(3):.3f} on {name}")
        if before.out_of_scope and before.decline_accuracy - after.decline_accuracy > allowed:
            problems.append(f"decline recall {before.decline_accuracy:.3f} -> {after.decline_accuracy:.3f} on {name}")
    if problems and not force:
        discard(config.index_dir, result.generation)
        reason = "; ".join(problems)
        record_refusal(config.index_dir, {
            "corpus_hash": result.manifest["corpus_hash"], "kept": old.generation, "refused": result.generation,
            "reason": reason, "refused_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")})
        log.warning("quality guard refused %s (%s); the last good generation %s stays current",
                    result.generation, reason, old.generation)
        raise RegressionRefused(
            f"the new index lowers {reason} (more than the allowed {allowed:.3f}); the live index is unchanged, "
            "and it is served (and `index status` says so) until a build is published. "
            "Fix the corpus, or publish anyway with: redlines-bot index build --force")
    publish(config.index_dir, result.generation)
    return result
