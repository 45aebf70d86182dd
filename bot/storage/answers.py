"""SQLite records of what the bot answered, what people thought of it, and what it could not answer.

Moderators read these to see which answers helped and which questions need a new FAQ entry. Every
method is synchronous and short; callers on an event loop run them with ``asyncio.to_thread``. A
broken or locked database must never stop the bot answering, so the Discord layer logs store errors
and carries on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.core.answer import Answer
from bot.storage.sqlite_db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,
    confidence REAL NOT NULL,
    passages TEXT NOT NULL,          -- passage ids shown, best first, separated by newlines
    via TEXT NOT NULL,               -- slash, mention, reply, channel, thread, forum, context-menu, more
    guild_id INTEGER, channel_id INTEGER, user_id INTEGER,
    index_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    passage_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    helpful INTEGER NOT NULL,
    given_at REAL NOT NULL,
    PRIMARY KEY (answer_id, passage_id, user_id)
);
CREATE INDEX IF NOT EXISTS answers_unanswered ON answers (answered, asked_at);
"""


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    answered: bool
    passages: tuple[str, ...]


class Store(Database):
    """Answers and feedback in the bot's SQLite file."""

    SCHEMA = SCHEMA

    def record_answer(self, answer: Answer, via: str, *, guild_id: int | None = None,
                      channel_id: int | None = None, user_id: int | None = None) -> int:
        passages = "\n".join(e.passage_id for e in answer.excerpts) if answer.answered else ""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO answers (asked_at, question, answered, confidence, passages, via, guild_id, channel_id,"
                " user_id, index_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), answer.question, int(answer.answered), answer.confidence, passages, via, guild_id,
                 channel_id, user_id, answer.index_version),
            )
            return int(cursor.lastrowid)

    def answer(self, answer_id: int) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute("SELECT id, question, answered, passages FROM answers WHERE id = ?",
                                   (answer_id,)).fetchone()
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], bool(row[2]), tuple(p for p in row[3].split("\n") if p))

    def record_feedback(self, answer_id: int, user_id: int, helpful: bool) -> bool:
        """Record one person's verdict on every passage of an answer; a second press replaces the first.
        False when the answer is unknown."""
        stored = self.answer(answer_id)
        if stored is None:
            return False
        now = time.time()
        with self._lock:
            self._db.executemany(
                "INSERT INTO feedback (answer_id, passage_id, user_id, helpful, given_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, passage_id, user_id) DO UPDATE SET helpful = excluded.helpful,"
                " given_at = excluded.given_at",
                [(answer_id, passage, user_id, int(helpful), now) for passage in stored.passages or ("",)],
            )
        return True
