"""Conversations in messages: mentions, replies, answer channels (text and forum) and their threads.

Every message the bot answers is remembered with its answer (``storage.conversations``), so that:
a follow-up is answered with the conversation's previous questions as context; editing a question edits its
answer in place; deleting a question deletes its answer (and the thread opened for it, when nothing else is
in it); the asker can delete the answer by reacting 🗑️; and the same question asked again in a channel gets a
link to the answer it got minutes ago. Refusals to messages (cooldown, busy, a message that isn't a
question) are a reaction, at most one per member per cooldown window, never a message: a flood of refused
mentions can't turn into a flood of notices in the channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.core.asking import asks_something
from bot.discord_app import answer_channels as where
from bot.discord_app.components import present
from bot.discord_app.conversation import (
    Conversation,
    Conversations,
    referenced,
    reply_conversation,
    strip_mentions_of,
    thread_conversation,
)
from bot.discord_app.render import CONTENT_LIMIT, shorten
from bot.discord_app.repeats import earlier_answer, link_text, passages_of
from bot.discord_app.replies import NO_MENTIONS
from bot.errors import ShuttingDown, UserFacingError
from bot.serving.i18n import detect_chrome, t
from bot.serving.limits import Busy, NoticeLimit, RateLimited
from bot.serving.service import Asked
from bot.storage.conversations import Exchange

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
TRASH_EMOJIS = frozenset({"🗑️", "🗑"})   # with and without the emoji presentation selector
WAIT_EMOJI = "⏳"                        # cooldown, busy or restarting: ask again in a moment
UNCLEAR_EMOJI = "❓"                     # not a question the bot can take (empty, too long, no words)
_ANSWERABLE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


@dataclass(frozen=True)
class Incoming:
    """A message that asks the bot something: the question, how it arrived and its conversation."""

    message: discord.Message
    question: str
    how: str
    question_channel_id: int
    conversation: Conversation


class ConversationCog(commands.Cog, name="Conversation"):
    """Answers questions asked in messages and keeps each answer in step with its question."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self.conversations = Conversations(bot.conversations)
        self.notices = NoticeLimit(bot.config.discord.cooldown_seconds)
        self._told_about_unreadable_replies = False

    # ---- reading messages --------------------------------------------------------------------------------

    async def incoming(self, message: discord.Message) -> Incoming | None:
        """The question this message asks the bot, or None when it isn't for the bot."""
        me = self.bot.user
        if me is None or message.author.bot or message.guild is None or message.type not in _ANSWERABLE_TYPES:
            return None
        channels = set(self.bot.settings_for(message.guild.id).answer_channels)  # /setup, else config.yaml
        channel = message.channel
        text = strip_mentions_of(message.content, me.id)
        mentioned = any(user.id == me.id for user in message.mentions)
        target = await referenced(message) if message.type == discord.MessageType.reply else None
        replied = target is not None and target.author.id == me.id
        if isinstance(channel, discord.Thread) and channel.parent_id in channels:
            if where.is_forum_post(message):
                question = where.forum_question(channel.name, text)
                return Incoming(message, question, where.FORUM, channel.id, Conversation(channel.id))
            asker = await self._asker(channel, me.id)
            if asker is not None and text and where.answers_in_thread(
                    addressed=mentioned or replied, asks=asks_something(text), from_asker=message.author.id == asker,
                    text=text):
                conversation = await thread_conversation(message, channel, self.conversations, me.id)
                return Incoming(message, text, where.THREAD, channel.id, conversation)
        if mentioned or replied:
            if not text and not mentioned:
                self._unreadable_reply(message)
                return None
            if message.type == discord.MessageType.reply:
                conversation = await reply_conversation(message, self.conversations, me.id)
            else:
                conversation = Conversation(message.id)
            return Incoming(message, text, where.REPLY if replied else where.MENTION, channel.id, conversation)
        if channel.id in channels and asks_something(text):
            return Incoming(message, text, where.CHANNEL, channel.id, Conversation(message.id))
        return None

    async def _asker(self, thread: discord.Thread, bot_id: int) -> int | None:
        """Who asked the question a conversation thread is about (a forum post's author, or the question the bot
        opened the thread on); None when the thread is not a conversation with the bot."""
        if isinstance(thread.parent, discord.ForumChannel):
            return thread.owner_id
        if thread.owner_id != bot_id:
            return None
        opened_on = await self.conversations.by_question(thread.id)  # a thread on a message has its id
        if opened_on is not None:
            return opened_on.asker_id
        starter = thread.starter_message
        return starter.author.id if starter is not None else 0

    def _unreadable_reply(self, message: discord.Message) -> None:
        """A reply to the bot that doesn't ping it arrives with no text unless the Message Content intent is
        on: say so once in the log, and say nothing in the channel (there is nothing to answer)."""
        if self.bot.intents.message_content:
            return  # the intent is on: the reply really has no text (an image, a sticker)
        if not self._told_about_unreadable_replies:
            self._told_about_unreadable_replies = True
            log.info("a reply to the bot arrived without its text (message %s): replies that don't ping the bot "
                     "need the Message Content intent (discord.message_content_intent: true)", message.id)

    # ---- events ------------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        found = await self.incoming(message)
        if found is not None:
            await self.respond(found)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edited question is answered again, in the same message."""
        previous = await self.conversations.by_question(payload.message_id)
        if previous is None or previous.id is None or "content" not in payload.data:
            return
        found = await self.incoming(payload.message)
        if found is None or found.question == previous.question:
            return  # no longer for the bot, or only an embed or a pin changed
        context = await self.conversations.questions(previous.conversation_id, before_id=previous.id)
        await self.respond(replace(found, conversation=Conversation(previous.conversation_id, context)), previous)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._deleted(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in payload.message_ids:
            await self._deleted(message_id)

    async def _deleted(self, message_id: int) -> None:
        """A deleted question takes its answer with it; a deleted answer is forgotten."""
        exchange = await self.conversations.by_question(message_id)
        if exchange is not None and exchange.id is not None:
            await self.remove_answer(exchange)
            await self.conversations.forget(exchange.id)
        else:
            await self.conversations.forget_answer(message_id)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """The asker reacting 🗑️ to the bot's answer deletes it."""
        if payload.guild_id is None or payload.emoji.name not in TRASH_EMOJIS or payload.user_id == self.bot.user.id:
            return
        exchange = await self.conversations.by_answer(payload.message_id)
        if exchange is None or exchange.id is None or exchange.asker_id != payload.user_id:
            return
        await self.remove_answer(exchange)
        await self.conversations.forget(exchange.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.conversations.forget_thread(payload.thread_id)

    # ---- answering ---------------------------------------------------------------------------------------

    async def respond(self, incoming: Incoming, previous: Exchange | None = None) -> None:
        """Answer a question, or answer an edited one again (``previous``: what it got before)."""
        message = incoming.message
        try:
            asked = await self.bot.service.ask(
                incoming.question, user_id=message.author.id, via=incoming.how, guild_id=message.guild.id if
                message.guild else None, channel_id=message.channel.id, message_id=message.id,
                context=incoming.conversation.context)
        except UserFacingError as exc:
            if previous is None:  # an edit refused (say, by the cooldown) keeps its answer and says nothing
                await self.refuse(message, exc)
            return
        except Exception:  # noqa: BLE001 - one bad message must not stop the listener
            log.exception("unexpected error answering message %s in channel %s", message.id, message.channel.id)
            if previous is None and self.notices.allow(message.author.id):
                await self._reply(message, content=t(detect_chrome(incoming.question), "errors.generic"))
            return
        answer = asked.answer
        kind = where.response_for(incoming.how, answer, answer_in_threads=self.bot.config.discord.answer_in_threads)
        exchange = Exchange(question=incoming.question, question_channel_id=incoming.question_channel_id,
                            conversation_id=incoming.conversation.id, asker_id=message.author.id,
                            question_message_id=message.id, passages=passages_of(answer))
        if previous is not None and previous.answer_message_id is not None:
            await self._revise(incoming, asked, kind, previous, exchange)
            return
        if previous is not None:  # it had only a reaction
            if kind == where.NOT_COVERED:
                await self.conversations.record(exchange)
                return
            await self._unreact(message, where.NOT_COVERED_EMOJI)
        if kind == where.SILENT:
            return
        if kind == where.ACKNOWLEDGE:
            await self._react(message, where.ACKNOWLEDGE_EMOJI)
            return
        if kind == where.NOT_COVERED:
            await self._react(message, where.NOT_COVERED_EMOJI)
            await self.conversations.record(exchange)  # so that an edit can answer it after all
            return
        link = await self._link_to_earlier(incoming, asked)
        if link is not None:
            sent = await self._reply(message, content=link)
            if sent is not None:
                await self.conversations.record(replace(exchange, answer_message_id=sent.id,
                                                        answer_channel_id=sent.channel.id, linked=True))
            return
        if kind == where.OPEN_THREAD:
            thread = await self._open_thread(message, incoming.question)
            if thread is not None:
                sent = await self._send(thread, **self._payload(asked, message))
                if sent is not None:
                    await self.conversations.record(replace(exchange, answer_message_id=sent.id,
                                                            answer_channel_id=thread.id, opened_thread_id=thread.id,
                                                            conversation_id=thread.id))
                    return
        sent = await self._reply(message, **self._payload(asked, message))
        if sent is not None:
            await self.conversations.record(replace(exchange, answer_message_id=sent.id,
                                                    answer_channel_id=sent.channel.id))

    async def _revise(self, incoming: Incoming, asked: Asked, kind: str, previous: Exchange,
                      exchange: Exchange) -> None:
        """Edit the answer of an edited question in place (or remove it when the question became chit-chat)."""
        if previous.id is None or previous.answer_message_id is None:
            return
        if kind in (where.SILENT, where.ACKNOWLEDGE):
            await self.remove_answer(previous)
            await self.conversations.forget(previous.id)
            return
        link = await self._link_to_earlier(incoming, asked, previous)
        if link is not None:
            fields: dict[str, Any] = {"content": link, "embeds": [], "view": None}
        else:
            payload = self._payload(asked, incoming.message)
            view = payload["view"]
            fields = {**payload, "view": None if view is discord.utils.MISSING else view}
        guild_id = incoming.message.guild.id if incoming.message.guild else None
        target = self.bot.get_partial_messageable(previous.answer_channel_id or incoming.message.channel.id,
                                                  guild_id=guild_id).get_partial_message(previous.answer_message_id)
        try:
            await target.edit(**fields, allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            await self.conversations.forget_answer(previous.answer_message_id)  # deleted meanwhile: leave it gone
            return
        except discord.HTTPException:
            log.warning("could not edit answer %s", previous.answer_message_id, exc_info=True)
            return
        await self.conversations.record(replace(exchange, conversation_id=previous.conversation_id,
                                                answer_message_id=previous.answer_message_id,
                                                answer_channel_id=previous.answer_channel_id,
                                                opened_thread_id=previous.opened_thread_id, linked=link is not None))
        if previous.opened_thread_id is not None:
            await self._rename_thread(previous.opened_thread_id, incoming.question)

    async def _link_to_earlier(self, incoming: Incoming, asked: Asked, previous: Exchange | None = None) -> str | None:
        """A link to the same answer given moments ago in this channel, for a question asked again."""
        if incoming.how not in (where.MENTION, where.REPLY, where.CHANNEL) or incoming.message.guild is None:
            return None
        earlier = await earlier_answer(self.conversations, incoming.question_channel_id, asked.answer,
                                       self.bot.config.discord.repeat_window_minutes)
        if earlier is None or earlier.question_message_id == incoming.message.id or \
                (previous is not None and earlier.id == previous.id):
            return None
        return link_text(earlier, incoming.message.guild.id, asked.answer.language)

    def _payload(self, asked: Asked, message: discord.Message) -> dict[str, Any]:
        """The message that carries an answer or a decline (the presentation is ``components.present``'s): a
        message can't be answered privately, so a decline is a short plain reply with its buttons."""
        guild_id = message.guild.id if message.guild else None
        outgoing = present(asked, self.bot.config, moderators_channel=self.bot.settings_for(guild_id).moderators_channel)
        return {"content": outgoing.content, "embeds": list(outgoing.embeds), "view": outgoing.view or discord.utils.MISSING}

    async def refuse(self, message: discord.Message, error: UserFacingError) -> None:
        """A refusal to a message: a reaction, at most one per member per window, or nothing."""
        if not self.notices.allow(message.author.id):
            return
        await self._react(message, WAIT_EMOJI if isinstance(error, (RateLimited, Busy, ShuttingDown)) else UNCLEAR_EMOJI)

    # ---- removing answers --------------------------------------------------------------------------------

    async def remove_answer(self, exchange: Exchange) -> None:
        """Delete the bot's answer to ``exchange``, and the thread opened for it when nothing else is in it."""
        if exchange.answer_message_id is not None and exchange.answer_channel_id is not None:
            answer = self.bot.get_partial_messageable(exchange.answer_channel_id).get_partial_message(
                exchange.answer_message_id)
            try:
                await answer.delete()
            except discord.NotFound:
                pass
            except discord.HTTPException:
                log.warning("could not delete answer %s", exchange.answer_message_id, exc_info=True)
                return
        if exchange.opened_thread_id is not None:
            await self._delete_thread_if_empty(exchange.opened_thread_id)

    async def _delete_thread_if_empty(self, thread_id: int) -> None:
        try:
            thread = self.bot.get_channel(thread_id) or await self.bot.fetch_channel(thread_id)
            if not isinstance(thread, discord.Thread):
                return
            async for _ in thread.history(limit=1):
                return  # someone wrote in it: it stays
            try:
                await thread.delete()
            except discord.Forbidden:  # deleting needs Manage Threads; the bot may archive its own thread
                await thread.edit(archived=True)
        except discord.NotFound:
            pass
        except discord.HTTPException:
            log.warning("could not remove thread %s", thread_id, exc_info=True)

    # ---- Discord calls that may fail without stopping anything -------------------------------------------

    async def _open_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        name = shorten(" ".join(question.split()), THREAD_NAME_LIMIT) or "Question"
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException:
            log.warning("could not open a thread on message %s; replying in the channel", message.id, exc_info=True)
            return None

    async def _rename_thread(self, thread_id: int, question: str) -> None:
        thread = self.bot.get_channel(thread_id)
        name = shorten(" ".join(question.split()), THREAD_NAME_LIMIT) or "Question"
        if isinstance(thread, discord.Thread) and thread.name != name:
            try:
                await thread.edit(name=name)
            except discord.HTTPException:
                log.debug("could not rename thread %s", thread_id, exc_info=True)

    async def _send(self, channel: discord.abc.Messageable, **payload: Any) -> discord.Message | None:
        try:
            return await channel.send(allowed_mentions=NO_MENTIONS, **payload)
        except discord.HTTPException:
            log.warning("could not post in channel %s", getattr(channel, "id", None), exc_info=True)
            return None

    async def _reply(self, message: discord.Message, *, content: str | None = None,
                     embeds: list[discord.Embed] | None = None, view: Any = discord.utils.MISSING) -> discord.Message | None:
        try:
            return await message.reply(content=shorten(content, CONTENT_LIMIT) if content else None, embeds=embeds or [],
                                       view=view, mention_author=False, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not reply to message %s in channel %s", message.id, message.channel.id, exc_info=True)
            return None

    async def _react(self, message: discord.Message, emoji: str) -> None:
        try:
            await message.add_reaction(emoji)
        except discord.HTTPException:
            log.debug("could not react to message %s", message.id, exc_info=True)

    async def _unreact(self, message: discord.Message, emoji: str) -> None:
        try:
            await message.remove_reaction(emoji, self.bot.user)
        except discord.HTTPException:
            log.debug("could not remove a reaction from message %s", message.id, exc_info=True)

