"""Follow-ups: a question read in the light of the conversation before it.

"and who organised it?" says nothing of what "it" is; the previous question does. An elliptic follow-up
(few content words, or opening with "and", "what about", a pronoun...) is searched together with the
previous question; a follow-up that stands on its own is searched alone, so that a change of subject is not
dragged back to the old one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.keywords import keyword_tokens
from bot.core.text import words

MAX_CONTENT_WORDS = 3
_CONNECTIVE = re.compile(
    r"^\W*(?:and|but|so|also|then|what about|how about|what of|et|mais|alors|donc|y|pero|entonces|und|aber|"
    r"e|ma|allora|mas|então|那|还有|還有|那么|那麼)\b",
    re.IGNORECASE)
_REFERENCES = frozenset("""
it its that this those these they them their he him his she her there then
ça ca cela il elle ils elles lui leur là
eso esto ese esa él ella ellos lo la
er sie es das dies dieser diese ihm ihn
esso essa lui lei loro ciò quello quella
isso isto ele ela eles elas dele dela
""".split())


def is_elliptic(question: str, language: str) -> bool:
    """Whether the question leans on what was said before it."""
    if len(keyword_tokens(question, language)) <= MAX_CONTENT_WORDS:
        return True
    if _CONNECTIVE.match(question):
        return True
    return any(w in _REFERENCES for w in words(question))


def contextualise(question: str, context: Sequence[str], language: str) -> str:
    """The text to search for ``question`` asked after ``context`` (previous questions, oldest first)."""
    previous = next((c.strip() for c in reversed(context) if c and c.strip()), "")
    if not previous or not is_elliptic(question, language):
        return question
    return f"{question} {previous}"
