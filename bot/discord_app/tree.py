"""One error handler for every application command: user errors shown privately, the rest logged."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord_app.replies import send_ephemeral, send_unexpected_error
from bot.errors import UserFacingError, without_server_paths


class AnswerTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, UserFacingError):
            config = getattr(interaction.client, "config", None)
            await send_ephemeral(interaction, without_server_paths(str(original), getattr(config, "project_root", None)))
        elif isinstance(error, app_commands.CommandOnCooldown):
            await send_ephemeral(interaction, f"Please wait {error.retry_after:.0f} s before using this again.")
        elif isinstance(error, app_commands.CheckFailure):
            await send_ephemeral(interaction, "You don't have permission to use this command.")
        else:
            command = interaction.command.qualified_name if interaction.command else "an interaction"
            await send_unexpected_error(interaction, original, f"/{command}")
