"""/setup: a server's admins choose the bot's answer channels, moderator roles, moderators' channel and
language from Discord — stored in the database, live at once, kept across restarts.

The form is one private message of select menus, each saved as soon as it changes; "Use config.yaml
defaults" forgets this server's choices. Only Manage Server may use it (hidden from everyone else,
and checked again at run time).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.corpus.reader import LANGUAGES
from bot.discord_app.client import in_guild, settings_summary
from bot.discord_app.item_callback import set_callback
from bot.discord_app.permissions import ADMINS, STAFF_DEFAULTS, admins_only, is_admin
from bot.discord_app.replies import NO_MENTIONS, send_unexpected_error
from bot.errors import UserFacingError
from bot.storage.guild_settings import GuildSettings

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "de": "Deutsch", "it": "Italiano",
                  "pt": "Português", "zh": "中文"}
SETUP_COLOUR = discord.Colour(0x2980B9)
MESSAGE_CONTENT_NOTE = (
    "⚠️ This bot was started without the Message Content intent, so it can't read questions in answer channels "
    "yet: turn on **Message Content Intent** on the Bot page of the developer portal and restart the bot once. "
    "From then on, answer-channel changes are live at once.")


def setup_embed(settings: GuildSettings, guild: discord.Guild | None) -> discord.Embed:
    embed = discord.Embed(title="Bot settings for this server", colour=SETUP_COLOUR,
                          description=settings_summary(settings, guild))
    embed.set_footer(text="Each choice is saved and live as soon as you make it. Settings not chosen here follow "
                          "config.yaml.")
    return embed


class SetupView(discord.ui.View):
    """The select menus of /setup, showing the settings in force."""

    def __init__(self, bot: RedLinesBot, guild_id: int) -> None:
        super().__init__(timeout=900)
        self.bot = bot
        self.guild_id = guild_id
        self._build(bot.settings_for(guild_id))

    def _build(self, settings: GuildSettings) -> None:
        self.clear_items()
        settings = in_guild(settings, self.bot.get_guild(self.guild_id))
        channels: discord.ui.ChannelSelect[SetupView] = discord.ui.ChannelSelect(
            placeholder="Answer channels (every question there is answered)", min_values=0, max_values=25, row=0,
            channel_types=[discord.ChannelType.text, discord.ChannelType.forum], custom_id="setup:answer_channels",
            default_values=[discord.Object(c, type=discord.abc.GuildChannel) for c in settings.answer_channels][:25])
        set_callback(channels, self._saver("answer_channels", lambda: [c.id for c in channels.values]))
        roles: discord.ui.RoleSelect[SetupView] = discord.ui.RoleSelect(
            placeholder="Moderator roles (may use /faq and /reload)", min_values=0, max_values=25, row=1,
            custom_id="setup:moderator_roles",
            default_values=[discord.Object(r, type=discord.Role) for r in settings.moderator_roles][:25])
        set_callback(roles, self._saver("moderator_roles", lambda: [r.id for r in roles.values]))
        handoff: discord.ui.ChannelSelect[SetupView] = discord.ui.ChannelSelect(
            placeholder="Moderators' channel (hand-offs)", min_values=0, max_values=1, row=2,
            channel_types=[discord.ChannelType.text], custom_id="setup:moderators_channel",
            default_values=[discord.Object(settings.moderators_channel, type=discord.abc.GuildChannel)]
            if settings.moderators_channel else [])
        set_callback(handoff, self._saver("moderators_channel", lambda: handoff.values[0].id if handoff.values else None))
        language: discord.ui.Select[SetupView] = discord.ui.Select(
            placeholder="Default language", min_values=1, max_values=1, row=3, custom_id="setup:language",
            options=[discord.SelectOption(label=LANGUAGE_NAMES.get(code, code), value=code,
                                          default=code == settings.language) for code in LANGUAGES])
        set_callback(language, self._saver("language", lambda: language.values[0]))
        reset: discord.ui.Button[SetupView] = discord.ui.Button(
            label="Use config.yaml defaults", style=discord.ButtonStyle.secondary, row=4, custom_id="setup:reset",
            disabled=not settings.from_setup)
        set_callback(reset, self._reset)
        for item in (channels, roles, handoff, language, reset):
            self.add_item(item)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if is_admin(interaction):
            return True
        await interaction.response.send_message("Only server admins (Manage Server) can change these settings.",
                                                ephemeral=True)
        return False

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        if isinstance(error, UserFacingError):
            message = str(error)
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
            return
        await send_unexpected_error(interaction, error, "/setup")

    def _saver(self, key: str, value: Callable[[], Any]) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def save(interaction: discord.Interaction) -> None:
            settings = await self.bot.change_setting(self.guild_id, key, value())
            log.info("guild %s: %s set to %r by %s", self.guild_id, key, getattr(settings, key), interaction.user.id)
            await self._show(interaction, settings, saved=key)

        return save

    async def _reset(self, interaction: discord.Interaction) -> None:
        settings = await self.bot.reset_settings(self.guild_id)
        log.info("guild %s: settings reset to config.yaml by %s", self.guild_id, interaction.user.id)
        await self._show(interaction, settings, saved=None)

    async def _show(self, interaction: discord.Interaction, settings: GuildSettings, saved: str | None) -> None:
        self._build(settings)
        what = saved.replace("_", " ") if saved else "config.yaml defaults"
        content = f"Saved: {what}. Live now."
        if saved == "answer_channels" and settings.answer_channels and not self.bot.intents.message_content:
            content += "\n" + MESSAGE_CONTENT_NOTE
        await interaction.response.edit_message(content=content, embed=setup_embed(settings, interaction.guild), view=self,
                                                allowed_mentions=NO_MENTIONS)


class SetupCog(commands.Cog, name="Setup"):
    """Server admins' settings."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot

    @app_commands.command(name="setup", description="Admins: answer channels, moderator roles, moderators' channel, "
                                                    "language for this server.", extras={"audience": ADMINS})
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=STAFF_DEFAULTS.manage_guild)
    @admins_only()
    async def setup(self, interaction: discord.Interaction) -> None:
        if self.bot.settings_store is None:
            raise UserFacingError("Settings can't be changed right now: the bot's database is unavailable. "
                                  "config.yaml's settings apply meanwhile.")
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        settings = self.bot.settings_for(guild_id)
        await interaction.response.send_message(
            "Choose below; each change is saved and live at once.", embed=setup_embed(settings, interaction.guild),
            view=SetupView(self.bot, guild_id), ephemeral=True, allowed_mentions=NO_MENTIONS)
