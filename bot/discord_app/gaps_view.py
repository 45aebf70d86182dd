"""/faq gaps as something a moderator can act on from a phone: a few gaps per page, each its own embed.

Each gap shows the question, how often and when it was last asked, a jump link to the latest message,
and two buttons: **Write an FAQ entry** (the add form, prefilled with the question) and **Dismiss**.
The questions were typed by members, so they are shown as inert text: no Markdown, no mentions and no
clickable links (a question must not be able to dress itself up as a message to moderators).

The listing is private and short-lived (its buttons work for ``TIMEOUT`` seconds; run /faq gaps again after).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import discord

from bot.discord_app.item_callback import set_callback
from bot.discord_app.permissions import is_moderator
from bot.discord_app.render import shorten
from bot.discord_app.replies import send_unexpected_error
from bot.storage.gaps import Gap

PER_PAGE = 3
TIMEOUT = 900
GAP_COLOUR = discord.Colour(0xE67E22)
_LINK = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):/+")
_INVITE = re.compile(r"(?i)\b(discord(?:app)?\.(?:gg|com|me)|dsc\.gg)/")


def inert(text: str, limit: int) -> str:
    """Member text shown to moderators: one line, Markdown and mentions escaped, links broken so they can't be
    clicked (``https://`` becomes ``https[:]//``)."""
    line = " ".join(text.split())
    line = _LINK.sub(lambda m: f"{m[1]}[:]//", line)
    line = _INVITE.sub(lambda m: f"{m[1]}[/]", line)
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(line))
    escaped = escaped.replace("<", "\\<")  # <#channel>, <@&role>, <t:...>: shown, not rendered
    return shorten(escaped, limit)


def jump_link(gap: Gap) -> str | None:
    latest = gap.latest
    if latest is None or latest.guild_id is None or latest.channel_id is None:
        return None
    base = f"https://discord.com/channels/{latest.guild_id}/{latest.channel_id}"
    return f"{base}/{latest.message_id}" if latest.message_id else base


def gap_embed(number: int, gap: Gap) -> discord.Embed:
    times = "once" if gap.count == 1 else f"{gap.count} times"
    lines = [f"> {inert(gap.question, 600)}"]
    others = [inert(example, 150) for example in gap.examples[1:3]]
    if others:
        lines.append("Also asked as: " + " · ".join(f"“{other}”" for other in others))
    why = []
    if gap.declined:
        why.append(f"{gap.declined} declined")
    if gap.not_helpful:
        why.append(f"{gap.not_helpful} marked not helpful")
    last = f"Last asked <t:{int(gap.last_asked)}:R>"
    link = jump_link(gap)
    if link:
        last += f" · [latest message]({link})"
    lines += [last, " · ".join(why)]
    return discord.Embed(title=f"{number}. Asked {times}", description="\n".join(lines), colour=GAP_COLOUR)


class GapsView(discord.ui.View):
    """Pages of gaps with their buttons, for the moderator who asked."""

    def __init__(self, gaps: list[Gap], *, intro: str, write: Callable[[discord.Interaction, Gap], Awaitable[None]],
                 dismiss: Callable[[Gap], Awaitable[None]]) -> None:
        super().__init__(timeout=TIMEOUT)
        self.gaps = gaps
        self.intro = intro
        self.write = write
        self.dismiss = dismiss
        self.page = 0
        self._build()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.gaps) // PER_PAGE))

    def shown(self) -> list[tuple[int, Gap]]:
        start = self.page * PER_PAGE
        return list(enumerate(self.gaps[start : start + PER_PAGE], start=start + 1))

    def content(self, note: str | None = None) -> str:
        text = self.intro
        if self.gaps:
            text += f"\nPage {self.page + 1} of {self.pages}."
        else:
            text += "\nNothing left to review."
        return f"{note}\n{text}" if note else text

    def embeds(self) -> list[discord.Embed]:
        return [gap_embed(number, gap) for number, gap in self.shown()]

    def _build(self) -> None:
        self.clear_items()
        for row, (number, gap) in enumerate(self.shown()):
            write: discord.ui.Button[GapsView] = discord.ui.Button(
                label=f"Write an FAQ entry ({number})", style=discord.ButtonStyle.primary, emoji="✍️", row=row)
            set_callback(write, self._on_write(gap))
            dismiss: discord.ui.Button[GapsView] = discord.ui.Button(
                label=f"Dismiss ({number})", style=discord.ButtonStyle.secondary, row=row)
            set_callback(dismiss, self._on_dismiss(gap))
            self.add_item(write)
            self.add_item(dismiss)
        if self.pages > 1:
            previous: discord.ui.Button[GapsView] = discord.ui.Button(
                label="Previous", emoji="◀️", disabled=self.page == 0, row=4)
            set_callback(previous, self._turn(-1))
            following: discord.ui.Button[GapsView] = discord.ui.Button(
                label="Next", emoji="▶️", disabled=self.page >= self.pages - 1, row=4)
            set_callback(following, self._turn(+1))
            self.add_item(previous)
            self.add_item(following)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        await send_unexpected_error(interaction, error, "the /faq gaps listing")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if is_moderator(interaction):
            return True
        await interaction.response.send_message("Only moderators can do that.", ephemeral=True)
        return False

    async def _show(self, interaction: discord.Interaction, note: str | None = None) -> None:
        self.page = min(self.page, self.pages - 1)
        self._build()
        await interaction.response.edit_message(content=self.content(note), embeds=self.embeds(), view=self)

    def _turn(self, step: int) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def turn(interaction: discord.Interaction) -> None:
            self.page = max(0, min(self.pages - 1, self.page + step))
            await self._show(interaction)

        return turn

    def _on_write(self, gap: Gap) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def write(interaction: discord.Interaction) -> None:
            await self.write(interaction, gap)

        return write

    def _on_dismiss(self, gap: Gap) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def dismiss(interaction: discord.Interaction) -> None:
            await self.dismiss(gap)
            if gap in self.gaps:
                self.gaps.remove(gap)
            await self._show(interaction, note=f"Dismissed “{inert(gap.question, 100)}”.")

        return dismiss
