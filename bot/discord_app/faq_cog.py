"""Moderators keep the corpus right from Discord: /faq add|edit|remove|show|undo|gaps|why, /reload and the
"Why this answer?" message command.

Members don't see these commands (registered with Manage Server as the default permission), and the bot
checks again at run time: only members with a moderator role (/setup, else config.yaml) or Manage
Server may use them; anyone else is refused privately and nothing changes. Every change goes through
``Moderation`` (validated, written atomically, audited, committed to git, live within seconds); this cog
only translates Discord input and shows the result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.corpus.editing import FaqDraft, draft_from_modal, draft_of, entry_yaml
from bot.corpus.finder import search
from bot.corpus.limits import (
    MAX_ALTERNATIVES_TEXT_CHARS,
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    MAX_URL_CHARS,
    alternatives_text,
)
from bot.corpus.live_update import UpdateResult
from bot.corpus.reader import ID_PATTERN, LANGUAGES
from bot.discord_app.confirmations import author_of, send_confirmation
from bot.discord_app.explain import answer_id_in, explain_embed, question_in
from bot.discord_app.gaps_view import GapsView
from bot.discord_app.permissions import MODERATORS, STAFF_DEFAULTS, is_moderator, moderators_only
from bot.discord_app.render import shorten
from bot.discord_app.replies import NO_MENTIONS, send_ephemeral
from bot.errors import CorpusError, UserFacingError, without_server_paths
from bot.storage.answers import MAX_MISSES
from bot.storage.gaps import Gap, group_misses

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

ENTRY_ID_HELP = "The entry: start typing its id or a few words of its question, and pick it from the list"


def describe(result: UpdateResult) -> str:
    """A reload, in plain words, with the technical detail on a small line."""
    if not result.changed:
        return (f"Nothing to reload: the corpus on disk is what index `{result.generation}` was built from, "
                "and it keeps serving.")
    return (f"Reloaded the corpus: the files on disk are live ({result.passages} passages).\n"
            f"-# Index generation `{result.generation}` · {result.encoded} text(s) encoded · {result.seconds:.2f} s")


class FaqModal(discord.ui.Modal):
    """Question, alternative phrasings, answer and source, for a new entry or an edit."""

    question: discord.ui.TextInput[FaqModal]
    alternatives: discord.ui.TextInput[FaqModal]
    answer: discord.ui.TextInput[FaqModal]
    source_url: discord.ui.TextInput[FaqModal]
    source_title: discord.ui.TextInput[FaqModal]

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

    # Set around the form (not one of its fields): the declined questions (answer ids) a new entry was written
    # for, from /faq gaps, so they stop being listed once it is saved.
    closes: tuple[int, ...] = ()

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if not is_moderator(interaction):
            await send_ephemeral(interaction, "You don't have permission to change the FAQ.")
            return
        draft = draft_from_modal(self.question.value, self.alternatives.value, self.answer.value,
                                 self.source_url.value, self.source_title.value, self.language,
                                 self.editing or self.new_id, based_on=self.based_on)
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = str(interaction.user)
        moderation = self.cog.bot.moderation
        try:
            if self.editing:
                change = await self.cog.locked(moderation.edit, self.editing, draft, author_of(interaction), actor)
            else:
                change = await self.cog.locked(moderation.add, draft, author_of(interaction), actor, closes=self.closes)
        except (UserFacingError, CorpusError) as exc:
            await send_ephemeral(interaction, shorten(self.cog.shown(exc), 1900))
            return
        await send_confirmation(interaction, self.cog.bot, change)

    # Modal.on_error's own signature, which drops BaseView's item argument (discord.py, "as designed":
    # Rapptz/discord.py#9816); checked against BaseView it can't be satisfied.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        log.error("FAQ modal failed (user %s, guild %s)", interaction.user.id, interaction.guild_id, exc_info=error)
        await send_ephemeral(interaction, "Sorry, something went wrong; it has been logged. Use /faq show to see "
                                          "whether the entry changed.")


class FaqCog(commands.Cog, name="FAQ"):
    """Moderator commands."""

    faq = app_commands.Group(name="faq", description="Moderators: add, correct and review FAQ entries.", guild_only=True,
                             default_permissions=STAFF_DEFAULTS, extras={"audience": MODERATORS})

    def __init__(self, bot: RedLinesBot) -> None:
        self.bot = bot
        self.why_menu = app_commands.ContextMenu(name="Why this answer?", callback=self.why_message,
                                                 extras={"audience": MODERATORS})
        self.why_menu.guild_only = True
        self.why_menu.default_permissions = STAFF_DEFAULTS

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.why_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.why_menu.name, type=self.why_menu.type)

    async def locked(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one corpus change at a time, in a worker thread (writing, encoding and git block)."""
        return await self.bot.locked(function, *args, **kwargs)

    async def entry_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete for entry_id: the live entries nearest what was typed (id or question, typos allowed)."""
        if not is_moderator(interaction):
            return []
        return [app_commands.Choice(name=shorten(f"{name.id} · {name.question}", 100), value=name.id)
                for name in search(self.bot.entry_names(), current)]

    def _default_language(self, guild_id: int | None) -> str:
        language = self.bot.settings_for(guild_id).language
        return language if language in LANGUAGES else LANGUAGES[0]

    def shown(self, error: Exception) -> str:
        """An error's message as moderators may see it: paths relative to the project, never the server's."""
        return without_server_paths(str(error), self.bot.config.project_root)

    # ---- changes -------------------------------------------------------------------------------------

    @faq.command(name="add", description="Add an FAQ entry (opens a form).")
    @app_commands.describe(language="Language of the entry (default: the server's language, see /setup)",
                           entry_id="Optional id (default: made from the question)")
    @app_commands.choices(language=[app_commands.Choice(name="English", value="en"),
                                    app_commands.Choice(name="Français", value="fr")])
    @moderators_only()
    async def add(self, interaction: discord.Interaction, language: str | None = None, entry_id: str | None = None) -> None:
        if entry_id and not ID_PATTERN.match(entry_id):
            raise UserFacingError("An id is 2-64 lower-case letters, digits and hyphens, e.g. who-signed.")
        await interaction.response.send_modal(FaqModal(self, editing=None, new_id=entry_id,
                                                       language=language or self._default_language(interaction.guild_id)))

    @faq.command(name="edit", description="Correct an FAQ entry (opens a form filled with it).")
    @app_commands.describe(entry_id=ENTRY_ID_HELP)
    @app_commands.autocomplete(entry_id=entry_choices)
    @moderators_only()
    async def edit(self, interaction: discord.Interaction, entry_id: str) -> None:
        entry = await self.bot.find_entry(entry_id)
        await interaction.response.send_modal(FaqModal(self, editing=entry.id, language=entry.language,
                                                       draft=draft_of(entry)))

    @faq.command(name="remove", description="Remove an FAQ entry.")
    @app_commands.describe(entry_id=ENTRY_ID_HELP)
    @app_commands.autocomplete(entry_id=entry_choices)
    @moderators_only()
    async def remove(self, interaction: discord.Interaction, entry_id: str) -> None:
        entry = await self.bot.find_entry(entry_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = await self.locked(self.bot.moderation.remove, entry.id, author_of(interaction), str(interaction.user))
        await send_confirmation(interaction, self.bot, change)

    @faq.command(name="show", description="Show an FAQ entry as it is stored.")
    @app_commands.describe(entry_id=ENTRY_ID_HELP)
    @app_commands.autocomplete(entry_id=entry_choices)
    @moderators_only()
    async def show(self, interaction: discord.Interaction, entry_id: str) -> None:
        entry = await self.bot.find_entry(entry_id)
        text = f"`{entry.path}`\n```yaml\n{shorten(entry_yaml(entry), 1800)}\n```"
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @faq.command(name="undo", description="Undo the last moderator change (file and index).")
    @moderators_only()
    async def undo(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = await self.locked(self.bot.moderation.undo, author_of(interaction), str(interaction.user))
        await send_confirmation(interaction, self.bot, change)

    # ---- gaps ----------------------------------------------------------------------------------------

    @faq.command(name="gaps", description="The questions the bot could not answer, most frequent first.")
    @app_commands.describe(days="Questions of the last N days (default 30)")
    @moderators_only()
    async def gaps(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] = 30) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        store = self.bot.store
        if store is None:
            raise UserFacingError("The bot's database is unavailable, so there are no unanswered questions to show.")
        since = time.time() - days * 86400
        misses = await asyncio.to_thread(store.misses, since=since, guild_id=interaction.guild_id)
        groups = await asyncio.to_thread(group_misses, misses, self.bot.resources.encoder)
        if not groups:
            await send_ephemeral(interaction, f"No unanswered questions to review in this server in the last {days} days.")
            return
        intro = (f"**{len(misses)} unanswered question(s)** of the last {days} days in {len(groups)} group(s), most "
                 "asked first (chit-chat left out).")
        if len(misses) >= MAX_MISSES:
            intro += f" Only the newest {MAX_MISSES:,} questions are grouped."
        view = GapsView(groups, intro=intro, write=self._write_from_gap, dismiss=self._dismiss_gap)
        await interaction.followup.send(view.content(), embeds=view.embeds(), view=view, ephemeral=True,
                                        allowed_mentions=NO_MENTIONS)

    async def _write_from_gap(self, interaction: discord.Interaction, gap: Gap) -> None:
        """The add form, prefilled with the gap's question; saving it takes the gap off the list."""
        modal = FaqModal(self, editing=None, language=self._default_language(interaction.guild_id))
        modal.question.default = shorten(gap.question, modal.question.max_length or 300)
        modal.closes = tuple(gap.answer_ids)
        await interaction.response.send_modal(modal)

    async def _dismiss_gap(self, gap: Gap) -> None:
        store = self.bot.store
        if store is None:
            raise UserFacingError("The bot's database is unavailable.")
        await asyncio.to_thread(store.close_gap, gap.answer_ids)

    # ---- why -----------------------------------------------------------------------------------------

    @faq.command(name="why", description="Why the bot answers (or declines) a question: excerpts, scores, reasons.")
    @app_commands.describe(question="The question, as a member asked it")
    @moderators_only()
    async def why(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 2000]) -> None:
        await self._explain(interaction, question)

    async def why_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message command on one of the bot's answers: why it answered (or declined) that way."""
        if not is_moderator(interaction):
            raise app_commands.CheckFailure("moderators only")
        if self.bot.user is None or message.author.id != self.bot.user.id:
            raise UserFacingError("That isn't one of my answers: use it on a message the bot posted.")
        answer_id = answer_id_in(message)
        stored = await self.bot.service.stored(answer_id) if answer_id is not None else None
        question = stored.question if stored is not None else question_in(message)
        if not question:
            raise UserFacingError("I can't find the question behind that message. Try /faq why with the question.")
        await self._explain(interaction, question, answered_on=stored.index_version if stored is not None else None)

    async def _explain(self, interaction: discord.Interaction, question: str, answered_on: str | None = None) -> None:
        answerer = self.bot.resources.answerer
        answerer.validate(question)  # a bad question is refused at once, privately
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await asyncio.to_thread(answerer.answer, question)
        await interaction.followup.send(embed=explain_embed(answer, answerer.settings, answered_on=answered_on),
                                        ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ---- reload --------------------------------------------------------------------------------------

    @app_commands.command(name="reload", description="Moderators: pick up corpus files edited on disk.",
                          extras={"audience": MODERATORS})
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderators_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            result = await self.locked(self.bot.updater.reload, str(interaction.user), interaction.user.id)
        except UserFacingError as exc:
            await send_ephemeral(interaction, shorten(f"Not reloaded; the live index keeps serving.\n{self.shown(exc)}", 1900))
            return
        await send_ephemeral(interaction, describe(result))
