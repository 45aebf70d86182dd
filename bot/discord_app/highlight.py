"""Which sentence of an excerpt answers the question: the one set in bold, and the one notifications show.

Chosen by word overlap with the question, not by the embedding model: the model already chose the excerpt (most
are two to four sentences), overlap picks the sentence that repeats the question's own words, which is what a
reader scans for; and it is instant and deterministic, so rendering never waits for the encoder on the event loop.
Words are compared by prefix (``sign`` / ``signed`` / ``signatories``, ``organise`` / ``organisers``), without
function words, in English and French. With no overlap (a paraphrase, another language), an FAQ answer's first
sentence is taken, because FAQ answers are written answer first; for other documents none is chosen.
"""

from __future__ import annotations

import os
import re

from bot.core.keywords import fold_accents
from bot.core.text import words
from bot.corpus.passages import split_sentences

_STOP = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it its me my
of on or our so than that the their them then there these they this to was we were what when where which who
whom whose why will with would you your about any all also just more most not no yes other some such only
le la les un une des du de d l et ou est sont a ont au aux ce cet cette ces qui que quoi quel quelle quels
quelles quand où pourquoi comment combien dans par pour sur avec sans il elle ils elles on nous vous je tu ne
pas plus se sa son ses leur leurs y en qu c s n j lettre letter call appel
""".split())
_MIN_PREFIX = 4


def content_words(text: str) -> set[str]:
    return {fold_accents(w) for part in words(text) for w in part.split("'") if w and w not in _STOP and len(w) > 1}


def _related(a: str, b: str) -> bool:
    """Same word, or the same stem: a shared prefix of 4+ letters that leaves at most 2 of the shorter word."""
    if a == b:
        return True
    shared = len(os.path.commonprefix((a, b)))
    return shared >= _MIN_PREFIX and shared >= min(len(a), len(b)) - 2


def overlap(question_words: set[str], sentence: str) -> int:
    mine = content_words(sentence)
    return sum(1 for word in question_words if any(_related(word, other) for other in mine))


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, each a verbatim substring, in order (line breaks split too)."""
    return [part for _, part in located_sentences(text)]


def located_sentences(text: str) -> list[tuple[int, str]]:
    """(line number, sentence) for every sentence of ``text``, so that a quote can keep its line breaks."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n")):
        found.extend((number, part) for part in split_sentences(line) if part.strip())
    return found


def best_sentence(question: str, text: str, *, answer_first: bool = False) -> int | None:
    """Index in ``sentences(text)`` of the sentence that best answers ``question``; None when there is one
    sentence (nothing to single out) or no overlap and the text is not written answer first."""
    parts = sentences(text)
    if len(parts) < 2:
        return None
    asked = content_words(question)
    scores = [overlap(asked, part) for part in parts]
    best = max(range(len(parts)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        return 0 if answer_first else None
    return best


_SPACE = re.compile(r"\s+")


def lead_sentence(question: str, text: str, *, answer_first: bool = False) -> str:
    """The sentence a notification should show: the best one, or the first."""
    parts = sentences(text) or [text]
    index = best_sentence(question, text, answer_first=answer_first)
    return _SPACE.sub(" ", parts[index if index is not None else 0]).strip()
