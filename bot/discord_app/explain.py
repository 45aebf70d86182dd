"""“Why this answer?” for moderators: each excerpt's entry id or locator and score, and why the bot answered
or declined — so that a wrong answer can be traced to the entry to fix or the phrasing to add.

Shown privately. The question is answered again on the live index, and the embed says so when that
is not the index the member's answer came from.
"""

from __future__ import annotations

import re

import discord

from bot.config import RetrievalSettings
from bot.core.answer import Answer, DeclineKind, Excerpt
from bot.discord_app.render import FIELD_LIMIT, shorten

EXPLAIN_COLOUR = discord.Colour(0x2C3E50)
# Where a member's question sits in our answer embeds (render.py's "Question" field), escaped by safe_echo.
_MENTION = re.compile(r"<@!?[0-9]{1,20}>")
_ESCAPED = re.compile(r"\\([\\*_~`|>\[\]()#-])")


def where(excerpt: Excerpt) -> str:
    """An FAQ entry by its id; a document passage by document and locator."""
    source = excerpt.source
    if source.kind == "faq":
        return f"FAQ entry `{source.doc_id.removeprefix('faq:')}`"
    return f"`{source.doc_id}` {source.locator}"


def verdict(answer: Answer, settings: RetrievalSettings) -> str:
    """Why the bot answered or declined, in one short paragraph."""
    confidence, threshold = answer.confidence, settings.decline_threshold
    numbers = f"confidence {confidence:.3f}, threshold {threshold:.3f}"
    if answer.answered and answer.closest_match:
        return (f"**Answered, but only just** ({numbers}): the best excerpt is close to the threshold, so members "
                "are told it may not answer the question exactly.")
    if answer.answered:
        return f"**Answered** ({numbers}): the best excerpt is at or above the threshold."
    detail = discord.utils.escape_markdown(answer.guard_detail or "")
    if answer.decline == DeclineKind.CHITCHAT:
        return "**Not answered: chit-chat** (thanks, greetings): nothing to quote, and it is not counted as a gap."
    if answer.decline == DeclineKind.UNKNOWN_NAME:
        return (f"**Declined: an unknown name.** It asks about {detail or 'someone'}, whom the sources don't name; "
                "the bot says so rather than quote an unrelated passage.")
    if answer.decline == DeclineKind.AFTER_SOURCES:
        return (f"**Declined: after the sources.** It asks about a time after the newest dated fact "
                f"({detail or 'the sources’ cutoff'}).")
    return (f"**Declined: not covered** ({numbers}): even the best excerpt is below the threshold, so the bot says the "
            "letter and the FAQ don't cover it. Add an FAQ entry, or add this wording to an entry's alternatives.")


def explain_embed(answer: Answer, settings: RetrievalSettings, *, answered_on: str | None = None) -> discord.Embed:
    """The explanation of one answer; ``answered_on`` is the index version the member's answer came from."""
    weight = settings.coverage_weight
    embed = discord.Embed(title="Why this answer?", colour=EXPLAIN_COLOUR,
                          description=shorten(verdict(answer, settings), 2000))
    embed.add_field(name="Question", value=shorten(discord.utils.escape_markdown(" ".join(answer.question.split())), 300),
                    inline=False)
    for number, excerpt in enumerate(answer.excerpts[:8], start=1):
        text = shorten(" ".join(excerpt.text.split()), 160)
        value = (f"ranking score {excerpt.score:.3f} · {excerpt.source.language} · passage `{excerpt.passage_id}`\n"
                 f"> {discord.utils.escape_markdown(text)}")
        embed.add_field(name=shorten(f"{number}. {where(excerpt)}", 256), value=shorten(value, FIELD_LIMIT), inline=False)
    if not answer.excerpts:
        embed.add_field(name="Excerpts", value="None: nothing was quoted.", inline=False)
    if answer.suggestions and not answer.answered:
        names = ", ".join(f"`{s.entry_id}`" for s in answer.suggestions)
        embed.add_field(name="Nearest FAQ entries", value=shorten(names, FIELD_LIMIT), inline=False)
    note = (f"Confidence = {1 - weight:.2f} × cosine + {weight:.2f} × share of the question's words in the passage (best "
            f"excerpt). Retriever {answer.retriever} · index {answer.index_version}")
    if answered_on and answered_on != answer.index_version:
        note += f" · asked again now: the member's answer came from index {answered_on}"
    embed.set_footer(text=shorten(note, 2048))
    return embed


def question_in(message: discord.Message) -> str | None:
    """The member's question, when the answer message has no recorded answer behind it: the message it replies
    to (a mention or an answer-channel question), else the answer embed's title (the question, defanged)."""
    reference = message.reference.resolved if message.reference else None
    if isinstance(reference, discord.Message) and reference.content:
        return _MENTION.sub("", reference.content).strip() or None
    for embed in message.embeds:
        if embed.title:
            return _ESCAPED.sub(r"\1", embed.title).replace("@\u200b", "@")
    return None


def answer_id_in(message: discord.Message) -> int | None:
    """The recorded answer behind a message, from its buttons' custom ids (rl:more:ID:… / rl:fb:ID:…)."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None) or ""
            found = re.match(r"rl:(?:more|page|fb|mod):([0-9]{1,18})(?::|$)", custom_id)
            if found:
                return int(found[1])
    return None
