"""Sending short messages back to a user, privately where Discord allows it, never pinging anyone."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

GENERIC_ERROR = "Sorry, something went wrong while answering. It has been logged; please try again later."
NO_MENTIONS = discord.AllowedMentions.none()


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply privately, whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not send a reply to interaction %s", interaction.id, exc_info=True)


async def send_user_error(interaction: discord.Interaction, error: Exception) -> None:
    await send_ephemeral(interaction, str(error))


async def send_unexpected_error(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    """Log with the ids a maintainer needs; tell the user only that it failed."""
    log.error("unexpected error in %s (interaction %s, user %s, guild %s, channel %s)", what, interaction.id,
              interaction.user.id if interaction.user else None, interaction.guild_id, interaction.channel_id,
              exc_info=error)
    await send_ephemeral(interaction, GENERIC_ERROR)
