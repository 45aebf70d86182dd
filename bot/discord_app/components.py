"""Buttons under answers and declines, and ``present``: an answer turned into the message and buttons to send.

Every button is a ``DynamicItem``: what it needs (answer id, offset, FAQ entry, language) lives in its custom id and
the answer itself in SQLite, so a button pressed after a restart still works (discord.py re-creates the item from
its custom id). Buttons that answer again from the index (More sources, its pages, suggested questions) refuse when
their message is older than ``discord.button_max_age_days``: the index may have changed since.

- under an answer: 📚 More sources (private pages, Previous/Next edit the same message), 👍 / 👎 (the member sees
  their own vote; 👎 offers More sources and Ask a moderator), and a link to the letter;
- under a decline: up to three nearest FAQ questions, each answering on click, and 🙋 Ask a moderator, which
  posts the question with a jump link in the server's moderators' channel (``/setup``, else
  ``discord.moderators_channel``), pinging only ``discord.handoff_role``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.core.answer import Answer, DeclineKind
from bot.discord_app.render import (
    answer_message,
    claim_message,
    decline_message,
    defang,
    masked_link,
    page_message,
    shorten,
    shown_excerpts,
)
from bot.discord_app.replies import (
    Outgoing,
    error_text,
    send_ephemeral,
    send_to_interaction,
    send_unexpected_error,
)
from bot.errors import UserFacingError
from bot.serving.i18n import CHROME_LANGUAGES, DEFAULT, chrome_language, locale_language, t
from bot.serving.service import Asked

if TYPE_CHECKING:
    from bot.config import Config
    from bot.discord_app.client import RedLinesBot

log = logging.getLogger(__name__)

LETTER_URL = "https://red-lines.ai/"
BUTTON_LABEL_LIMIT = 80
_LANG = r"(?::(?P<lang>en|fr))?"


def _language(match_lang: str | None, interaction: discord.Interaction) -> str:
    return match_lang if match_lang in CHROME_LANGUAGES else chrome_language(None, interaction.locale)


def letter_button(language: str) -> discord.ui.Button:
    return discord.ui.Button(label=t(language, "button.read_letter"), style=discord.ButtonStyle.link, url=LETTER_URL,
                             emoji="📜")


# ---- what to send -------------------------------------------------------------------------------------------


def present(asked: Asked, config: Config, *, moderators_channel: int | None = None, locale: object = None,
            claim: str | None = None) -> Outgoing:
    """The message and buttons for an answer (public) or a decline (private wherever Discord allows it).

    ``moderators_channel`` is the server's hand-off channel (``settings_for(guild).moderators_channel``: /setup over
    config.yaml); without one there is no "Ask a moderator". ``claim`` is the text of a message checked with
    "Check against the letter"."""
    answer = asked.answer
    language = chrome_language(answer.language, locale)
    if answer.answered:
        message = claim_message(answer, claim, locale=locale) if claim is not None else \
            answer_message(answer, locale=locale)
        view = answer_view(asked, language, shown=len(shown_excerpts(answer)), top_k=config.retrieval.top_k)
        return Outgoing(message.content, message.embeds, view, private=False)
    handoff = can_hand_off(asked, moderators_channel)
    message = decline_message(answer, locale=locale, claim=claim is not None, moderator=handoff)
    return Outgoing(message.content, message.embeds, decline_view(asked, language, handoff=handoff), private=True)


def can_hand_off(asked: Asked, moderators_channel: int | None) -> bool:
    return (moderators_channel is not None and asked.answer_id is not None
            and asked.answer.decline != DeclineKind.CHITCHAT)


def answer_view(asked: Asked, language: str, *, shown: int, top_k: int) -> discord.ui.View | None:
    """More sources, 👍, 👎 and the letter under a recorded answer; just the letter when it was not recorded."""
    view = discord.ui.View(timeout=None)
    if asked.answer_id is not None:
        if shown < len(asked.answer.excerpts) or len(asked.answer.excerpts) >= top_k:
            view.add_item(MoreSourcesButton(asked.answer_id, shown, language))
        view.add_item(FeedbackButton(asked.answer_id, True, language))
        view.add_item(FeedbackButton(asked.answer_id, False, language))
    view.add_item(letter_button(language))
    return view


def decline_view(asked: Asked, language: str, *, handoff: bool) -> discord.ui.View | None:
    """The nearest FAQ questions (one per row) and Ask a moderator; None when there is nothing to offer."""
    view = discord.ui.View(timeout=None)
    if asked.answer.decline != DeclineKind.CHITCHAT:
        for suggestion in asked.answer.suggestions[:3]:
            view.add_item(SuggestionButton(suggestion.entry_id, language, label=suggestion.question))
    if handoff and asked.answer_id is not None:
        view.add_item(ModeratorButton(asked.answer_id, language))
    return view if view.children else None


def page_view(answer_id: int, offset: int, first: int, step: int, has_next: bool, language: str) -> discord.ui.View:
    """Previous / Next for a page of More sources (they edit the same private message), and the letter."""
    view = discord.ui.View(timeout=None)
    previous = PageButton(answer_id, max(first, offset - step), first, "p", language)
    previous.item.disabled = offset <= first
    following = PageButton(answer_id, offset + step, first, "n", language)
    following.item.disabled = not has_next
    view.add_item(previous)
    view.add_item(following)
    view.add_item(letter_button(language))
    return view


def vote_view(answer_id: int, helpful: bool, language: str, *, more_offset: int | None, handoff: bool) -> discord.ui.View:
    """The member's own vote, marked; after 👎 the next steps: More sources and Ask a moderator."""
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(answer_id, True, language, chosen=helpful))
    view.add_item(FeedbackButton(answer_id, False, language, chosen=not helpful))
    if not helpful:
        if more_offset is not None:
            view.add_item(MoreSourcesButton(answer_id, more_offset, language))
        if handoff:
            view.add_item(ModeratorButton(answer_id, language))
    return view


