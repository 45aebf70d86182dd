"""Which chat message answered which question: the bot's memory of its conversations.

One row per question the bot responded to in a chat (not to ``/ask`` refusals or chit-chat). It lets the
bot answer a follow-up with the conversation's previous questions as context, re-answer an edited question
by editing its answer in place, delete an answer (and the thread opened for it) when its question is
deleted or its asker reacts 🗑️, and link a question asked again to the earlier answer instead of
repeating it. Message ids are chat-platform ids (Discord snowflakes); nothing here imports Discord.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.storage.database import Database


@dataclass(frozen=True)
class Exchange:
    """A question and how the bot responded to it."""

    question: str
    question_channel_id: int
    conversation_id: int
    asker_id: int
    question_message_id: int | None = None
    answer_message_id: int | None = None
    answer_channel_id: int | None = None
    opened_thread_id: int | None = None
    passages: tuple[str, ...] = ()
    linked: bool = False
    asked_at: float = 0.0
    id: int | None = None


_COLUMNS = ("id, asked_at, question, question_message_id, question_channel_id, conversation_id, asker_id,"
            " answer_message_id, answer_channel_id, opened_thread_id, passages, linked")


def _exchange(row: tuple) -> Exchange:
    (id_, asked_at, question, question_message_id, question_channel_id, conversation_id, asker_id,
     answer_message_id, answer_channel_id, opened_thread_id, passages, linked) = row
    return Exchange(question, question_channel_id, conversation_id, asker_id, question_message_id,
                    answer_message_id, answer_channel_id, opened_thread_id,
                    tuple(p for p in passages.split("\n") if p), bool(linked), asked_at, id_)


class ConversationLog(Database):
    """The exchanges table in the bot's database (defined in ``bot.storage.schema``). Synchronous; call from
    worker threads."""

    def record(self, exchange: Exchange) -> int:
        """Record an exchange; one for the same question message replaces it (an edited question)."""
        return self.insert(
                "INSERT INTO exchanges (asked_at, question, question_message_id, question_channel_id,"
                " conversation_id, asker_id, answer_message_id, answer_channel_id, opened_thread_id, passages,"
                " linked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (question_message_id) DO UPDATE SET question = excluded.question,"
                " conversation_id = excluded.conversation_id,"
                " answer_message_id = excluded.answer_message_id, answer_channel_id = excluded.answer_channel_id,"
                " opened_thread_id = excluded.opened_thread_id, passages = excluded.passages,"
                " linked = excluded.linked RETURNING id",
                (exchange.asked_at or time.time(), exchange.question, exchange.question_message_id,
                 exchange.question_channel_id, exchange.conversation_id, exchange.asker_id,
                 exchange.answer_message_id, exchange.answer_channel_id, exchange.opened_thread_id,
                 "\n".join(exchange.passages), int(exchange.linked)))

    def _one(self, where: str, value: int) -> Exchange | None:
        row = self.one(f"SELECT {_COLUMNS} FROM exchanges WHERE {where} = ?", (value,))
        return _exchange(row) if row else None

    def by_question(self, message_id: int) -> Exchange | None:
        return self._one("question_message_id", message_id)

    def by_answer(self, message_id: int) -> Exchange | None:
        return self._one("answer_message_id", message_id)

    def questions(self, conversation_id: int, *, before_id: int | None = None, limit: int = 3) -> tuple[str, ...]:
        """The conversation's last ``limit`` questions recorded before exchange ``before_id`` (default: all),
        oldest first."""
        rows = self.execute(
            "SELECT question FROM exchanges WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (conversation_id, before_id if before_id is not None else 2**63 - 1, limit))
        return tuple(row[0] for row in reversed(rows))

    def earlier_answer(self, channel_id: int, passages: tuple[str, ...], since: float) -> Exchange | None:
        """The latest answer (not a link) in ``channel_id`` since ``since`` that showed exactly ``passages``."""
        if not passages:
            return None
        row = self.one(
            f"SELECT {_COLUMNS} FROM exchanges WHERE question_channel_id = ? AND asked_at >= ? AND passages = ?"
            " AND linked = 0 AND answer_message_id IS NOT NULL ORDER BY asked_at DESC LIMIT 1",
            (channel_id, since, "\n".join(passages)))
        return _exchange(row) if row else None

    def forget(self, exchange_id: int) -> None:
        self.execute("DELETE FROM exchanges WHERE id = ?", (exchange_id,))

    def forget_answer(self, message_id: int) -> None:
        """The bot's message is gone (deleted by a moderator): nothing to edit or link to any more."""
        self.execute("UPDATE exchanges SET answer_message_id = NULL, answer_channel_id = NULL"
                     " WHERE answer_message_id = ?", (message_id,))

    def forget_thread(self, thread_id: int) -> None:
        """A thread was deleted: its exchanges, and answers posted in it, are gone."""
        self.execute("DELETE FROM exchanges WHERE conversation_id = ? OR answer_channel_id = ?", (thread_id, thread_id))

    def in_thread(self, thread_id: int) -> int:
        """How many answers the bot has in ``thread_id``."""
        row = self.one("SELECT COUNT(*) FROM exchanges WHERE answer_channel_id = ?", (thread_id,))
        return int(row[0]) if row else 0
