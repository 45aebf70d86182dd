"""Asking: /ask, /about, the "Check against the letter" message command, mentions, replies and answer channels."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.text import looks_like_question
from bot.discord_app.acknowledge import Acknowledgement
from bot.discord_app.components import buttons_for
from bot.discord_app.render import CONTENT_LIMIT, render, shorten
from bot.discord_app.replies import GENERIC_ERROR, NO_MENTIONS
from bot.errors import UserFacingError
from bot.serving.limits import Busy
from bot.serving.service import Asked

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100


class AskCog(commands.Cog, name="Ask"):
    """Ways for members to ask about the Global Call for AI Red Lines."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self.check_menu = app_commands.ContextMenu(name="Check against the letter", callback=self.check_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.check_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.check_menu.name, type=self.check_menu.type)

    @app_commands.command(name="ask", description="Ask a question about the Global Call for AI Red Lines.")
    @app_commands.describe(question="Your question, e.g. What does the letter ask governments to do?",
                           private="Only you see the answer (default: everyone in the channel)")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 2000],
                  private: bool = False) -> None:
        # A bad question or the cooldown is refused at once (privately, by the tree's handler); then the
        # interaction is acknowledged before waiting for a slot (Discord's 3 s rule).
        acknowledge = Acknowledgement(interaction, ephemeral=private)
        try:
            async with self.bot.service.admitted(question, user_id=interaction.user.id,
                                                 acknowledge=acknowledge) as admission:
                asked = await admission.answer(via="slash", guild_id=interaction.guild_id,
                                               channel_id=interaction.channel_id)
        except Busy as exc:
            await acknowledge.refuse(str(exc))
            return
        await self._follow_up(interaction, asked, question, ephemeral=private)

    @app_commands.command(name="about", description="What this bot is, what it quotes, and how to report a wrong answer.")
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=self.bot.about_embed(), ephemeral=True)

    async def check_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message command: the passages that bear on a message, or a plain "not addressed"."""
        text = message.content.strip()
        if not text:
            raise UserFacingError("That message has no text to check.")
        question = shorten(text, self.bot.config.retrieval.max_question_chars)
        acknowledge = Acknowledgement(interaction, ephemeral=True)
        try:
            async with self.bot.service.admitted(question, user_id=interaction.user.id,
                                                 acknowledge=acknowledge) as admission:
                asked = await admission.answer(via="context-menu", guild_id=interaction.guild_id,
                                               channel_id=interaction.channel_id)
        except Busy as exc:
            await acknowledge.refuse(str(exc))
            return
        answer = asked.answer
        if answer.answered:
            embed = render(answer, heading="Passages that bear on this message", question=text)
        else:
            embed = render(answer, question=text)
            embed.title = "The letter and the FAQ don't address this"
        await interaction.followup.send(embed=embed, view=buttons_for(asked), ephemeral=True,
                                        allowed_mentions=NO_MENTIONS)

    async def _follow_up(self, interaction: discord.Interaction, asked: Asked, question: str, *,
                         ephemeral: bool) -> None:
        await interaction.followup.send(embed=render(asked.answer, question=question), view=buttons_for(asked),
                                        ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    # Messages: mentions, replies to the bot, answer channels and their threads.

    def question_from(self, message: discord.Message) -> tuple[str, str] | None:
        """(question, how) when this message asks the bot something, else None."""
        me = self.bot.user
        if me is None or message.author.bot or message.guild is None:
            return None
        channels = self.bot.config.discord.answer_channels
        channel = message.channel
        text = strip_mentions_of(message.content, me.id)
        if isinstance(channel, discord.Thread) and channel.parent_id in channels and channel.owner_id == me.id:
            return (text, "thread") if text else None
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
                                               channel_id=message.channel.id)
        except UserFacingError as exc:
            await self._reply(message, content=str(exc))
            return
        except Exception:  # noqa: BLE001 - one bad message must not stop the listener
            log.exception("unexpected error answering message %s in channel %s", message.id, message.channel.id)
            await self._reply(message, content=GENERIC_ERROR)
            return
        embed = render(asked.answer, question=question)
        view = buttons_for(asked)
        if how == "channel" and self.bot.config.discord.answer_in_threads:
            thread = await self._open_thread(message, question)
            if thread is not None:
                try:
                    await thread.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
                    return
                except discord.HTTPException:
                    log.warning("could not post in thread %s; replying in the channel", thread.id, exc_info=True)
        await self._reply(message, embed=embed, view=view)

    async def _open_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        name = shorten(" ".join(question.split()), THREAD_NAME_LIMIT) or "Question"
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException:
            log.warning("could not open a thread on message %s; replying in the channel", message.id, exc_info=True)
            return None

    async def _reply(self, message: discord.Message, *, content: str | None = None, embed: discord.Embed | None = None,
                     view: Any = discord.utils.MISSING) -> None:
        try:
            await message.reply(content=shorten(content, CONTENT_LIMIT) if content else None, embed=embed,
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