# ---- shared checks --------------------------------------------------------------------------------------------


def too_old(interaction: discord.Interaction, max_age_days: int) -> datetime | None:
    """When the button's message is older than the configured age: the message's date; else None."""
    message = interaction.message
    if message is None:
        return None
    created = message.created_at
    if discord.utils.utcnow() - created > timedelta(days=max_age_days):
        return created
    return None


async def refuse_if_old(interaction: discord.Interaction[RedLinesBot], language: str) -> bool:
    created = too_old(interaction, interaction.client.config.discord.button_max_age_days)
    if created is None:
        return False
    await send_ephemeral(interaction, t(language, "more.too_old", date=created.strftime("%Y-%m-%d")))
    return True


def _more_offset(message: discord.Message | None, default: int) -> int:
    """The offset of the More sources button on ``message`` (where the first answer stopped), else ``default``."""
    for row in getattr(message, "components", None) or ():
        for child in getattr(row, "children", ()):
            match = re.fullmatch(MoreSourcesButton.__discord_ui_compiled_template__, getattr(child, "custom_id", "") or "")
            if match:
                return int(match["offset"])
    return default


async def _answer_page(interaction: discord.Interaction[RedLinesBot], answer_id: int, offset: int,
                       language: str) -> tuple[Answer, bool] | str:
    """The excerpts of a stored answer from ``offset`` and whether more follow; or what to tell the member."""
    bot = interaction.client
    stored = await bot.service.stored(answer_id)
    if stored is None:
        return t(language, "more.forgotten")
    step = bot.config.retrieval.top_k
    asked = await bot.service.ask(stored.question, user_id=interaction.user.id, via="more",
                                  guild_id=interaction.guild_id, channel_id=interaction.channel_id, offset=offset,
                                  limit=step + 1, count_towards_cooldown=False)
    answer = asked.answer
    if not answer.excerpts:
        return t(language, "more.none")
    return dataclasses.replace(answer, excerpts=answer.excerpts[:step]), len(answer.excerpts) > step


