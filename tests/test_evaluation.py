"""Evaluation: metrics per retriever, calibration of the decline threshold, the build guard, the CLI."""

from __future__ import annotations

import json
import textwrap

import pytest

from bot import cli
from bot.config import load_config
from bot.core.answer import Answerer, LiveIndex
from bot.corpus.reader import load_corpus
from bot.errors import UserFacingError
from bot.evaluation.metrics import (
    EvalQuestion,
    QuestionResult,
    RetrieverReport,
    calibrate,
    evaluate,
    load_questions,
    write_threshold,
)
from bot.index import encoders as encoder_module
from bot.index.build_guard import RegressionRefused, guarded_build
from bot.index.store import build_index, current_generation, load_index
from bot.serving import resources

from .conftest import FakeEncoder, write_config

QUESTIONS = textwrap.dedent("""\
    - q: Who organised the call?
      expect: ["CeSIA"]
    - q: When is the deadline?
      expect: ["end of 2026"]
    - q: Where do rivers flow?
      expect: ["sea"]
    - q: pizza recipe mozzarella
      abstain: true
    """)


@pytest.fixture
def questions_file(project):
    path = project / "questions.yaml"
    path.write_text(QUESTIONS, encoding="utf-8")
    return path


def result(confidence: float, abstain: bool = False, rank: int | None = 1, answered: bool = True) -> QuestionResult:
    item = EvalQuestion("q", () if abstain else ("x",), abstain)
    return QuestionResult(item, answered, None if abstain else rank, confidence, 1.0)


def test_metrics_of_a_report():
    report = RetrieverReport("dense", (
        result(0.9, rank=1), result(0.8, rank=2), result(0.7, rank=None), result(0.3, answered=False, rank=1),
        result(0.2, abstain=True, answered=False), result(0.6, abstain=True, answered=True),
    ))
    assert report.hit_at(1) == 0.25 and report.hit_at(3) == 0.5
    assert report.mrr == pytest.approx((1 + 0.5) / 4)
    assert report.decline_accuracy == 0.5 and report.false_declines == 1


def test_calibrate_declines_most_while_keeping_false_declines_within_one_in_thirty():
    answerable = [result(0.5 + i / 100) for i in range(30)] + [result(0.31)]
    out_of_scope = [result(c, abstain=True) for c in (0.1, 0.2, 0.35, 0.45, 0.9)]
    calibration = calibrate(RetrieverReport("hybrid", tuple(answerable + out_of_scope)))
    # One false decline is allowed (31 answerable), so the 0.31 one may go; 0.45 is declined too.
    assert calibration.allowed_false_declines == 1
    assert 0.45 < calibration.threshold <= 0.5
    assert calibration.declined == 4 and calibration.false_declines == 1


def test_calibrate_spends_no_false_decline_it_does_not_need():
    answerable = [result(0.6 + i / 100) for i in range(30)]
    out_of_scope = [result(c, abstain=True) for c in (0.1, 0.3)]
    calibration = calibrate(RetrieverReport("hybrid", tuple(answerable + out_of_scope)))
    assert calibration.threshold == pytest.approx(0.45) and calibration.false_declines == 0


def test_write_threshold_keeps_the_rest_of_the_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("retrieval:\n  # keep me\n  decline_threshold: 0.5\n  top_k: 3\n", encoding="utf-8")
    calibration = calibrate(RetrieverReport("hybrid", tuple([result(0.6)] * 30 + [result(0.2, abstain=True)])))
    write_threshold(path, calibration, "hybrid", tmp_path / "q.yaml")
    text = path.read_text()
    assert "# keep me" in text and "top_k: 3" in text and "# calibrated" in text
    assert load_config(path).retrieval.decline_threshold == calibration.threshold


def test_evaluate_with_the_fake_encoder(config, fake_encoder, questions_file):
    build_index(config, fake_encoder)
    answerer = Answerer(config.retrieval, fake_encoder, LiveIndex(load_index(config, fake_encoder)))
    report = evaluate(answerer, load_questions(questions_file), "hybrid")
    assert report.hit_at(3) == 1.0 and report.decline_accuracy == 1.0


@pytest.mark.parametrize(("text", "message"), [("[", "not valid YAML"), ("- a: 1\n", "no 'q'"),
                                               ("- q: hi\n", "needs 'expect'"), ("x: 1\n", "must be a YAML list")])
def test_bad_question_sets_are_refused_clearly(tmp_path, text, message):
    path = tmp_path / "q.yaml"
    path.write_text(text)
    with pytest.raises(UserFacingError, match=message):
        load_questions(path)


def test_guard_refuses_an_index_that_answers_worse(project, fake_encoder, questions_file):
    write_config(project, extra=f"evaluation:\n  questions: {questions_file}\n")
    config = load_config(project / "config.yaml")
    corpus = load_corpus(config.corpus_dir)
    first = guarded_build(config, fake_encoder, corpus, say=lambda text: None)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("CeSIA", "a French group"), encoding="utf-8")
    said: list[str] = []
    with pytest.raises(RegressionRefused, match="hit@3"):
        guarded_build(config, fake_encoder, load_corpus(config.corpus_dir), say=said.append)
    assert "before" in said[0] and "after" in said[0]
    assert current_generation(config.index_dir) == first.generation
    assert len(list(config.index_dir.glob("gen-*"))) == 1
    forced = guarded_build(config, fake_encoder, load_corpus(config.corpus_dir), force=True, say=said.append)
    assert current_generation(config.index_dir) == forced.generation


def test_guard_does_not_compare_with_an_index_whose_models_are_set_aside(project, fake_encoder, questions_file,
                                                                          monkeypatch):
    # After an upgrade that changes the ranking features, the live generation's models are set aside and it answers
    # in the retriever's order: no baseline for the new models. The build says so and publishes.
    from bot.index import build_guard

    write_config(project, extra=f"evaluation:\n  questions: {questions_file}\n")
    config = load_config(project / "config.yaml")
    guarded_build(config, fake_encoder, load_corpus(config.corpus_dir), say=lambda text: None)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("CeSIA", "a French group"), encoding="utf-8")
    monkeypatch.setattr(build_guard, "models_set_aside", lambda index: True)
    said: list[str] = []
    built = guarded_build(config, fake_encoder, load_corpus(config.corpus_dir), say=said.append)
    assert current_generation(config.index_dir) == built.generation
    assert "quality guard skipped" in said[0] and "sets aside" in said[0]


def test_eval_command_prints_every_retriever_and_json(project, questions_file, capsys, monkeypatch, tmp_path):
    fake = FakeEncoder()
    monkeypatch.setattr(resources, "load_encoder", lambda config, **options: fake)
    monkeypatch.setattr(encoder_module, "load_encoder", lambda config, **options: fake)
    config = str(project / "config.yaml")
    build_index(load_config(config), fake)
    assert cli.main(["eval", "--questions", str(questions_file), "--config", config]) == 0
    out = capsys.readouterr().out
    for name in ("dense", "bm25", "hybrid", "hybrid-rrf"):
        assert f"\n{name} " in out
    assert cli.main(["eval", "--json", "--calibrate", "--questions", str(questions_file), "--config", config,
                     "--plot", str(tmp_path / "plot.png")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {r["retriever"] for r in payload["retrievers"]} == {"dense", "bm25", "hybrid", "hybrid-rrf"}
    assert {"hit@1", "hit@3", "mrr", "decline_accuracy", "false_declines", "p50_ms", "p99_ms"} <= set(payload["retrievers"][0])
    assert "threshold" in payload["calibration"]
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
