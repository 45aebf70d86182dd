"""The question bank: its format, its frozen split, and how eval scores it."""

from __future__ import annotations

import collections
import json
import textwrap

import pytest
import yaml

from bot import cli
from bot.config import load_config
from bot.core.answer import Answer, DeclineKind, Excerpt, Source
from bot.errors import UserFacingError
from bot.evaluation.bank import DECLINE_KINDS, LANGUAGES, SPLITS, BankItem, assign_splits, load_bank, write_splits
from bot.evaluation.metrics import (
    EvalQuestion,
    QuestionResult,
    RetrieverReport,
    excerpt_group,
    first_group_rank,
    format_breakdown,
    load_questions,
)
from bot.index import encoders as encoder_module
from bot.index.store import build_index
from bot.serving import resources

from .conftest import REPO, FakeEncoder

BANK = REPO / "tests" / "eval" / "bank"


def test_the_bank_is_large_labelled_and_split_once():
    items = load_bank(BANK)
    assert len(items) >= 600
    assert all(i.split in SPLITS and i.language in LANGUAGES for i in items)
    assert all(bool(i.answers) != bool(i.decline) for i in items)
    assert all(i.decline in DECLINE_KINDS for i in items if i.decline)
    per_category = collections.Counter(i.category for i in items)
    assert min(per_category.values()) >= 25
    for category in per_category:
        splits = collections.Counter(i.split for i in items if i.category == category)
        total = sum(splits.values())
        # Half to train, a quarter each to dev and test, give or take one item per category.
        assert abs(splits["train"] - total / 2) <= 2 and abs(splits["test"] - total / 4) <= 2, (category, splits)


def test_follow_ups_carry_their_conversation():
    follow_ups = [i for i in load_bank(BANK) if i.category == "follow-up"]
    assert follow_ups and all(i.context for i in follow_ups)


def test_assign_splits_is_seeded_stratified_and_keeps_existing_splits():
    items = [BankItem(f"q{n}", "en", "c", decline="off-topic" if n % 3 == 0 else None, answers=() if n % 3 == 0 else ("x",),
                      path="f", position=n) for n in range(40)]
    first, second = assign_splits(items, seed=7), assign_splits(items, seed=7)
    assert first == second and collections.Counter(first.values()) == {"train": 20, "dev": 10, "test": 10}
    declines = collections.Counter(first[("f", n)] for n in range(40) if n % 3 == 0)
    assert declines["train"] >= 6 and declines["dev"] >= 3 and declines["test"] >= 3
    fixed = [BankItem("q", "en", "c", answers=("x",), split="test", path="f", position=99)]
    assert assign_splits(fixed) == {}


def test_write_splits_adds_a_line_and_keeps_comments(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    text = textwrap.dedent("""\
        # a comment that must stay
        - q: "who signed?"
          lang: en
          category: obvious
          answers: [who-signed]
        - q: "pizza?"
          lang: en
          category: obvious
          decline: off-topic
        """)
    (bank / "en.yaml").write_text(text, encoding="utf-8")
    assert write_splits(bank) == 2
    written = (bank / "en.yaml").read_text(encoding="utf-8")
    assert written.startswith("# a comment that must stay") and written.count("  split: ") == 2
    assert write_splits(bank) == 0  # frozen: nothing moves on a second run
    assert [i.split for i in load_bank(bank)] == [i.split for i in load_bank(bank)]


@pytest.mark.parametrize(("item", "message"), [
    ({"q": "x", "lang": "en", "category": "c"}, "exactly one of"),
    ({"q": "x", "lang": "en", "category": "c", "answers": ["a"], "decline": "off-topic"}, "exactly one of"),
    ({"q": "x", "lang": "xx", "category": "c", "answers": ["a"]}, "'lang'"),
    ({"q": "x", "lang": "en", "category": "c", "decline": "rude"}, "'decline'"),
    ({"q": "x", "lang": "en", "category": "c", "answers": ["a"], "split": "final"}, "'split'"),
    ({"q": "x", "lang": "en", "category": "c", "answers": ["a"], "colour": "red"}, "unknown key"),
])
def test_malformed_bank_items_are_refused_clearly(tmp_path, item, message):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump([item]), encoding="utf-8")
    with pytest.raises(UserFacingError, match=message):
        load_bank(tmp_path)


def test_a_split_is_required_to_measure_one(tmp_path):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump([{"q": "x", "lang": "en", "category": "c", "answers": ["a"]}]))
    with pytest.raises(UserFacingError, match="split_bank.py"):
        load_bank(tmp_path, "test")


