"""Which of the served languages a message is in: en, fr, es, de, it, pt or zh.

``lingua-language-detector`` restricted to those seven languages, in its high-accuracy mode, which is the
one that holds on Discord-length messages (on the question bank's train and dev splits it misreads 13 of
548 messages, against 54 in low-accuracy mode and 123 for the word lists it replaced). Names, "ok" and
"lol" carry no language, so a guess below ``MIN_CONFIDENCE`` falls back to English, the corpus language.
"""

from __future__ import annotations

import functools
import re
import threading

SERVED = ("en", "fr", "es", "de", "it", "pt", "zh")
FALLBACK = "en"
MIN_CONFIDENCE = 0.4
# A message that is mostly Chinese characters is Chinese whatever Latin names it quotes ("Hinton签了吗").
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


@functools.cache
def _detector():  # noqa: ANN202 - lingua's type
    """The detector, built once per process on first use: its models are immutable and take about
    180 MB, so every answerer and every index generation shares one (``warm_up`` loads it at start)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in SERVED]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


_LOCK = threading.Lock()


def warm_up() -> None:
    """Load the language models now (about a second), so the first question does not pay for it."""
    with _LOCK:
        _detector()


def detect_language(text: str) -> str:
    """The served language ``text`` is written in, English when it is too short or too mixed to tell."""
    letters = _LETTER.findall(text)
    if not letters:
        return FALLBACK
    han = sum(1 for ch in letters if _HAN.match(ch))
    if han and han * 2 >= len(letters) - han:
        return "zh"
    if len(letters) < 3:
        return FALLBACK
    if text.isascii() and _plainly_english(text):
        return "en"
    with _LOCK:
        detector = _detector()
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return FALLBACK
    code = values[0].language.iso_code_639_1.name.lower()
    if code not in SERVED:
        return FALLBACK
    if code != "en" and _function_word_count(_words(text), "en") > _function_word_count(_words(text), code):
        # Names mislead the detector ("is stiglitz on the list" reads as German); English grammar words do not.
        return "en"
    return code


def _plainly_english(text: str) -> bool:
    """Most messages are English: plain ASCII with more English function words than any other language's
    (at least two) needs no detector (which costs a tenth of a millisecond)."""
    words = _words(text)
    english = _function_word_count(words, "en")
    return english >= 2 and all(_function_word_count(words, code) < english for code in SERVED if code not in ("en", "zh"))


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())


def _function_word_count(words: list[str], language: str) -> int:
    from bot.core.keywords import FUNCTION_WORDS

    known = FUNCTION_WORDS.get(language, frozenset())
    return sum(1 for w in words if w in known)
