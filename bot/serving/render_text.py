"""Plain-text rendering of an answer, for the CLI and the console."""

from __future__ import annotations

import textwrap

from bot.core.answer import Answer

DECLINE_MESSAGE = ("The letter and the FAQ don't cover this question, so I won't guess. "
                   "Try asking about the Global Call for AI Red Lines: what it asks, who signed it, what happened next.")


def citation(source_title: str, locator: str, url: str | None) -> str:
    where = f"{source_title}, {locator}" if not locator.startswith("FAQ") else source_title
    return f"{where} <{url}>" if url else where


def render_text(answer: Answer, width: int = 100) -> str:
    """Excerpts quoted verbatim, each followed by its citation; or the decline message."""
    if not answer.answered:
        return DECLINE_MESSAGE
    blocks = []
    for number, excerpt in enumerate(answer.excerpts, start=1):
        quote = textwrap.fill(excerpt.text, width=width, initial_indent="  > ", subsequent_indent="  > ")
        source = excerpt.source
        # The ranking score can exceed 1 by the language bonus; shown, it is a 0-1 relevance.
        relevance = min(excerpt.score, 1.0)
        blocks.append(f"[{number}] {citation(source.title, source.locator, source.url)}  (score {relevance:.2f})\n{quote}")
    return "\n\n".join(blocks)
