"""Retention: questions and member ids older than data.retention_days are purged — by `redlines-bot purge` and by
the running bot on its own — and exactly those."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bot import cli
from bot.storage.answers import Store
from bot.storage.audit import FORGOTTEN_ACTOR, AuditLog, AuditRecord
from bot.storage.retention import DAY, purge_database

from .discord_support import fake_resources, make_bot, make_project

NOW = 1_800_000_000.0


def seed(config, now: float = NOW) -> dict[str, list[int]]:
    """Answers, feedback and audit records on both sides of the 180-day line, one second apart at the edge."""
    answerer = fake_resources(config).answerer
    store, audit = Store(config.database_path), AuditLog(config.database_path)
    ages = {"old": [400 * DAY, 180 * DAY + 1], "kept": [180 * DAY - 1, 3 * DAY, 0]}
    ids: dict[str, list[int]] = {"old": [], "kept": []}
    for side, offsets in ages.items():
        for offset in offsets:
            answer_id = store.record_answer(answerer.answer("Who organised the call?"), "slash", guild_id=1,
                                            channel_id=2, user_id=3, message_id=4)
            store.record_feedback(answer_id, user_id=5, helpful=False)
            audit_id = audit.record(AuditRecord(action="edit", entry_id="who-organised", path="faq/faq.yaml",
                                                actor="mod#1", actor_id=6))
            with store._lock:
                store._db.execute("UPDATE answers SET asked_at = ? WHERE id = ?", (now - offset, answer_id))
                store._db.execute("UPDATE feedback SET given_at = ? WHERE answer_id = ?", (now - offset, answer_id))
                store._db.execute("UPDATE audit SET at = ? WHERE id = ?", (now - offset, audit_id))
            ids[side].append(answer_id)
    store.close()
    audit.close()
    return ids


def rows(config, sql: str) -> list[tuple]:
    with sqlite3.connect(config.database_path) as db:
        return db.execute(sql).fetchall()


def test_purge_removes_exactly_the_rows_past_retention(tmp_path):
    config = make_project(tmp_path)
    ids = seed(config)
    old_feedback = rows(config, f"SELECT COUNT(*) FROM feedback WHERE answer_id IN {tuple(ids['old'])}")[0][0]
    assert old_feedback >= 2  # one row per passage shown
    report = purge_database(config.database_path, 180, now=NOW)
    assert (report.answers, report.feedback, report.audit_actors) == (2, old_feedback, 2)
    assert sorted(r[0] for r in rows(config, "SELECT id FROM answers")) == sorted(ids["kept"])
    assert {r[0] for r in rows(config, "SELECT answer_id FROM feedback")} == set(ids["kept"])
    audit = rows(config, "SELECT at, actor, actor_id, entry_id FROM audit ORDER BY at")
    assert [(a, i) for _, a, i, _ in audit] == [(FORGOTTEN_ACTOR, None)] * 2 + [("mod#1", 6)] * 3
    assert all(entry == "who-organised" for *_, entry in audit)  # what changed is kept, who did it is not
    assert purge_database(config.database_path, 180, now=NOW).answers == 0  # nothing left to purge


def test_feedback_given_recently_on_an_old_question_goes_with_the_question(tmp_path):
    config = make_project(tmp_path)
    ids = seed(config)
    with sqlite3.connect(config.database_path) as db:
        db.execute("UPDATE feedback SET given_at = ? WHERE answer_id = ?", (NOW, ids["old"][0]))
    purge_database(config.database_path, 180, now=NOW)
    assert ids["old"][0] not in {r[0] for r in rows(config, "SELECT answer_id FROM feedback")}


def test_purge_command_uses_the_configured_days_or_the_given_ones(tmp_path, capsys):
    config = make_project(tmp_path)
    seed(config, now=time.time())
    config_path = str(config.source)
    assert cli.main(["purge", "--config", config_path]) == 0
    out = capsys.readouterr().out
    assert "2 question(s), " in out and "2 audit record(s) no longer name their moderator" in out
    assert cli.main(["purge", "--days", "2", "--config", config_path]) == 0
    assert "2 question(s)" in capsys.readouterr().out  # the 179-day and the 3-day ones
    assert len(rows(config, "SELECT id FROM answers")) == 1
    assert cli.main(["purge", "--days", "0", "--config", config_path]) == 1


def test_purge_without_a_database_creates_nothing(tmp_path, capsys):
    config = make_project(tmp_path)
    assert cli.main(["purge", "--config", str(config.source)]) == 0
    assert "0 question(s)" in capsys.readouterr().out and not config.database_path.exists()


@pytest.mark.asyncio
async def test_the_running_bot_purges_on_its_own(simcord_env, config):
    """The purge loop starts with the bot (its first run is at start, then every few hours)."""
    bot = simcord_env.bot
    assert bot.purge_loop.is_running() and bot.purge_loop.hours == 6
    assert len(rows(config, "SELECT id FROM answers")) == 3  # seeded: 5, of which 2 were too old
    assert "What is kept" in str(bot.about_embed(1).to_dict())


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def simcord_bot(config):
    seed(config, now=time.time())
    return make_bot(config, fake_resources(config))
