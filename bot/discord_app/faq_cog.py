"""Moderators keep the corpus right from Discord: /faq add|edit|remove|show|undo|gaps and /reload.

Only members with a configured moderator role, or Manage Server, may use these; anyone else is refused
privately and nothing changes. Every change goes through ``LiveUpdater`` (validated, written atomically,
audited, live within seconds); this cog only translates Discord input and renders the result.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.corpus.editing import FaqDraft, draft_from_modal, draft_of, entry_yaml
from bot.corpus.limits import (
    MAX_ALTERNATIVES_TEXT_CHARS,
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    MAX_URL_CHARS,
    alternatives_text,
)
from bot.corpus.live_update import UpdateResult
from bot.corpus.reader import ID_PATTERN
from bot.discord_app.render import shorten
from bot.discord_app.replies import NO_MENTIONS, send_ephemeral
from bot.errors import CorpusError, UserFacingError
from bot.storage.gaps import gaps_text, group_misses, read_misses

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server, or one of the moderator roles named in config."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    allowed = set(interaction.client.config.discord.moderator_roles)  # type: ignore[attr-defined]
    return any(role.id in allowed for role in member.roles)


def moderators_only():
    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_moderator(interaction):
            raise app_commands.CheckFailure("moderators only")
        return True

    return app_commands.check(predicate)


def describe(result: UpdateResult) -> str:
    what = {"add": "Added", "edit": "Updated", "remove": "Removed", "reload": "Reloaded the corpus",
            "undo": "Undid the last change to"}[result.action]
    target = f" `{result.entry_id}`" if result.entry_id else ""
    return (f"{what}{target}. Live now: index `{result.generation}` with {result.passages} passages, "
            f"{result.encoded} text(s) encoded, in {result.seconds:.2f} s.")


class FaqModal(discord.ui.Modal):
    """Question, alternative phrasings, answer and source, for a new entry or an edit."""

    def __init__(self, cog: FaqCog, *, editing: str | None, language: str, draft: FaqDraft | None = None,
                 new_id: str | None = None) -> None:
        super().__init__(title=shorten(f"Edit FAQ entry {editing}", 45) if editing else "New FAQ entry", timeout=900)
        self.cog = cog
        self.editing = editing
        self.new_id = new_id
        self.language = language
        # The entry's fingerprint as shown: if someone changes it before this form is sent, saving is refused.
        self.based_on = draft.based_on if draft else None
        # The limits are the corpus's own (bot.corpus.limits): whatever `corpus check` accepts fits this form.
        self.question = discord.ui.TextInput(label="Question", max_length=MAX_QUESTION_CHARS, custom_id="question",
                                             default=draft.question if draft else None)
        self.alternatives = discord.ui.TextInput(label="Other ways people ask it (one per line)", custom_id="alternatives",
                                                 style=discord.TextStyle.paragraph, max_length=MAX_ALTERNATIVES_TEXT_CHARS,
                                                 default=alternatives_text(draft.alternatives) if draft else None)
        self.answer = discord.ui.TextInput(label="Answer (your own words, one paragraph)", custom_id="answer",
                                           style=discord.TextStyle.paragraph, max_length=MAX_ANSWER_CHARS,
                                           default=draft.answer if draft else None)
        self.source_url = discord.ui.TextInput(label="Source url", max_length=MAX_URL_CHARS, custom_id="source_url",
                                               placeholder="https://...", default=draft.source_url if draft else None)
        self.source_title = discord.ui.TextInput(label="Source title", max_length=MAX_SOURCE_TITLE_CHARS, required=False,
                                                 custom_id="source_title", default=draft.source_title if draft else None)
        for item in (self.question, self.alternatives, self.answer, self.source_url, self.source_title):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if not is_moderator(interaction):
            await send_ephemeral(interaction, "You don't have permission to change the FAQ.")
            return
        draft = draft_from_modal(self.question.value, self.alternatives.value, self.answer.value,
                                 self.source_url.value, self.source_title.value, self.language,
                                 self.editing or self.new_id, based_on=self.based_on)
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = str(interaction.user)
        updater = self.cog.bot.updater
        try:
            if self.editing:
                result = await self.cog.locked(updater.edit, self.editing, draft, actor, interaction.user.id)
            else:
                result = await self.cog.locked(updater.add, draft, actor, interaction.user.id)
        except (UserFacingError, CorpusError) as exc:
            await send_ephemeral(interaction, shorten(str(exc), 1900))
            return
        await send_ephemeral(interaction, describe(result))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("FAQ modal failed (user %s, guild %s)", interaction.user.id, interaction.guild_id, exc_info=error)
        await send_ephemeral(interaction, "Sorry, something went wrong; it has been logged. Use /faq show to see "
                                          "whether the entry changed.")


class FaqCog(commands.Cog, name="FAQ"):
    """Moderator commands."""

    faq = app_commands.Group(name="faq", description="Moderators: add, correct and review FAQ entries.", guild_only=True)

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()

    async def locked(self, function, *args):
        """Run one corpus change at a time, in a worker thread (writing and encoding block)."""
        async with self._lock:
            return await asyncio.to_thread(function, *args)

    @faq.command(name="add", description="Add an FAQ entry (opens a form).")
    @app_commands.describe(language="Language of the entry", entry_id="Optional id (default: made from the question)")
    @app_commands.choices(language=[app_commands.Choice(name="English", value="en"),
                                    app_commands.Choice(name="Français", value="fr")])
    @moderators_only()
    async def add(self, interaction: discord.Interaction, language: str = "en", entry_id: str | None = None) -> None:
        if entry_id and not ID_PATTERN.match(entry_id):
            raise UserFacingError("An id is 2-64 lower-case letters, digits and hyphens, e.g. who-signed.")
        await interaction.response.send_modal(FaqModal(self, editing=None, language=language, new_id=entry_id))

    @faq.command(name="edit", description="Correct an FAQ entry (opens a form filled with it).")
    @app_commands.describe(entry_id="The entry's id, as shown by /faq show or in a citation")
    @moderators_only()
    async def edit(self, interaction: discord.Interaction, entry_id: str) -> None:
        entry = await self.bot.find_entry(entry_id)
        await interaction.response.send_modal(FaqModal(self, editing=entry.id, language=entry.language,
                                                       draft=draft_of(entry)))

    @faq.command(name="remove", description="Remove an FAQ entry.")
    @app_commands.describe(entry_id="The entry's id")
    @moderators_only()
    async def remove(self, interaction: discord.Interaction, entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.locked(self.bot.updater.remove, entry_id, str(interaction.user), interaction.user.id)
        await send_ephemeral(interaction, describe(result))

    @faq.command(name="show", description="Show an FAQ entry as it is stored.")
    @app_commands.describe(entry_id="The entry's id")
    @moderators_only()
    async def show(self, interaction: discord.Interaction, entry_id: str) -> None:
        entry = await self.bot.find_entry(entry_id)
        text = f"`{entry.path}`\n```yaml\n{shorten(entry_yaml(entry), 1800)}\n```"
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @faq.command(name="undo", description="Undo the last moderator change (file and index).")
    @moderators_only()
    async def undo(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.locked(self.bot.updater.undo, str(interaction.user), interaction.user.id)
        await send_ephemeral(interaction, describe(result))

    @faq.command(name="gaps", description="The questions the bot could not answer, most frequent first.")
    @moderators_only()
    async def gaps(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        misses = await asyncio.to_thread(read_misses, self.bot.config.database_target)
        groups = await asyncio.to_thread(group_misses, misses, self.bot.resources.encoder)
        await send_ephemeral(interaction, f"```\n{shorten(gaps_text(groups, limit=15), 1900)}\n```")

    @app_commands.command(name="reload", description="Moderators: pick up corpus files edited on disk.")
    @app_commands.guild_only()
    @moderators_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            result = await self.locked(self.bot.updater.reload, str(interaction.user), interaction.user.id)
        except CorpusError as exc:
            await send_ephemeral(interaction, shorten(f"Not reloaded; the live index keeps serving.\n{exc}", 1900))
            return
        await send_ephemeral(interaction, describe(result))
