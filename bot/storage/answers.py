"""Records of what the bot answered, what people thought of it, and what it could not answer.

Moderators read these to see which answers helped and which questions need a new FAQ entry. Every
method is synchronous and short; callers on an event loop run them with ``asyncio.to_thread``. A
broken or locked database must never stop the bot answering, so the Discord layer logs store errors
and carries on. The tables are defined in ``bot.storage.schema``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.answer import Answer, DeclineKind
from bot.storage.database import Database

# /faq gaps and `report` read at most this many of the newest unanswered questions: grouping them encodes
# each one, and members can add thousands a day (red-team t21: 400 long questions took 7.2 GB at once).
MAX_MISSES = 2000


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    answered: bool
    passages: tuple[str, ...]
    index_version: str = ""
    language: str | None = None
    retriever: str | None = None


@dataclass(frozen=True)
class Miss:
    """A question the bot declined, or whose answer someone marked not helpful."""

    question: str
    asked_at: float
    reason: str  # "declined" or "not helpful"
    answer_id: int | None = None
    guild_id: int | None = None
    channel_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Purged:
    """What a retention purge removed."""

    answers: int
    feedback: int
    exchanges: int = 0


class Store(Database):
    """Answers and feedback in the bot's database (SQLite, or PostgreSQL shared by every bot process: a button
    pressed on any shard finds its answer)."""

    def record_answer(self, answer: Answer, via: str, *, guild_id: int | None = None,
                      channel_id: int | None = None, user_id: int | None = None,
                      message_id: int | None = None) -> int:
        passages = "\n".join(e.passage_id for e in answer.excerpts) if answer.answered else ""
        decline = None if answer.answered else (answer.decline or DeclineKind.NOT_COVERED)
        return self.insert(
            "INSERT INTO answers (asked_at, question, answered, confidence, passages, via, guild_id, channel_id,"
            " user_id, index_version, message_id, decline, language, retriever)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (time.time(), answer.question, int(answer.answered), float(answer.confidence), passages, via, guild_id,
             channel_id, user_id, answer.index_version, message_id, decline, answer.language, answer.retriever))

    def answer(self, answer_id: int) -> StoredAnswer | None:
        row = self.one("SELECT id, question, answered, passages, index_version, language, retriever FROM answers"
                       " WHERE id = ?", (answer_id,))
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], bool(row[2]), tuple(p for p in row[3].split("\n") if p), row[4], row[5],
                            row[6])

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

    # ---- gaps ------------------------------------------------------------------------------------------

    def misses(self, *, since: float = 0.0, guild_id: int | None = None, limit: int = MAX_MISSES) -> list[Miss]:
        """The newest declined questions and answers marked not helpful, at most ``limit`` of them.

        Chit-chat ("thanks!") is not a gap, nor is a question a moderator already dealt with (dismissed, or
        answered by a new entry). ``guild_id`` keeps one server's members' questions to that server.
        """
        where_guild = " AND a.guild_id = ?" if guild_id is not None else ""
        guild = (guild_id,) if guild_id is not None else ()
        declined = self.execute(
            "SELECT a.question, a.asked_at, a.id, a.guild_id, a.channel_id, a.message_id FROM answers a"
            " WHERE a.answered = 0 AND a.asked_at >= ? AND a.gap_closed_at IS NULL"
            f" AND COALESCE(a.decline, '') != ?{where_guild} ORDER BY a.asked_at DESC LIMIT ?",
            (since, DeclineKind.CHITCHAT, *guild, limit))
        # Every selected column is grouped on (PostgreSQL insists; each is one per answer anyway).
        unhelpful = self.execute(
            "SELECT a.question, MAX(f.given_at), a.id, a.guild_id, a.channel_id, a.message_id"
            " FROM feedback f JOIN answers a ON a.id = f.answer_id"
            f" WHERE f.helpful = 0 AND f.given_at >= ? AND a.gap_closed_at IS NULL{where_guild}"
            " GROUP BY f.answer_id, f.user_id, a.question, a.id, a.guild_id, a.channel_id, a.message_id"
            " ORDER BY MAX(f.given_at) DESC LIMIT ?",
            (since, *guild, limit))
        found = [Miss(q, t, "declined", i, g, c, m) for q, t, i, g, c, m in declined]
        found += [Miss(q, t, "not helpful", i, g, c, m) for q, t, i, g, c, m in unhelpful]
        found.sort(key=lambda miss: miss.asked_at, reverse=True)
        return found[:limit]

    def close_gap(self, answer_ids: Iterable[int], at: float | None = None) -> int:
        """Mark questions as dealt with (dismissed, or answered by a new entry): /faq gaps no longer lists them."""
        ids = [(at or time.time(), int(i)) for i in answer_ids]
        return self.executemany("UPDATE answers SET gap_closed_at = ? WHERE id = ? AND gap_closed_at IS NULL", ids)

    # ---- retention -------------------------------------------------------------------------------------

    def purge_before(self, cutoff: float) -> Purged:
        """Delete questions asked, feedback given and conversation records before ``cutoff`` (with the member ids
        they hold)."""
        with self.transaction() as transaction:
            feedback = transaction.rowcount(
                "DELETE FROM feedback WHERE given_at < ?"
                " OR answer_id IN (SELECT id FROM answers WHERE asked_at < ?)", (cutoff, cutoff))
            answers = transaction.rowcount("DELETE FROM answers WHERE asked_at < ?", (cutoff,))
            exchanges = transaction.rowcount("DELETE FROM exchanges WHERE asked_at < ?", (cutoff,))
        return Purged(answers, feedback, exchanges)
