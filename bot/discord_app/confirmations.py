"""Telling a moderator what their change did, in plain words, with a preview and an Undo button.

The confirmation says what changed, shows the entry as members now get it (the answer to the entry's
own question, through the same ``render`` as members' answers), and offers **Undo** and **Details**
(index generation, file, git commit: the technical part, one click away). Both buttons are
``DynamicItem``s keyed by the change's audit record, so they keep working after a restart; Undo undoes
that change only while it is still the latest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.corpus.git_record import Author, find_commit
from bot.discord_app.permissions import require_moderator
from bot.discord_app.render import render, shorten
from bot.discord_app.replies import NO_MENTIONS, send_ephemeral, send_unexpected_error, send_user_error
from bot.errors import CorpusError, UserFacingError
from bot.serving.moderation import Change

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

UNDONE = {"add": ("the addition of", "the entry is gone again"), "edit": ("the edit of", "it is back as it was"),
          "remove": ("the removal of", "it is back")}


def author_of(interaction: discord.Interaction) -> Author:
    """The moderator as git and the audit log name them: display name and Discord id."""
    user = interaction.user
    return Author(getattr(user, "display_name", None) or user.name, user.id)


def plain(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(" ".join(text.split())))


def summary(change: Change) -> str:
    """What changed, for a moderator, without index or file jargon."""
    entry = f"`{change.entry_id}`"
    asked = f"“{plain(shorten(change.question, 200))}”" if change.question else None
    if change.action == "add":
        text = f"✅ **Added** the FAQ entry {entry}. It is live: members asking {asked or 'its question'} get the answer below."
    elif change.action == "edit":
        text = f"✅ **Updated** {entry}. It is live: members asking {asked or 'its question'} now get the answer below."
    elif change.action == "remove":
        text = f"🗑️ **Removed** {entry}. Members asking {asked or 'its question'} now get what is below."
    else:
        undid, now = UNDONE.get(change.undone.action if change.undone else "", ("the last change to", "it is as it was"))
        text = f"↩️ **Undid** {undid} {entry}: {now}."
        if asked:
            text += f" Members asking {asked} now get what is below."
    if change.commit is not None:
        text += f"\nRecorded in git as `{change.commit.sha}`."
    elif change.git_problem:
        text += f"\n⚠️ Live, but not recorded in git: {shorten(change.git_problem, 300)}"
    return text


def technical(change: Change) -> str:
    result = change.result
    return (f"Index generation `{result.generation}` · {result.passages} passages · {result.encoded} text(s) encoded · "
            f"live in {result.seconds:.2f} s" + (f" · file `{result.path}`" if result.path else ""))


def confirmation_view(change: Change) -> discord.ui.View | None:
    audit_id = change.result.audit_id
    if audit_id is None:
        return None
    view = discord.ui.View(timeout=None)
    if change.action != "undo":
        view.add_item(UndoButton(audit_id))
    view.add_item(DetailsButton(audit_id, change.result.encoded, round(change.result.seconds * 1000)))
    return view


async def send_confirmation(interaction: discord.Interaction, bot: RedLinesBot, change: Change) -> None:
    """The plain-words confirmation, privately, with the members' view of the entry and its buttons."""
    preview = None
    try:
        preview = await asyncio.to_thread(bot.moderation.preview, change)
    except Exception:  # noqa: BLE001 - the change is made; only its preview is missing
        log.exception("could not preview %s of %s", change.action, change.entry_id)
    content = summary(change)
    view = confirmation_view(change)
    if view is None:  # no audit record: no buttons, so the detail goes inline
        content += f"\n-# {technical(change)}"
    embed = discord.utils.MISSING
    if preview is not None and change.question:
        shown = render(preview)
        embed = shown.embeds[0] if shown.embeds else discord.Embed(description=shown.content)
        embed.set_author(name="Preview: what members see")
    await interaction.followup.send(shorten(content, 2000), embed=embed, view=view or discord.utils.MISSING,
                                    ephemeral=True, allowed_mentions=NO_MENTIONS)


class UndoButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rl:undo:(?P<audit>[0-9]{1,18})"):
    """Undoes one moderator change, while it is still the latest one."""

    def __init__(self, audit_id: int) -> None:
        super().__init__(discord.ui.Button(label="Undo", style=discord.ButtonStyle.danger, emoji="↩️",
                                           custom_id=f"rl:undo:{audit_id}"))
        self.audit_id = audit_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> UndoButton:
        return cls(int(match["audit"]))

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        bot = interaction.client
        try:
            require_moderator(interaction)
            await interaction.response.defer(ephemeral=True, thinking=True)
            change = await bot.locked(bot.moderation.undo, author_of(interaction), str(interaction.user),
                                      expected=self.audit_id)
        except (UserFacingError, CorpusError) as exc:
            await send_user_error(interaction, exc)
            return
        except Exception as exc:  # noqa: BLE001 - buttons have no CommandTree handler: same two tiers here
            await send_unexpected_error(interaction, exc, "the Undo button")
            return
        await send_confirmation(interaction, bot, change)


class DetailsButton(discord.ui.DynamicItem[discord.ui.Button],
                    template=r"rl:chg:(?P<audit>[0-9]{1,18}):(?P<encoded>[0-9]{1,7}):(?P<ms>[0-9]{1,9})"):
    """The technical side of a change: who, when, which file, index generations, git commit."""

    def __init__(self, audit_id: int, encoded: int, milliseconds: int) -> None:
        super().__init__(discord.ui.Button(label="Details", style=discord.ButtonStyle.secondary, emoji="🔎",
                                           custom_id=f"rl:chg:{audit_id}:{encoded}:{milliseconds}"))
        self.audit_id = audit_id
        self.encoded = encoded
        self.milliseconds = milliseconds

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> DetailsButton:
        return cls(int(match["audit"]), int(match["encoded"]), int(match["ms"]))

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        bot = interaction.client
        try:
            require_moderator(interaction)
            text = await asyncio.to_thread(self.details, bot)
        except UserFacingError as exc:
            await send_user_error(interaction, exc)
            return
        except Exception as exc:  # noqa: BLE001
            await send_unexpected_error(interaction, exc, "the Details button")
            return
        await send_ephemeral(interaction, shorten(text, 2000))

    def details(self, bot: RedLinesBot) -> str:
        record = bot.audit.get(self.audit_id) if bot.audit is not None else None
        if record is None:
            raise UserFacingError("The record of that change is no longer available.")
        when = dt.datetime.fromtimestamp(record.at or 0, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines = [f"**{record.action}** of `{record.entry_id}` by {plain(record.actor)} at {when} (audit record {record.id})",
                 f"File: `{record.path}`",
                 f"Index generation: `{record.generation_before}` → `{record.generation_after}` "
                 f"({self.encoded} text(s) encoded, live in {self.milliseconds / 1000:.2f} s)"]
        undo = bot.audit.undo_of(self.audit_id) if bot.audit is not None else None
        if undo is not None:
            lines.append(f"Undone since by {plain(undo.actor)} (audit record {undo.id}).")
        commit = find_commit(bot.config.corpus_dir, self.audit_id)
        if commit is not None:
            lines.append(f"Git commit: `{commit.sha}` {plain(commit.subject)}")
        elif bot.config.data.commit_corpus_changes:
            lines.append("Git: no commit (the corpus folder is not in a git work tree, or committing failed: see the log).")
        else:
            lines.append("Git: committing is turned off (data.commit_corpus_changes).")
        return "\n".join(lines)
