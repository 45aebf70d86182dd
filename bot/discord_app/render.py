"""Answers as Discord embeds, within Discord's limits, quoting the corpus verbatim.

Limits (discord.com/developers/docs/resources/message#embed-object-embed-limits): 2,000 characters
of message content, 256 of an embed title, 4,096 of a description, 1,024 of a field, 2,048 of a footer
and 6,000 for all embeds of one message. Text is cut at a sentence boundary (or, failing that, a word
boundary), marked with an ellipsis, never mid-word.
"""

from __future__ import annotations

import re

import discord

from bot.core.answer import Answer, Excerpt
from bot.serving.render_text import DECLINE_MESSAGE

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FOOTER_LIMIT = 2048
MESSAGE_EMBEDS_LIMIT = 6000
# Each excerpt gets at most this much of the description, so that three fit with their citations.
EXCERPT_BUDGET = 1200

ANSWER_COLOUR = discord.Colour(0xC0392B)
DECLINE_COLOUR = discord.Colour(0x7F8C8D)
_SENTENCE_END = re.compile(r"[.!?…»\"”)](?=\s)")


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at the last sentence end (or space) that fits, with an ellipsis."""
    if len(text) <= limit:
        return text
    window = text[: max(0, limit - 2)]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] > limit // 3:
        return window[: ends[-1]] + " …"
    space = window.rfind(" ")
    if space > 0:
        return window[:space] + " …"
    return "…"


def safe_echo(text: str, limit: int) -> str:
    """User text shown back: Markdown and mentions neutralised, one line, within ``limit``."""
    one_line = " ".join(text.split())
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(one_line))
    if escaped.startswith(">"):  # a leading '>' would render the question as a quote, like an excerpt
        escaped = "\\" + escaped
    return shorten(escaped, limit)


def citation_line(excerpt: Excerpt) -> str:
    source = excerpt.source
    where = source.title if source.kind == "faq" else f"{source.title}, {source.locator}"
    where = discord.utils.escape_markdown(where)
    link = f" · <{source.url}>" if source.url else ""
    return f"— **{where}**{link}"


def quote_block(excerpt: Excerpt, budget: int) -> str:
    citation = citation_line(excerpt)
    room = max(80, budget - len(citation) - 4)
    text = shorten(discord.utils.escape_markdown(excerpt.text), room)
    return f"> {text}\n{citation}"


def answer_embed(answer: Answer, *, heading: str, question: str | None = None, first_number: int = 1) -> discord.Embed:
    """The excerpts of an answered question, each quoted with its citation."""
    blocks = []
    used = 0
    for number, excerpt in enumerate(answer.excerpts, start=first_number):
        block = f"**{number}.** " + quote_block(excerpt, EXCERPT_BUDGET)
        if used + len(block) + 2 > DESCRIPTION_LIMIT - 100:
            break
        blocks.append(block)
        used += len(block) + 2
    embed = discord.Embed(title=shorten(heading, TITLE_LIMIT), description="\n\n".join(blocks), colour=ANSWER_COLOUR)
    if question:
        embed.add_field(name="Question", value=safe_echo(question, 300), inline=False)
    embed.set_footer(text=shorten(f"Verbatim excerpts with their sources · index {answer.index_version}", FOOTER_LIMIT))
    return embed


def decline_embed(answer: Answer, question: str | None = None) -> discord.Embed:
    """Says plainly that the corpus does not cover the question, and shows no passage."""
    embed = discord.Embed(title="Not covered by the letter or the FAQ", description=DECLINE_MESSAGE,
                          colour=DECLINE_COLOUR)
    if question:
        embed.add_field(name="Question", value=safe_echo(question, 300), inline=False)
    embed.set_footer(text="No excerpt was close enough to quote. Moderators review unanswered questions.")
    return embed


def render(answer: Answer, *, heading: str = "From the letter and the FAQ", question: str | None = None,
           first_number: int = 1) -> discord.Embed:
    if answer.answered:
        return answer_embed(answer, heading=heading, question=question, first_number=first_number)
    return decline_embed(answer, question)
