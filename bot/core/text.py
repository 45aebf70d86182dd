"""Cleaning what people type before it is embedded, and telling a question from other messages."""

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


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


# Words a question opens with, in the served languages (Chinese asks with particles instead: see below).
_QUESTION_OPENERS = frozenset("""
who whom whose what which when where why how is are was were do does did can could should would will shall may
might has have had isn't aren't doesn't didn't tell explain whats what's whens wheres whos who's hows
qui que quoi quel quelle quels quelles quand où pourquoi comment combien est-ce est-il est-elle
qué quién quiénes cuál cuáles cuándo dónde cómo cuántos cuántas hay
wer was wann wo warum wieso wie welche welcher welches gibt
chi cosa quando dove perché come quale quali quanti quante
quem qual quais onde quantos quantas
""".split())
_CHINESE_QUESTION = re.compile(r"[吗嗎呢谁誰哪几幾]|什么|什麼|怎么|怎麼|多少|是否|为什么|為什麼|有没有|有沒有")


def looks_like_question(text: str) -> bool:
    """A message in an answer channel is treated as a question when it ends with '?', opens like one, or (in
    Chinese) asks with a question particle."""
    stripped = text.strip()
    if not stripped or not has_words(stripped):
        return False
    if stripped.rstrip(" )»\"”").endswith(("?", "？")):
        return True
    first = stripped.split()[0].lower().strip(",:;¿¡")
    return first in _QUESTION_OPENERS or bool(_CHINESE_QUESTION.search(stripped))


def asks_something(text: str) -> bool:
    """Whether a message asks anything at all: a question mark anywhere, or a question word among its first
    words (casual messages put the question after "so", "wait", "yo" ...)."""
    if "?" in text or "？" in text:
        return True
    first_words = [w.lower().strip(",:;¿¡") for w in text.split()[:4]]
    return any(w in _QUESTION_OPENERS for w in first_words) or bool(_CHINESE_QUESTION.search(text))
