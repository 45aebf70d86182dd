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
from bot.discord_app.components import buttons_for
from bot.discord_app.conversation import Conversations
from bot.discord_app.render import render, shorten
from bot.discord_app.repeats import passages_of
from bot.discord_app.replies import NO_MENTIONS
from bot.errors import UserFacingError
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
        sent = await interaction.followup.send(embed=render(asked.answer, question=question), view=buttons_for(asked),
                                               ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, wait=True)
        if not ephemeral and interaction.channel_id is not None:
            # Remembered like a message's answer: its asker can delete it (🗑️), a reply to it is a follow-up.
            await self.conversations.record(Exchange(
                question=question, question_channel_id=interaction.channel_id, conversation_id=sent.id,
                asker_id=interaction.user.id, answer_message_id=sent.id, answer_channel_id=sent.channel.id,
                passages=passages_of(asked.answer)))
