"""Who may do what: members, moderators (a moderator role, or Manage Server) and server admins (Manage Server).

Two layers, on purpose. Discord hides moderator and admin commands from members' command pickers
(``STAFF_DEFAULTS``: registered with Manage Server as the default permission; admins can grant them to
the moderator role under Server Settings → Integrations). The bot still checks at run time, because a
server's Integrations settings can grant a command to anyone, and buttons have no such setting at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError

# Who sees moderator and admin commands in the picker until admins grant them to other roles.
STAFF_DEFAULTS = discord.Permissions(manage_guild=True)

MEMBERS, MODERATORS, ADMINS = "members", "moderators", "admins"


def is_admin(interaction: discord.Interaction) -> bool:
    member = interaction.user
    return isinstance(member, discord.Member) and member.guild_permissions.manage_guild


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server, or one of the server's moderator roles (/setup, else config.yaml)."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    allowed = set(interaction.client.settings_for(interaction.guild_id).moderator_roles)  # type: ignore[attr-defined]
    return any(role.id in allowed for role in member.roles)


ALLOWED: dict[str, Callable[[discord.Interaction], bool]] = {
    MEMBERS: lambda interaction: True, MODERATORS: is_moderator, ADMINS: is_admin,
}


def moderators_only() -> Any:
    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_moderator(interaction):
            raise app_commands.CheckFailure("moderators only")
        return True

    return app_commands.check(predicate)


def admins_only() -> Any:
    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_admin(interaction):
            raise app_commands.CheckFailure("admins only")
        return True

    return app_commands.check(predicate)


def require_moderator(interaction: discord.Interaction) -> None:
    """For buttons and forms, which no CommandTree check covers."""
    if not is_moderator(interaction):
        raise UserFacingError("Only moderators can do that.")


def audience(command: app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu) -> str:
    """Who a command is for, from its ``extras`` (or its group's): members, moderators or admins."""
    found = getattr(command, "extras", {}).get("audience")
    parent = getattr(command, "parent", None)
    while found is None and parent is not None:
        found = parent.extras.get("audience")
        parent = parent.parent
    return found or MEMBERS