async def _shown_page(interaction: discord.Interaction[RedLinesBot], answer_id: int, offset: int, first: int,
                      language: str, what: str) -> tuple[list[discord.Embed], discord.ui.View] | None:
    """A More sources page ready to show (its embeds and Previous/Next), or None when the member was told why not
    (buttons have no CommandTree handler: the same two tiers of errors here)."""
    try:
        page = await _answer_page(interaction, answer_id, offset, language)
    except UserFacingError as exc:
        await send_ephemeral(interaction, error_text(exc, language))
        return None
    except Exception as exc:  # noqa: BLE001 - logged with its ids; the member gets the generic message
        await send_unexpected_error(interaction, exc, what)
        return None
    if isinstance(page, str):
        await send_ephemeral(interaction, page)
        return None
    answer, has_next = page
    message = page_message(answer, offset + 1, locale=language)
    view = page_view(answer_id, offset, first, interaction.client.config.retrieval.top_k, has_next, language)
    return list(message.embeds), view


# ---- buttons ----------------------------------------------------------------------------------------------------


class MoreSourcesButton(discord.ui.DynamicItem[discord.ui.Button],
                        template=r"rl:more:(?P<answer>[0-9]{1,18}):(?P<offset>[0-9]{1,3})" + _LANG):
    """Opens the next passages privately, as pages that Previous/Next turn in place."""

    def __init__(self, answer_id: int, offset: int, language: str | None = None) -> None:
        suffix = f":{language}" if language else ""
        super().__init__(discord.ui.Button(label=t(language or DEFAULT, "button.more"), emoji="📚",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"rl:more:{answer_id}:{offset}{suffix}"))
        self.answer_id = answer_id
        self.offset = offset
        self.language = language

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> MoreSourcesButton:
        return cls(int(match["answer"]), int(match["offset"]), match["lang"])

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        language = _language(self.language, interaction)
        if await refuse_if_old(interaction, language):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await _shown_page(interaction, self.answer_id, self.offset, self.offset, language,
                                  "the More sources button")
        if shown is not None:
            embeds, view = shown
            await interaction.followup.send(embeds=embeds, view=view, ephemeral=True)


