"""Guarding the live index: a rebuild that makes retrieval worse is not published.

``index build`` writes the new generation, runs the project's question set against the current and the
new generation, prints both, and publishes the new one only when hit@3 did not drop by more than the
configured margin (``--force`` publishes anyway). A refusal is recorded beside the generations, so the
last good generation is served, and ``index status`` and the bot's log say why, until a build is published.

The caller holds the writer lock (``bot.storage.locks.exclusive_writes``) for the whole build: nothing else
may publish, and so prune, while the new generation waits unpublished for its verdict.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.config import Config
from bot.core.answer import Answerer, LiveIndex
from bot.corpus.reader import Corpus
from bot.errors import IndexUnavailableError, UserFacingError
from bot.evaluation.metrics import RetrieverReport, evaluate, format_table, load_questions
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


def _report(config: Config, encoder: Encoder, index: SearchIndex, label: str) -> RetrieverReport:
    answerer = Answerer(config.retrieval, encoder, LiveIndex(index))
    report = evaluate(answerer, load_questions(config.eval_questions), config.retrieval.retriever)
    return RetrieverReport(label, report.results)


def guarded_build(config: Config, encoder: Encoder, corpus: Corpus | None = None, *, force: bool = False,
                  use_cache: bool = True, say: Callable[[str], None] = print) -> BuildResult:
    """Build a generation and publish it unless it regresses on the question set.

    Without ``corpus``, the corpus is read now (under the caller's writer lock), so the build includes every
    change published before it started."""
    old = _current_index(config, encoder)
    result = build_index(config, encoder, corpus, use_cache=use_cache, publish_now=False)
    questions = config.eval_questions
    if old is None or not questions.is_file():
        reason = "no current index to compare with" if old is None else f"no question set at {questions}"
        say(f"quality guard skipped: {reason}")
        publish(config.index_dir, result.generation)
        return result
    new = result.index or read_generation(config.index_dir / result.generation, encoder)
    before = _report(config, encoder, old, "before")
    after = _report(config, encoder, new, "after")
    say(f"quality guard on {questions.name} ({config.retrieval.retriever}):\n{format_table([before, after])}")
    drop = before.hit_at(3) - after.hit_at(3)
    if drop > config.evaluation.max_hit3_drop and not force:
        discard(config.index_dir, result.generation)
        reason = f"hit@3 {before.hit_at(3):.3f} -> {after.hit_at(3):.3f} on {questions.name}"
        record_refusal(config.index_dir, {
            "corpus_hash": result.manifest["corpus_hash"], "kept": old.generation, "refused": result.generation,
            "reason": reason, "refused_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")})
        log.warning("quality guard refused %s (%s); the last good generation %s stays current",
                    result.generation, reason, old.generation)
        raise RegressionRefused(
            f"the new index lowers hit@3 from {before.hit_at(3):.3f} to {after.hit_at(3):.3f} "
            f"(more than the allowed {config.evaluation.max_hit3_drop:.3f}); the live index is unchanged, and it "
            "is served (and `index status` says so) until a build is published. "
            "Fix the corpus, or publish anyway with: redlines-bot index build --force")
    publish(config.index_dir, result.generation)
    return result
