"""Cleaning what people type before it is embedded."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and direction-control characters change nothing a reader sees but do change tokens.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]{3,})")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

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


def phrasing_key(text: str) -> str:
    """What two ways of writing the same question share: its words, case-folded, without punctuation or spacing
    ("Who signed the letter??" and "who signed the letter" have one key). Used to recognise a message that is
    one of the FAQ's own phrasings, exactly; a fuzzy match is not enough ("where was it launched" is one letter
    from "when was it launched")."""
    return " ".join(w.casefold() for w in _WORD.findall(text))


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))
