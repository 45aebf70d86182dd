"""Sending messages back, privately where Discord allows it, never pinging anyone, in the member's language."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import QuestionError, without_server_paths
from bot.serving.i18n import chrome_language, t
from bot.serving.limits import Busy, RateLimited

log = logging.getLogger(__name__)

# The English generic error, for message replies (the catalogue's "errors.generic").
GENERIC_ERROR = "Sorry, something went wrong while answering. It has been logged; please try again later."
NO_MENTIONS = discord.AllowedMentions.none()


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send: text, embeds, buttons, and whether it should be seen by the asker only."""

    content: str | None
    embeds: tuple[discord.Embed, ...] = ()
    view: discord.ui.View | None = None
    private: bool = False

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send``/``reply``/``followup.send``."""
        return {"content": self.content, "embeds": list(self.embeds), "view": self.view or discord.utils.MISSING,
                "allowed_mentions": NO_MENTIONS}


def interaction_language(interaction: discord.Interaction) -> str:
    """The language of the bot's words for someone using a command: their Discord client's language."""
    return chrome_language(None, interaction.locale)


def error_text(error: BaseException, language: str) -> str:
    """A user-facing error worded in ``language`` (the English text of unknown errors as they are)."""
    if isinstance(error, RateLimited):
        return t(language, "errors.cooldown", seconds=max(1, math.ceil(error.retry_after)))
    if isinstance(error, Busy):
        return t(language, "errors.busy", seconds=error.retry_after)
    if isinstance(error, QuestionError):
        kind = getattr(error, "kind", "no_words")
        params = getattr(error, "params", {})
        if kind == "too_long" and {"length", "limit"} <= set(params):
            return t(language, "errors.too_long", length=f"{params['length']:,}", limit=f"{params['limit']:,}")
        if kind in ("empty", "no_words"):
            return t(language, f"errors.{kind}")
    return str(error)


async def send_ephemeral(interaction: discord.Interaction, text: str, *, view: Any = discord.utils.MISSING) -> None:
    """Reply privately, whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS, view=view)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS, view=view)
    except discord.HTTPException:
        log.warning("could not send a reply to interaction %s", interaction.id, exc_info=True)


async def send_user_error(interaction: discord.Interaction, error: Exception) -> None:
    """A user-facing error, privately, in the member's language, with no server paths in it."""
    config = getattr(interaction.client, "config", None)
    await send_ephemeral(interaction, without_server_paths(error_text(error, interaction_language(interaction)),
                                                           getattr(config, "project_root", None)))


async def send_unexpected_error(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    """Log with the ids a maintainer needs; tell the user only that it failed."""
    log.error("unexpected error in %s (interaction %s, user %s, guild %s, channel %s)", what, interaction.id,
              interaction.user.id if interaction.user else None, interaction.guild_id, interaction.channel_id,
              exc_info=error)
    await send_ephemeral(interaction, t(interaction_language(interaction), "errors.generic"))


async def send_to_interaction(interaction: discord.Interaction, outgoing: Outgoing, *,
                              ephemeral: bool) -> discord.WebhookMessage:
    """Send an answer or a decline for a command. A decline is private even when the command was deferred in
    public. Discord fixes a response's visibility when it is deferred, and while the deferred "thinking…" message
    is open every follow-up edits it (deleting it first makes follow-ups fail with Unknown Message); so the
    placeholder is closed, then deleted, and the decline sent as a private follow-up."""
    private = ephemeral or outgoing.private
    if private and not ephemeral and interaction.response.is_done():
        try:
            await interaction.edit_original_response(content="…", embeds=[], view=None)
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.warning("could not remove the public placeholder of interaction %s", interaction.id, exc_info=True)
    elif private and not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    return await interaction.followup.send(ephemeral=private, wait=True, **outgoing.kwargs())


async def reply_to_message(message: discord.Message, outgoing: Outgoing) -> discord.Message | None:
    """Reply to a member's message without pinging them; None when Discord refused."""
    try:
        return await message.reply(mention_author=False, **outgoing.kwargs())
    except discord.HTTPException:
        log.warning("could not reply to message %s in channel %s", message.id, message.channel.id, exc_info=True)
        return None
