"""/help: every way to ask the bot and what it can't do, shown privately, in the member's language.

Each person sees only what they can use: the answer channels are listed as channel links, and the moderator
commands only to moderators (Manage Server or a role in ``discord.moderator_roles``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.faq_cog import is_moderator
from bot.discord_app.i18n import t
from bot.discord_app.replies import NO_MENTIONS, interaction_language
from bot.discord_app.tree import command_text

if TYPE_CHECKING:
    from bot.config import Config
    from bot.discord_app.client import RedLinesBot

HELP_COLOUR = discord.Colour(0xC0392B)


def help_embed(config: Config, language: str, *, moderator: bool) -> discord.Embed:
    """The /help card for one member."""
    check = command_text("check.name")
    check_name = t(language, "commands.check.name") if language != "en" else check.message
    ways = [t(language, "help.slash"), t(language, "help.mention"), t(language, "help.reply")]
    channels = config.discord.answer_channels
    if channels:
        ways.append(t(language, "help.channels", channels=", ".join(f"<#{c}>" for c in channels)))
    ways.append(t(language, "help.context_menu", command=check_name))
    ways.append(t(language, "help.buttons"))
    embed = discord.Embed(title=t(language, "help.title"), description=t(language, "help.intro"), colour=HELP_COLOUR)
    embed.add_field(name=t(language, "help.ways"), value="\n".join(f"• {way}" for way in ways), inline=False)
    embed.add_field(name=t(language, "help.cant"), value=t(language, "help.cant_body"), inline=False)
    if moderator:
        embed.add_field(name=t(language, "help.moderators"), value=t(language, "help.moderator_commands"),
                        inline=False)
    embed.set_footer(text=t(language, "help.languages"))
    return embed


class HelpCog(commands.Cog, name="Help"):
    """/help."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot

    @app_commands.command(name=command_text("help.name"), description=command_text("help.description"))
    async def help(self, interaction: discord.Interaction) -> None:
        embed = help_embed(self.bot.config, interaction_language(interaction), moderator=is_moderator(interaction))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
