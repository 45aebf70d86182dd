"""Asking with commands: /ask, /about and the "Check against the letter" message command.

(Questions asked in messages — mentions, replies, answer channels, threads — are the Conversation cog's.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.acknowledge import Acknowledgement
from bot.discord_app.components import present
from bot.discord_app.conversation import Conversations
from bot.discord_app.render import shorten
from bot.discord_app.repeats import passages_of
from bot.discord_app.replies import error_text, interaction_language, send_to_interaction
from bot.discord_app.tree import command_text
from bot.errors import UserFacingError
from bot.serving.i18n import t
from bot.serving.limits import Busy
from bot.serving.service import Asked
from bot.storage.conversations import Exchange

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)


class AskCog(commands.Cog, name="Ask"):
    """Ways for members to ask about the Global Call for AI Red Lines."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self.conversations = Conversations(bot.conversations)
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
        # A bad question or the cooldown is refused at once (privately, by the tree's handler); then the
        # interaction is acknowledged before waiting for a slot (Discord's 3 s rule).
        asked = await self._answer_command(interaction, question, via="slash", ephemeral=private)
        if asked is not None:
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
        asked = await self._answer_command(interaction, question, via="context-menu", ephemeral=True)
        if asked is None:
            return
        outgoing = present(asked, self.bot.config, moderators_channel=self._handoff(interaction.guild_id),
                           locale=interaction.locale, claim=text)
        await send_to_interaction(interaction, outgoing, ephemeral=True)

    async def _answer_command(self, interaction: discord.Interaction, question: str, *, via: str,
                              ephemeral: bool) -> Asked | None:
        """Answer a command's question, acknowledging it before waiting for a slot (Discord's 3 s rule); None
        when the bot was too busy (the member is told privately)."""
        acknowledge = Acknowledgement(interaction, ephemeral=ephemeral)
        try:
            async with self.bot.service.admitted(question, user_id=interaction.user.id,
                                                 acknowledge=acknowledge) as admission:
                return await admission.answer(via=via, guild_id=interaction.guild_id,
                                              channel_id=interaction.channel_id)
        except Busy as exc:
            await acknowledge.refuse(error_text(exc, interaction_language(interaction)))
            return None

    async def _follow_up(self, interaction: discord.Interaction, asked: Asked, question: str, *,
                         ephemeral: bool) -> None:
        outgoing = present(asked, self.bot.config, moderators_channel=self._handoff(interaction.guild_id),
                           locale=interaction.locale)
        sent = await send_to_interaction(interaction, outgoing, ephemeral=ephemeral)
        if sent is not None and not (ephemeral or outgoing.private) and interaction.channel_id is not None:
            # Remembered like a message's answer: its asker can delete it (🗑️), a reply to it is a follow-up.
            await self.conversations.record(Exchange(
                question=question, question_channel_id=interaction.channel_id, conversation_id=sent.id,
                asker_id=interaction.user.id, answer_message_id=sent.id, answer_channel_id=sent.channel.id,
                passages=passages_of(asked.answer)))

    def _handoff(self, guild_id: int | None) -> int | None:
        """The server's moderators' channel for "Ask a moderator" (/setup over config.yaml), if any."""
        return self.bot.settings_for(guild_id).moderators_channel
