"""The FAQ's length limits, defined once.

The corpus validator (``corpus check``), the editing planner (``/faq add|edit``) and the Discord form all
import these, so an entry the corpus accepts always fits the form that edits it: Discord refuses a whole
form when one field's prefilled text is longer than that field's maximum.
"""

from __future__ import annotations

DISCORD_TEXT_INPUT_MAX = 4000  # Discord's maximum length of one text field in a form

MAX_QUESTION_CHARS = 300  # the question, and each alternative phrasing
MAX_ANSWER_CHARS = 1000
MAX_ALTERNATIVES = 10
MAX_SOURCE_TITLE_CHARS = 200
MAX_URL_CHARS = 500
# The form shows the alternative phrasings one per line in a single field.
MAX_ALTERNATIVES_TEXT_CHARS = min(MAX_ALTERNATIVES * (MAX_QUESTION_CHARS + 1) - 1, DISCORD_TEXT_INPUT_MAX)


def alternatives_text(alternatives: tuple[str, ...] | list[str]) -> str:
    """The alternative phrasings as the form shows them: one per line."""
    return "\n".join(alternatives)
