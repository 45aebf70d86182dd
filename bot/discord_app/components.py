"""Persistent buttons under an answer: "More sources", "Helpful", "Not helpful".

They are ``DynamicItem``s: the answer id lives in the custom id and the answer itself in SQLite, so a
button pressed after a restart still works (discord.py re-creates the item from its custom id).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_app.acknowledge import Acknowledgement
from bot.discord_app.render import render
from bot.discord_app.replies import send_ephemeral, send_unexpected_error, send_user_error
from bot.errors import UserFacingError
from bot.serving.service import Asked

if TYPE_CHECKING:
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)


def buttons_for(asked: Asked) -> Any:
    """The buttons to send under a first answer, or MISSING (no buttons) when it was declined or not recorded."""
    if not asked.answer.answered:
        return discord.utils.MISSING
    return answer_view(asked.answer_id, len(asked.answer.excerpts)) or discord.utils.MISSING


def answer_view(answer_id: int | None, next_offset: int, has_more: bool = True) -> discord.ui.View | None:
    """The buttons for a recorded answer; none when it could not be recorded."""
    if answer_id is None:
        return None
    view = discord.ui.View(timeout=None)
    if has_more:
        view.add_item(MoreSourcesButton(answer_id, next_offset))
    view.add_item(FeedbackButton(answer_id, True))
    view.add_item(FeedbackButton(answer_id, False))
    return view


class MoreSourcesButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rl:more:(?P<answer>[0-9]{1,18}):(?P<offset>[0-9]{1,3})"):
    """Shows the next passages of the same question, privately to whoever presses it."""

    def __init__(self, answer_id: int, offset: int) -> None:
        super().__init__(discord.ui.Button(label="More sources", style=discord.ButtonStyle.secondary,
                                           custom_id=f"rl:more:{answer_id}:{offset}", emoji="📚"))
        self.answer_id = answer_id
        self.offset = offset

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> MoreSourcesButton:
        return cls(int(match["answer"]), int(match["offset"]))

    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:
        bot = interaction.client
        try:
            stored = await bot.service.stored(self.answer_id)
            if stored is None:
                raise UserFacingError("I no longer have that answer; please ask the question again.")
            # Acknowledged before waiting for a slot (Discord's 3 s rule); see acknowledge.py.
            async with bot.service.admitted(stored.question, user_id=interaction.user.id,
                                            acknowledge=Acknowledgement(interaction, ephemeral=True)) as admission:
                asked = await admission.answer(via="more", guild_id=interaction.guild_id,
                                               channel_id=interaction.channel_id, offset=self.offset)
        except UserFacingError as exc:
            await send_user_error(interaction, exc)
            return
        except Exception as exc:  # noqa: BLE001 - buttons have no CommandTree handler: same two tiers here
            await send_unexpected_error(interaction, exc, "the More sources button")
            return
        answer = asked.answer
        if not answer.excerpts:
            await send_ephemeral(interaction, "There are no further passages for this question.")
            return
        step = bot.config.retrieval.top_k
        embed = render(answer, heading="More sources", first_number=self.offset + 1) if answer.answered else \
            render(answer)
        view = answer_view(asked.answer_id, self.offset + step, has_more=len(answer.excerpts) >= step) \
            if answer.answered else None
        await interaction.followup.send(embed=embed, view=view or discord.utils.MISSING, ephemeral=True)


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rl:fb:(?P<answer>[0-9]{1,18}):(?P<helpful>[01])"):
    """Records whether an answer helped, for every passage it showed."""

    def __init__(self, answer_id: int, helpful: bool) -> None:
        super().__init__(discord.ui.Button(
            label="Helpful" if helpful else "Not helpful",
            style=discord.ButtonStyle.success if helpful else discord.ButtonStyle.secondary,
            custom_id=f"rl:fb:{answer_id}:{int(helpful)}", emoji="👍" if helpful else "👎"))
        self.answer_id = answer_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> FeedbackButton:
        return cls(int(match["answer"]), match["helpful"] == "1")

    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:
        recorded = await interaction.client.service.feedback(self.answer_id, interaction.user.id, self.helpful)
        if not recorded:
            message = "Thanks. I couldn't record that right now; please tell a moderator."
        elif self.helpful:
            message = "Thanks, glad it helped. Recorded."
        else:
            message = "Thanks, recorded. Moderators review answers marked not helpful to improve the FAQ."
        await interaction.response.send_message(message, ephemeral=True)
