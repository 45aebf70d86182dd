"""The message catalogue: every member-facing string, in English and French, from ``messages/<language>.yaml``.

One YAML file per language rather than gettext: PyYAML is already a dependency, moderators and translators edit
the files like the corpus, and the strings are few (about a hundred). ``en`` and ``fr`` are complete and must have
the same keys and the same ``{placeholders}`` (checked when the catalogue loads, and by a test); the other
languages the bot recognises (es, de, it, pt, zh) hold only ``language_note``, the line saying that the sources are
in English and French. Loaded on first use, not at import.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.language import detect_language

MESSAGES_DIR = Path(__file__).with_name("messages")
DEFAULT = "en"
CHROME_LANGUAGES = ("en", "fr")          # languages the bot's own words are written in
NOTE_LANGUAGES = ("es", "de", "it", "pt", "zh")  # answered with the sources as they are, plus a note


class CatalogueError(ValueError):
    """A catalogue file is missing a key, has an extra one, or disagrees with English on placeholders."""


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = "" if value is None else str(value)
    return flat


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Catalogue:
    """Messages by language, then dotted key (``decline.not_covered``)."""

    messages: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, folder: Path = MESSAGES_DIR) -> Catalogue:
        messages = {}
        for path in sorted(folder.glob("*.yaml")):
            tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            messages[path.stem] = _flatten(tree)
        catalogue = cls(messages)
        catalogue.check()
        return catalogue

    def check(self) -> None:
        """Complete languages match English key for key and placeholder for placeholder; partial ones add none."""
        english = self.messages.get(DEFAULT)
        if not english:
            raise CatalogueError(f"no {DEFAULT}.yaml in the message catalogue")
        for language, messages in self.messages.items():
            if language == DEFAULT:
                continue
            extra = set(messages) - set(english)
            missing = set(english) - set(messages) if language in CHROME_LANGUAGES else set()
            if extra or missing:
                raise CatalogueError(f"{language}.yaml: missing {sorted(missing)}, unknown {sorted(extra)}")
            for key, text in messages.items():
                if placeholders(text) != placeholders(english[key]):
                    raise CatalogueError(f"{language}.yaml: '{key}' has placeholders {sorted(placeholders(text))}, "
                                         f"English has {sorted(placeholders(english[key]))}")

    def text(self, language: str, key: str, **params: Any) -> str:
        """The message in ``language`` (English when that language lacks it), with its placeholders filled."""
        template = self.messages.get(language, {}).get(key)
        if template is None:
            template = self.messages[DEFAULT][key]
        return template.format(**params) if params else template

    def get(self, language: str, key: str) -> str | None:
        """The message in exactly ``language``, or None."""
        return self.messages.get(language, {}).get(key)


@functools.cache
def catalogue() -> Catalogue:
    """The bot's catalogue, read once on first use."""
    return Catalogue.load()


def t(language: str, key: str, **params: Any) -> str:
    """Shorthand for ``catalogue().text``."""
    return catalogue().text(language, key, **params)


def locale_language(locale: object) -> str:
    """'fr' for fr / fr-FR, 'pt' for pt-BR, 'zh' for zh-CN/zh-TW...: the language part of a Discord locale."""
    value = str(getattr(locale, "value", locale) or "").lower()
    return value.split("-")[0] or DEFAULT


def chrome_language(question_language: str | None, locale: object = None) -> str:
    """The language of the bot's own words: the question's when it is English or French, else the member's
    Discord locale when that is French, else English."""
    if question_language in CHROME_LANGUAGES:
        return question_language
    from_locale = locale_language(locale) if locale is not None else DEFAULT
    return from_locale if from_locale in CHROME_LANGUAGES else DEFAULT


def language_note(question_language: str | None) -> str | None:
    """For a question in a language other than English or French: one line, in that language, saying that the
    sources are in English and French. None otherwise."""
    if question_language in CHROME_LANGUAGES or question_language is None:
        return None
    return catalogue().get(question_language, "language_note") or None


def detect_chrome(text: str) -> str:
    """The language of the bot's words for a message with no Discord locale (mentions, answer channels)."""
    return chrome_language(detect_language(text))