class PageButton(discord.ui.DynamicItem[discord.ui.Button],
                 template=r"rl:page:(?P<answer>[0-9]{1,18}):(?P<offset>[0-9]{1,3}):(?P<first>[0-9]{1,3}):"
                          r"(?P<dir>[pn])" + _LANG):
    """Previous / Next in a private More sources message: edits that message in place."""

    def __init__(self, answer_id: int, offset: int, first: int, direction: str, language: str | None = None) -> None:
        language = language or DEFAULT
        previous = direction == "p"
        super().__init__(discord.ui.Button(
            label=t(language, "button.previous" if previous else "button.next"), emoji="◀️" if previous else "▶️",
            style=discord.ButtonStyle.secondary,
            custom_id=f"rl:page:{answer_id}:{offset}:{first}:{direction}:{language}"))
        self.answer_id, self.offset, self.first, self.direction, self.language = (answer_id, offset, first, direction,
                                                                                  language)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PageButton:
        return cls(int(match["answer"]), int(match["offset"]), int(match["first"]), match["dir"], match["lang"])

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        language = _language(self.language, interaction)
        if await refuse_if_old(interaction, language):
            return
        await interaction.response.defer()  # acknowledged at once; the page replaces this message's content
        shown = await _shown_page(interaction, self.answer_id, self.offset, self.first, language, "a More sources page")
        if shown is not None:
            embeds, view = shown
            await interaction.edit_original_response(embeds=embeds, view=view)


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button],
                     template=r"rl:fb:(?P<answer>[0-9]{1,18}):(?P<helpful>[01])" + _LANG):
    """Records whether an answer helped, for every passage it showed, and shows the member their vote."""

    def __init__(self, answer_id: int, helpful: bool, language: str | None = None, *, chosen: bool = False) -> None:
        label = t(language or DEFAULT, "button.helpful" if helpful else "button.not_helpful")
        if chosen:
            label = t(language or DEFAULT, "button.your_vote", label=label)
        if chosen:
            style = discord.ButtonStyle.success if helpful else discord.ButtonStyle.danger
        else:
            style = discord.ButtonStyle.secondary
        suffix = f":{language}" if language else ""
        super().__init__(discord.ui.Button(label=label, style=style, emoji="👍" if helpful else "👎",
                                           custom_id=f"rl:fb:{answer_id}:{int(helpful)}{suffix}"))
        self.answer_id = answer_id
        self.helpful = helpful
        self.language = language

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> FeedbackButton:
        return cls(int(match["answer"]), match["helpful"] == "1", match["lang"])

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        bot = interaction.client
        language = _language(self.language, interaction)
        recorded = await bot.service.feedback(self.answer_id, interaction.user.id, self.helpful)
        if not recorded:
            await send_ephemeral(interaction, t(language, "feedback.not_recorded"))
            return
        message = interaction.message
        stored_offset = _more_offset(message, bot.config.retrieval.top_k)
        handoff = bot.settings_for(interaction.guild_id).moderators_channel is not None
        view = vote_view(self.answer_id, self.helpful, language, more_offset=stored_offset, handoff=handoff)
        text = t(language, "feedback.helpful" if self.helpful else "feedback.not_helpful")
        if message is not None and message.flags.ephemeral:
            # A private message (a private answer, or the vote reply itself): the vote shows on it, in place.
            if message.embeds:
                await interaction.response.edit_message(view=view)
            else:
                await interaction.response.edit_message(content=text, view=view)
            return
        # A public answer: everyone sees its buttons, so the member's vote is shown to them alone.
        await interaction.response.send_message(text, view=view, ephemeral=True)


class SuggestionButton(discord.ui.DynamicItem[discord.ui.Button],
                       template=r"rl:sug:(?P<entry>[a-z0-9][a-z0-9-]{1,63})" + _LANG):
    """A nearby FAQ question offered with a decline: pressing it asks that question, privately."""

    def __init__(self, entry_id: str, language: str | None = None, *, label: str | None = None) -> None:
        suffix = f":{language}" if language else ""
        super().__init__(discord.ui.Button(label=shorten(" ".join((label or entry_id).split()), BUTTON_LABEL_LIMIT),
                                           style=discord.ButtonStyle.primary, emoji="❔",
                                           custom_id=f"rl:sug:{entry_id}{suffix}"))
        self.entry_id = entry_id
        self.language = language

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SuggestionButton:
        # Always the pressed button (the template matches buttons only); its label is the question shown.
        return cls(match["entry"], match["lang"], label=item.label if isinstance(item, discord.ui.Button) else None)

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        bot = interaction.client
        language = _language(self.language, interaction)
        if await refuse_if_old(interaction, language):
            return
        question = next((p.phrasings[0] for p in bot.live_index.current.passages
                         if p.doc_id == f"faq:{self.entry_id}" and p.phrasings), None)
        if question is None:
            await send_ephemeral(interaction, t(language, "suggestion.gone"))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            asked = await bot.service.ask(question, user_id=interaction.user.id, via="suggestion",
                                          guild_id=interaction.guild_id, channel_id=interaction.channel_id)
        except UserFacingError as exc:
            await send_ephemeral(interaction, error_text(exc, language))
            return
        except Exception as exc:  # noqa: BLE001
            await send_unexpected_error(interaction, exc, "a suggested question")
            return
        await send_to_interaction(interaction, present(
            asked, bot.config, moderators_channel=bot.settings_for(interaction.guild_id).moderators_channel,
            locale=interaction.locale), ephemeral=True)


