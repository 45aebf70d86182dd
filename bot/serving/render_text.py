"""Plain-text rendering of an answer, for the CLI and the console."""

from __future__ import annotations

import textwrap

from bot.core.answer import Answer, DeclineKind
from bot.serving.i18n import language_note

DECLINE_MESSAGE = ("The letter and the FAQ don't cover this question, so I won't guess. "
                   "Try asking about the Global Call for AI Red Lines: what it asks, who signed it, what happened next.")


def citation(source_title: str, locator: str, url: str | None) -> str:
    where = f"{source_title}, {locator}" if not locator.startswith("FAQ") else source_title
    return f"{where} <{url}>" if url else where


# The guards' own replies, in the words the Discord adapter uses (``serving/messages/en.yaml``, decline.*).
CHITCHAT_MESSAGE = "👋 I answer questions about the Global Call for AI Red Lines by quoting the letter and its FAQ."
UNKNOWN_NAME_MESSAGE = ("{name} isn't among the signatories I know of. My sources name only some of them; the full list "
                        "is on red-lines.ai <https://red-lines.ai/>.")
AFTER_SOURCES_MESSAGE = "My sources go up to {date}, so I can't say what happened after that. The latest they say:"


def render_text(answer: Answer, width: int = 100) -> str:
    """Excerpts quoted verbatim, each followed by its citation; or the decline: a guard's own reply (with what it
    quotes) or the not-covered message. A question in a language the sources are not in gets, as on Discord, one
    line in that language saying they are quoted as they are."""
    if answer.decline == DeclineKind.CHITCHAT:
        return CHITCHAT_MESSAGE
    if answer.answered:
        body = _excerpts(answer, width)
    elif answer.decline in (DeclineKind.UNKNOWN_NAME, DeclineKind.AFTER_SOURCES):
        line = (UNKNOWN_NAME_MESSAGE.format(name=answer.guard_detail or "That name")
                if answer.decline == DeclineKind.UNKNOWN_NAME
                else AFTER_SOURCES_MESSAGE.format(date=answer.guard_detail or "the latest date they cover"))
        body = "\n\n".join(filter(None, [line, _excerpts(answer, width)]))
    else:
        body = DECLINE_MESSAGE
    note = language_note(answer.language)
    return f"{body}\n\n{note}" if note else body


def _excerpts(answer: Answer, width: int) -> str:
    blocks = []
    for number, excerpt in enumerate(answer.excerpts, start=1):
        quote = textwrap.fill(excerpt.text, width=width, initial_indent="  > ", subsequent_indent="  > ")
        source = excerpt.source
        # The ranking score can exceed 1 by the language bonus; shown, it is a 0-1 relevance.
        relevance = min(excerpt.score, 1.0)
        blocks.append(f"[{number}] {citation(source.title, source.locator, source.url)}  (score {relevance:.2f})\n{quote}")
    return "\n\n".join(blocks)
