"""The conversation a message belongs to, and its previous questions: the context a follow-up is answered in.

A follow-up ("and who organised it?") means something only after the question before it. The bot remembers
the questions it responded to (``storage.conversations``), so the context usually costs no Discord call:
in a thread, the thread's earlier questions; in a reply chain, the questions up to the answer replied to.
When the log can't say (an answer from before it existed, or no database), the bot reads Discord instead:
the thread's recent history, or the chain of referenced messages, fetched when Discord didn't include them.
Either way at most ``DEPTH`` questions, oldest first, and a bounded number of Discord calls.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import discord

from bot.storage.conversations import ConversationLog, Exchange

log = logging.getLogger(__name__)
T = TypeVar("T")

DEPTH = 3              # previous questions passed as context
MAX_HOPS = 2 * DEPTH   # referenced messages followed up a reply chain (a question and an answer per step)
HISTORY_LIMIT = 25     # thread messages read when the log has nothing


def strip_mentions_of(content: str, user_id: int) -> str:
    """The message text without mentions of the bot itself."""
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())


@dataclass(frozen=True)
class Conversation:
    """Where a question sits: the conversation's id (a thread, or the first message of a reply chain) and
    its previous questions, oldest first."""

    id: int
    context: tuple[str, ...] = ()


class Conversations:
    """The conversation log used off the event loop. A missing or broken database logs and is treated as
    an empty log: it costs follow-up context and edit tracking, never an answer."""

    def __init__(self, conversation_log: ConversationLog | None) -> None:
        self.log = conversation_log

    async def _run(self, what: str, call: Callable[[ConversationLog], T], fallback: T) -> T:
        if self.log is None:
            return fallback
        conversation_log = self.log
        try:
            return await asyncio.to_thread(call, conversation_log)
        except Exception:  # noqa: BLE001 - see the class docstring
            log.exception("could not %s in %s", what, conversation_log.path)
            return fallback

    async def record(self, exchange: Exchange) -> int | None:
        return await self._run("record an exchange", lambda c: c.record(exchange), None)

    async def by_question(self, message_id: int) -> Exchange | None:
        return await self._run("look up a question", lambda c: c.by_question(message_id), None)

    async def by_answer(self, message_id: int) -> Exchange | None:
        return await self._run("look up an answer", lambda c: c.by_answer(message_id), None)

    async def questions(self, conversation_id: int, *, before_id: int | None = None) -> tuple[str, ...]:
        return await self._run("read a conversation",
                               lambda c: c.questions(conversation_id, before_id=before_id, limit=DEPTH), ())

    async def earlier_answer(self, channel_id: int, passages: tuple[str, ...], since: float) -> Exchange | None:
        return await self._run("look for an earlier answer", lambda c: c.earlier_answer(channel_id, passages, since),
                               None)

    async def forget(self, exchange_id: int) -> None:
        await self._run("forget an exchange", lambda c: c.forget(exchange_id), None)

    async def forget_answer(self, message_id: int) -> None:
        await self._run("forget a deleted answer", lambda c: c.forget_answer(message_id), None)

    async def forget_thread(self, thread_id: int) -> None:
        await self._run("forget a deleted thread", lambda c: c.forget_thread(thread_id), None)


async def referenced(message: discord.Message) -> discord.Message | None:
    """The message ``message`` replies to: as Discord sent it, else fetched (one call); None if gone."""
    reference = message.reference
    if reference is None or reference.message_id is None:
        return None
    if isinstance(reference.resolved, discord.Message):
        return reference.resolved
    if isinstance(reference.resolved, discord.DeletedReferencedMessage):
        return None
    channel = message.channel
    if reference.channel_id != channel.id:
        found = message.guild.get_channel_or_thread(reference.channel_id) if message.guild else None
        if not isinstance(found, discord.abc.Messageable):
            return None
        channel = found
    try:
        return await channel.fetch_message(reference.message_id)
    except discord.HTTPException:
        log.debug("could not fetch message %s referenced by %s", reference.message_id, message.id)
        return None


async def reply_conversation(message: discord.Message, conversations: Conversations, bot_id: int) -> Conversation:
    """The conversation of a reply: the questions up to the answer it replies to, or up its reply chain."""
    target = await referenced(message)
    if target is None:
        return Conversation(message.id)
    if target.author.id == bot_id:
        exchange = await conversations.by_answer(target.id)
        if exchange is not None and exchange.id is not None:
            context = await conversations.questions(exchange.conversation_id, before_id=exchange.id + 1)
            return Conversation(exchange.conversation_id, context)
    else:
        exchange = await conversations.by_question(target.id)
        if exchange is not None and exchange.id is not None:
            context = await conversations.questions(exchange.conversation_id, before_id=exchange.id + 1)
            return Conversation(exchange.conversation_id, context)
    texts: list[str] = []
    node: discord.Message | None = target
    root = target.id
    hops = 0
    while node is not None and hops < MAX_HOPS and len(texts) < DEPTH:
        hops += 1
        root = node.id
        if node.author.id != bot_id:
            text = strip_mentions_of(node.content, bot_id)
            if text:
                texts.append(text)
        node = await referenced(node)
    return Conversation(root, tuple(reversed(texts)))


async def thread_conversation(message: discord.Message, thread: discord.Thread, conversations: Conversations,
                              bot_id: int) -> Conversation:
    """The conversation of a message in a thread: the thread's earlier questions."""
    context = await conversations.questions(thread.id)
    if context:
        return Conversation(thread.id, context)
    return Conversation(thread.id, await _thread_history(message, thread, bot_id))


async def _thread_history(message: discord.Message, thread: discord.Thread, bot_id: int) -> tuple[str, ...]:
    """Members' last messages in the thread, and the message it was opened on (Discord keeps that one in the
    parent channel, under the thread's id)."""
    texts: list[str] = []
    try:
        async for earlier in thread.history(limit=HISTORY_LIMIT, before=message):
            if earlier.author.bot:
                continue
            text = strip_mentions_of(earlier.content, bot_id)
            if text:
                texts.append(text)
                if len(texts) == DEPTH:
                    break
        if len(texts) < DEPTH and isinstance(thread.parent, discord.TextChannel):
            starter = thread.starter_message or await thread.parent.fetch_message(thread.id)
            text = strip_mentions_of(starter.content, bot_id)
            if text:
                texts.append(text)
    except discord.HTTPException:
        log.debug("could not read the history of thread %s", thread.id, exc_info=True)
    return tuple(reversed(texts))