def _answer(groups: list[str], answered: bool = True, decline: str | None = None) -> Answer:
    excerpts = []
    for group in groups:
        doc, _, locator = group.partition("#")
        kind = "faq" if doc.startswith("faq:") else "letter"
        excerpts.append(Excerpt("t", 0.5, Source(doc, "T", locator or doc, None, kind, "en"), group))
    return Answer("q", answered, tuple(excerpts), 1.0, "hybrid", "en", "v", 0.5, decline)


def test_labels_match_passage_groups_and_sentences_count_for_their_paragraph():
    answer = _answer(["faq:deadline", "letter#¶4.2"])
    assert [excerpt_group(e) for e in answer.excerpts] == ["faq:deadline", "letter#¶4"]
    assert first_group_rank(answer, ("letter#¶4",)) == 2 and first_group_rank(answer, ("faq:x",)) is None


def test_declines_count_right_only_with_the_guard_reply_where_one_is_due():
    def result(kind: str, answered: bool, decline: str | None) -> QuestionResult:
        return QuestionResult(EvalQuestion("q", abstain=True, decline_kind=kind), answered, None, 0.0, 1.0, decline)

    assert result("off-topic", False, DeclineKind.NOT_COVERED).declined_right
    assert result("off-topic", False, DeclineKind.UNKNOWN_NAME).declined_right
    assert not result("off-topic", True, None).declined_right
    assert result("unknown-name", False, DeclineKind.UNKNOWN_NAME).declined_right
    assert not result("unknown-name", False, DeclineKind.NOT_COVERED).declined_right
    assert result("chitchat", False, "refused").declined_right
    assert not result("after-sources", False, DeclineKind.NOT_COVERED).declined_right


def test_breakdowns_by_category_language_and_kind():
    def result(category: str, language: str, rank: int | None, kind: str | None = None) -> QuestionResult:
        question = EvalQuestion("q", (), kind is not None, ("faq:a",) if kind is None else (), kind, category, language)
        return QuestionResult(question, kind is None and rank is not None, rank, 0.5, 1.0,
                              None if kind is None else DeclineKind.NOT_COVERED)

    report = RetrieverReport("hybrid", (result("obvious", "en", 1), result("obvious", "en", 3), result("french", "fr", None),
                                        result("off-topic", "fr", None, "off-topic")))
    assert report.breakdown(lambda q: q.category)["obvious"].hit_at(1) == 0.5
    assert report.breakdown(lambda q: q.language)["fr"].false_declines == 1
    metrics = report.metrics()
    assert metrics["by_decline_kind"]["off-topic"]["decline_accuracy"] == 1.0
    assert metrics["by_category"]["obvious"]["hit@3"] == 1.0
    table = format_breakdown([report], "by_language")
    assert table.splitlines()[0].startswith("language") and "\nfr " in table


def test_load_questions_reads_a_bank_file_too():
    questions = load_questions(BANK / "en-obvious.yaml")
    assert questions and all(q.category == "obvious" and (q.groups or q.abstain) for q in questions)


def test_eval_command_reads_the_bank_split_with_breakdowns(project, capsys, monkeypatch, tmp_path):
    fake = FakeEncoder()
    monkeypatch.setattr(resources, "load_encoder", lambda config: fake)
    monkeypatch.setattr(encoder_module, "load_encoder", lambda config: fake)
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "en.yaml").write_text(yaml.safe_dump([
        {"q": "Who organised the call?", "lang": "en", "category": "obvious", "split": "dev", "answers": ["who-organised"]},
        {"q": "pizza recipe mozzarella", "lang": "en", "category": "off-topic", "split": "dev", "decline": "off-topic"},
        {"q": "thanks!", "lang": "en", "category": "chitchat", "split": "test", "decline": "chitchat"},
    ]), encoding="utf-8")
    config = project / "config.yaml"
    config.write_text(config.read_text() + f"evaluation:\n  bank: {bank}\n", encoding="utf-8")
    build_index(load_config(config), fake)
    assert cli.main(["eval", "--split", "dev", "--retriever", "hybrid", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "(dev split) · 2 questions" in out and "\ncategory" in out and "\nlanguage" in out and "\ndecline kind" in out
    assert cli.main(["eval", "--split", "test", "--json", "--config", str(config)]) == 0
    payload = json.loads(capsys.readouterr().out)
    hybrid = next(r for r in payload["retrievers"] if r["retriever"] == "hybrid")
    assert hybrid["by_decline_kind"]["chitchat"]["decline_accuracy"] == 1.0
