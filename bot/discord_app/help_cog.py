"""/help: the commands this person can run here — members' commands for everyone, moderators' and admins'
only for those who may use them (the same checks the commands make)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.permissions import ADMINS, ALLOWED, MEMBERS, MODERATORS, audience
from bot.discord_app.render import FIELD_LIMIT, shorten
from bot.discord_app.replies import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

HEADINGS = {MEMBERS: "Asking", MODERATORS: "For moderators", ADMINS: "For server admins"}
ASKING_WITHOUT_COMMANDS = ("Or mention me with your question, reply to one of my answers, or ask in an answer "
                           "channel (see /about).")


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
    for menu in tree.get_commands(type=discord.AppCommandType.message):
        found.append(menu)
    return found


def help_lines(tree: app_commands.CommandTree, interaction: discord.Interaction) -> dict[str, list[str]]:
    """Command lines per audience, for the audiences this person belongs to."""
    sections: dict[str, list[str]] = {}
    for command in _leaves(tree):
        who = audience(command)
        if not ALLOWED[who](interaction):
            continue
        if isinstance(command, app_commands.ContextMenu):
            line = f"**{command.name}** (right-click a message → Apps)"
        else:
            line = f"`/{command.qualified_name}` — {command.description}"
        sections.setdefault(who, []).append(line)
    return sections


class HelpCog(commands.Cog, name="Help"):
    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="The commands you can use here.")
    async def help(self, interaction: discord.Interaction) -> None:
        sections = help_lines(self.bot.tree, interaction)
        embed = discord.Embed(title="What you can do", colour=discord.Colour(0xC0392B))
        for who in (MEMBERS, MODERATORS, ADMINS):
            lines = sections.get(who)
            if not lines:
                continue
            if who == MEMBERS:
                lines = [*lines, ASKING_WITHOUT_COMMANDS]
            embed.add_field(name=HEADINGS[who], value=shorten("\n".join(lines), FIELD_LIMIT), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
