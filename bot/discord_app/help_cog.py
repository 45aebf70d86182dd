"""/help: every way to ask the bot and what it can't do, shown privately, in the member's language.

Each person sees only what they can use: this server's answer channels as channel links, and the moderators'
and admins' commands only to those who may run them (the same checks the commands make).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.permissions import ADMINS, ALLOWED, MODERATORS, audience
from bot.discord_app.render import FIELD_LIMIT, shorten
from bot.discord_app.replies import NO_MENTIONS, interaction_language
from bot.discord_app.tree import command_text
from bot.serving.i18n import t

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

HELP_COLOUR = discord.Colour(0xC0392B)
STAFF_HEADINGS = {MODERATORS: "help.moderators", ADMINS: "help.admins"}


def _leaves(tree: app_commands.CommandTree) -> list[Any]:
    """Every command a person can pick: slash commands (subcommands one by one) and message commands."""
    found: list[Any] = []

    def walk(command: Any) -> None:
        if isinstance(command, app_commands.Group):
            for child in command.commands:
                walk(child)
        else:
            found.append(command)

    for command in tree.get_commands():
        walk(command)
    found.extend(tree.get_commands(type=discord.AppCommandType.message))
    return found


def staff_lines(tree: app_commands.CommandTree, interaction: discord.Interaction) -> dict[str, list[str]]:
    """The moderators' and admins' command lines this person may run, by audience."""
    sections: dict[str, list[str]] = {}
    for command in _leaves(tree):
        who = audience(command)
        if who not in STAFF_HEADINGS or not ALLOWED[who](interaction):
            continue
        if isinstance(command, app_commands.ContextMenu):
            line = f"**{command.name}** (right-click a message → Apps)"
        else:
            line = f"`/{command.qualified_name}` — {command.description}"
        sections.setdefault(who, []).append(line)
    return sections


def help_embed(answer_channels: tuple[int, ...], language: str,
               staff: dict[str, list[str]] | None = None) -> discord.Embed:
    """The /help card for one person."""
    check = command_text("check.name")
    check_name = t(language, "commands.check.name") if language != "en" else check.message
    ways = [t(language, "help.slash"), t(language, "help.mention"), t(language, "help.reply")]
    if answer_channels:
        ways.append(t(language, "help.channels", channels=", ".join(f"<#{c}>" for c in answer_channels)))
    ways.append(t(language, "help.context_menu", command=check_name))
    ways.append(t(language, "help.buttons"))
    embed = discord.Embed(title=t(language, "help.title"), description=t(language, "help.intro"), colour=HELP_COLOUR)
    embed.add_field(name=t(language, "help.ways"), value="\n".join(f"• {way}" for way in ways), inline=False)
    embed.add_field(name=t(language, "help.cant"), value=t(language, "help.cant_body"), inline=False)
    for who, heading in STAFF_HEADINGS.items():
        lines = (staff or {}).get(who)
        if lines:
            embed.add_field(name=t(language, heading), value=shorten("\n".join(lines), FIELD_LIMIT), inline=False)
    embed.set_footer(text=t(language, "help.languages"))
    return embed


class HelpCog(commands.Cog, name="Help"):
    """/help."""

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot

    @app_commands.command(name=command_text("help.name"), description=command_text("help.description"))
    async def help(self, interaction: discord.Interaction) -> None:
        channels = self.bot.settings_for(interaction.guild_id).answer_channels
        embed = help_embed(channels, interaction_language(interaction), staff_lines(self.bot.tree, interaction))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
