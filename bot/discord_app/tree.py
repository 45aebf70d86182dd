"""The command tree: one error handler for every application command (user errors shown privately, in the
member's language; the rest logged), and the translator that gives commands their French names and descriptions.

Command names, descriptions and options are ``locale_str``s keyed into the message catalogue
(``commands.ask.name`` ...); ``CatalogueTranslator`` answers Discord's French locale from ``fr.yaml`` when the
commands are synced, so a member whose Discord is in French sees ``/demander`` with French descriptions.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord_app.replies import error_text, interaction_language, send_ephemeral, send_unexpected_error
from bot.errors import UserFacingError, without_server_paths
from bot.serving.i18n import CHROME_LANGUAGES, DEFAULT, catalogue, locale_language, t


def command_text(key: str) -> app_commands.locale_str:
    """A command name, description or option, in English, keyed for translation (``commands.<key>``)."""
    dotted = f"commands.{key}"
    return app_commands.locale_str(catalogue().text(DEFAULT, dotted), key=dotted)


class CatalogueTranslator(app_commands.Translator):
    """Translates the commands' ``locale_str``s from the message catalogue (French; English is the default)."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        language = locale_language(locale)
        key = string.extras.get("key")
        if language == DEFAULT or language not in CHROME_LANGUAGES or not key:
            return None
        return catalogue().get(language, key)


class AnswerTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        language = interaction_language(interaction)
        if isinstance(original, UserFacingError):
            config = getattr(interaction.client, "config", None)
            await send_ephemeral(interaction, without_server_paths(error_text(original, language),
                                                                   getattr(config, "project_root", None)))
        elif isinstance(error, app_commands.CommandOnCooldown):
            await send_ephemeral(interaction, t(language, "errors.command_cooldown", seconds=f"{error.retry_after:.0f}"))
        elif isinstance(error, app_commands.CheckFailure):
            await send_ephemeral(interaction, t(language, "errors.permission"))
        else:
            command = interaction.command.qualified_name if interaction.command else "an interaction"
            await send_unexpected_error(interaction, original, f"/{command}")
