"""Asking: /ask, /about, the "Check against the letter" message command, mentions, replies and answer channels."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.text import looks_like_question
from bot.discord_app.components import present
from bot.discord_app.i18n import detect_chrome, t
from bot.discord_app.render import CONTENT_LIMIT, shorten
from bot.discord_app.replies import NO_MENTIONS, error_text, interaction_language, send_to_interaction
from bot.discord_app.tree import command_text
from bot.errors import UserFacingError
from bot.serving.service import Asked

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100


class AskCog(commands.Cog, name="Ask"):
    """Ways for members to ask about the Global Call for AI Red Lines."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self.check_menu = app_commands.ContextMenu(name=command_text("check.name"), callback=self.check_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.check_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.check_menu.name, type=self.check_menu.type)

    @app_commands.command(name=command_text("ask.name"), description=command_text("ask.description"))
    @app_commands.rename(question=command_text("ask.question"), private=command_text("ask.private"))
    @app_commands.describe(question=command_text("ask.question_description"),
                           private=command_text("ask.private_description"))
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 2000],
                  private: bool = False) -> None:
        # Refusals (bad question, cooldown, busy) come before the defer, so they can be private.
        async with self.bot.service.admitted(question, user_id=interaction.user.id) as admission:
            await interaction.response.defer(thinking=True, ephemeral=private)
            asked = await admission.answer(via="slash", guild_id=interaction.guild_id,
                                           channel_id=interaction.channel_id)
        await self._follow_up(interaction, asked, question, ephemeral=private)

    @app_commands.command(name=command_text("about.name"), description=command_text("about.description"))
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=self.bot.about_embed(interaction_language(interaction), interaction.guild_id), ephemeral=True)

    async def check_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message command: the passages that bear on a message, or a plain "not addressed"."""
        text = message.content.strip()
        if not text:
            raise UserFacingError(t(interaction_language(interaction), "errors.no_text"))
        question = shorten(text, self.bot.config.retrieval.max_question_chars)
        async with self.bot.service.admitted(question, user_id=interaction.user.id) as admission:
            await interaction.response.defer(thinking=True, ephemeral=True)
            asked = await admission.answer(via="context-menu", guild_id=interaction.guild_id,
                                           channel_id=interaction.channel_id)
        outgoing = present(asked, self.bot.config, moderators_channel=self._handoff(interaction.guild_id), locale=interaction.locale,
                           claim=text)
        await send_to_interaction(interaction, outgoing, ephemeral=True)

    async def _follow_up(self, interaction: discord.Interaction, asked: Asked, question: str, *,
                         ephemeral: bool) -> None:
        outgoing = present(asked, self.bot.config, moderators_channel=self._handoff(interaction.guild_id),
                           locale=interaction.locale)
        await send_to_interaction(interaction, outgoing, ephemeral=ephemeral)

    # Messages: mentions, replies to the bot, answer channels and their threads.

    def _handoff(self, guild_id: int | None) -> int | None:
        """The server's moderators' channel for "Ask a moderator" (/setup over config.yaml), if any."""
        return self.bot.settings_for(guild_id).moderators_channel

    def question_from(self, message: discord.Message) -> tuple[str, str] | None:
        """(question, how) when this message asks the bot something, else None."""
        me = self.bot.user
        if me is None or message.author.bot or message.guild is None:
            return None
        channels = self.bot.settings_for(message.guild.id).answer_channels  # /setup, else config.yaml
        channel = message.channel
        text = strip_mentions_of(message.content, me.id)
        if isinstance(channel, discord.Thread) and channel.parent_id in channels and channel.owner_id == me.id:
            return (text, "thread") if text else None
        if isinstance(channel, discord.Thread) and channel.parent_id in channels and message.id == channel.id:
            return (text, "forum") if text else None  # a new post in an answer forum: answered in the post
        if me in message.mentions or _is_reply_to(message, me.id):
            return (text, "mention")
        if channel.id in channels and looks_like_question(text):
            return (text, "channel")
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        found = self.question_from(message)
        if found is None:
            return
        question, how = found
        try:
            asked = await self.bot.service.ask(question, user_id=message.author.id, via=how,
                                               guild_id=message.guild.id if message.guild else None,
                                               channel_id=message.channel.id, message_id=message.id)
        except UserFacingError as exc:
            await self._reply(message, content=error_text(exc, detect_chrome(question)))
            return
        except Exception:  # noqa: BLE001 - one bad message must not stop the listener
            log.exception("unexpected error answering message %s in channel %s", message.id, message.channel.id)
            await self._reply(message, content=t(detect_chrome(question), "errors.generic"))
            return
        outgoing = present(asked, self.bot.config,
                           moderators_channel=self._handoff(message.guild.id if message.guild else None))
        if how == "channel" and self.bot.config.discord.answer_in_threads:
            thread = await self._open_thread(message, question)
            if thread is not None:
                try:
                    await thread.send(**outgoing.kwargs())
                    return
                except discord.HTTPException:
                    log.warning("could not post in thread %s; replying in the channel", thread.id, exc_info=True)
        await self._reply(message, content=outgoing.content, embeds=list(outgoing.embeds),
                          view=outgoing.view or discord.utils.MISSING)

    async def _open_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        name = shorten(" ".join(question.split()), THREAD_NAME_LIMIT) or "Question"
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException:
            log.warning("could not open a thread on message %s; replying in the channel", message.id, exc_info=True)
            return None

    async def _reply(self, message: discord.Message, *, content: str | None = None,
                     embeds: list[discord.Embed] | None = None, view: Any = discord.utils.MISSING) -> None:
        try:
            await message.reply(content=shorten(content, CONTENT_LIMIT) if content else None, embeds=embeds or [],
                                view=view, mention_author=False,
                                allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not reply to message %s in channel %s", message.id, message.channel.id, exc_info=True)


def strip_mentions_of(content: str, user_id: int) -> str:
    """The message text without mentions of the bot itself."""
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())


def _is_reply_to(message: discord.Message, user_id: int) -> bool:
    reference = message.reference
    resolved = reference.resolved if reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == user_id