class ModeratorButton(discord.ui.DynamicItem[discord.ui.Button],
                      template=r"rl:mod:(?P<answer>[0-9]{1,18})" + _LANG):
    """Hands a question the bot could not answer to the moderators' channel, with a jump link."""

    def __init__(self, answer_id: int, language: str | None = None) -> None:
        suffix = f":{language}" if language else ""
        super().__init__(discord.ui.Button(label=t(language or DEFAULT, "button.ask_moderator"), emoji="🙋",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"rl:mod:{answer_id}{suffix}"))
        self.answer_id = answer_id
        self.language = language

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ModeratorButton:
        return cls(int(match["answer"]), match["lang"])

    # discord.py annotates callback as generic in the client type; these buttons only ever run on RedLinesBot.
    async def callback(self, interaction: discord.Interaction[RedLinesBot]) -> Any:  # type: ignore[override]
        bot = interaction.client
        language = _language(self.language, interaction)
        settings = bot.settings_for(interaction.guild_id)
        if settings.moderators_channel is None:
            await send_ephemeral(interaction, t(language, "handoff.unavailable"))
            return
        stored = await bot.service.stored(self.answer_id)
        if stored is None:
            await send_ephemeral(interaction, t(language, "handoff.gone"))
            return
        try:
            bot.service.cooldown.check(interaction.user.id)  # one hand-off costs what a question costs
        except UserFacingError as exc:
            await send_ephemeral(interaction, error_text(exc, language))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            channel = bot.get_channel(settings.moderators_channel) or await bot.fetch_channel(settings.moderators_channel)
            await channel.send(**handoff_post(interaction, stored.question, bot.config.discord.handoff_role))  # type: ignore[union-attr]
        except (discord.HTTPException, AttributeError):
            log.warning("could not post a hand-off in channel %s", settings.moderators_channel, exc_info=True)
            await send_ephemeral(interaction, t(language, "handoff.failed"))
            return
        await send_ephemeral(interaction, t(language, "handoff.sent"))


def jump_url(interaction: discord.Interaction) -> str | None:
    """Where moderators should go: the member's question (the message the bot replied to), the bot's public
    message, or the channel when the message is private."""
    message = interaction.message
    if message is not None and message.reference is not None and message.reference.message_id:
        return message.reference.jump_url
    if message is not None and not message.flags.ephemeral:
        return message.jump_url
    if interaction.guild_id and interaction.channel_id:
        return f"https://discord.com/channels/{interaction.guild_id}/{interaction.channel_id}"
    return None


def handoff_post(interaction: discord.Interaction, question: str, role_id: int | None) -> dict[str, Any]:
    """The moderators' channel message: who asked, where, the question (inert), a jump link. It pings only the
    configured hand-off role, if any; the asker is named but not pinged."""
    language = locale_language(interaction.guild_locale) if interaction.guild_locale else DEFAULT
    language = language if language in CHROME_LANGUAGES else DEFAULT
    where = f"<#{interaction.channel_id}>" if interaction.channel_id else "?"
    params = {"user": interaction.user.mention, "channel": where}
    if role_id is not None:
        head = t(language, "handoff.role_post", role=f"<@&{role_id}>", **params)
        mentions = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(id=role_id)],
                                           replied_user=False)
    else:
        head = t(language, "handoff.post", **params)
        mentions = discord.AllowedMentions.none()
    lines = [head, f"> {shorten(defang(question), 1500)}"]
    url = jump_url(interaction)
    if url:
        lines.append(masked_link(t(language, "handoff.jump"), url))
    return {"content": "\n".join(lines), "allowed_mentions": mentions}


DYNAMIC_ITEMS = (MoreSourcesButton, PageButton, FeedbackButton, SuggestionButton, ModeratorButton)
