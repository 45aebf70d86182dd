"""Records of what the bot answered, what people thought of it, and what it could not answer.

Moderators read these to see which answers helped and which questions need a new FAQ entry. Every
method is synchronous and short; callers on an event loop run them with ``asyncio.to_thread``. A
broken or locked database must never stop the bot answering, so the Discord layer logs store errors
and carries on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.core.answer import Answer
from bot.storage.database import Database


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    answered: bool
    passages: tuple[str, ...]
    language: str | None = None
    retriever: str | None = None


class Store(Database):
    """Answers and feedback in the bot's database (SQLite, or PostgreSQL shared by every bot process: a button
    pressed on any shard finds its answer)."""

    def record_answer(self, answer: Answer, via: str, *, guild_id: int | None = None,
                      channel_id: int | None = None, user_id: int | None = None) -> int:
        passages = "\n".join(e.passage_id for e in answer.excerpts) if answer.answered else ""
        return self.insert(
            "INSERT INTO answers (asked_at, question, answered, confidence, passages, via, guild_id, channel_id,"
            " user_id, index_version, language, retriever) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (time.time(), answer.question, int(answer.answered), float(answer.confidence), passages, via, guild_id,
             channel_id, user_id, answer.index_version, answer.language, answer.retriever))

    def answer(self, answer_id: int) -> StoredAnswer | None:
        rows = self.execute("SELECT id, question, answered, passages, language, retriever FROM answers WHERE id = ?",
                            (answer_id,))
        if not rows:
            return None
        row = rows[0]
        return StoredAnswer(row[0], row[1], bool(row[2]), tuple(p for p in row[3].split("\n") if p), row[4], row[5])

    def record_feedback(self, answer_id: int, user_id: int, helpful: bool) -> StoredAnswer | None:
        """Record one person's verdict on every passage of an answer; a second press replaces the first.
        The answer it was about, or None (falsy) when the answer is unknown."""
        stored = self.answer(answer_id)
        if stored is None:
            return None
        now = time.time()
        self.executemany(
            "INSERT INTO feedback (answer_id, passage_id, user_id, helpful, given_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (answer_id, passage_id, user_id) DO UPDATE SET helpful = excluded.helpful,"
            " given_at = excluded.given_at",
            [(answer_id, passage, user_id, int(helpful), now) for passage in stored.passages or ("",)],
        )
        return stored
