"""Cleaning what people type before it is embedded, and guessing its language."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and direction-control characters change nothing a reader sees but do change tokens.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]{3,})")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

_FRENCH_WORDS = frozenset("""
le la les un une des du de d l qu que qui quoi quel quelle quels quelles est sont été était ont a ai
pour par sur dans avec sans pourquoi comment quand où combien lettre appel signataires signé
ce cette ces au aux et ou mais donc ne pas plus il elle ils elles nous vous je tu on leur leurs
peut faut fait être avoir y en se sa son ses mes tes notre votre lignes rouges rouge accord
""".split())
_ENGLISH_WORDS = frozenset("""
the a an of to in on for by with is are was were be been what who whom which when where why how
does do did can could should would will letter call signed signatories it this that these those
and or but not from at as about any red lines line agreement
""".split())


def clean_question(text: str) -> str:
    """Normalise Unicode, drop invisible and control characters, trim combining floods, fold spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _COMBINING_RUN.sub(lambda m: m.group(1)[:2], text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Lower-case words (letters and digits), for language guesses and keyword matching."""
    return [w.lower() for w in _WORD.findall(text)]


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def detect_language(text: str) -> str:
    """'fr' or 'en' (the corpus languages), from function words and French diacritics; 'en' when unsure."""
    tokens = [w for part in words(text) for w in part.split("'")]
    french = sum(1 for w in tokens if w in _FRENCH_WORDS)
    english = sum(1 for w in tokens if w in _ENGLISH_WORDS)
    french += 2 * len(re.findall(r"[éèêàùçôîâœ]", text.lower()))
    french += 2 * len(re.findall(r"\b(?:qu|l|d|n|s|c|j)['’]", text.lower()))
    return "fr" if french > english else "en"

