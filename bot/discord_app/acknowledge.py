"""Discord's 3-second rule: an interaction gets "The application did not respond" unless it is acknowledged
within 3 s of being created; follow-ups are accepted for 15 minutes after that.

So every command and button that answers a question acknowledges (defers) as soon as the instant checks
pass (a bad question, the member's cooldown: refused privately at once), and only then waits for an
answering slot. A refusal that can only come after that wait (busy) is sent as a follow-up, still privately.
``discord.max_wait_seconds`` (at most 60 s) keeps every follow-up far inside the 15 minutes.
"""

from __future__ import annotations

import logging

import discord

from bot.discord_app.replies import NO_MENTIONS

log = logging.getLogger(__name__)


class Acknowledgement:
    """Pass as ``acknowledge=`` to ``AnswerService.admitted``: defers the interaction once, and knows how to
    refuse privately afterwards."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def __call__(self) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)

    async def refuse(self, text: str) -> None:
        """Tell the member alone that the question was refused after the acknowledgement."""
        interaction = self.interaction
        try:
            if not interaction.response.is_done():
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
                return
            if not self.ephemeral:
                # While a public "thinking…" is pending, a follow-up replaces it and stays public, and deleting it
                # leaves nothing for follow-ups to attach to (10008 Unknown Message). So: complete it (an
                # ellipsis), delete it, and the refusal becomes a private message of its own.
                await interaction.edit_original_response(content="…")
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not send a refusal to interaction %s", interaction.id, exc_info=True)
