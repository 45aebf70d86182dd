"""Finding an FAQ entry from a few typed letters, a misspelt id or words of its question.

Moderators type entry ids from memory; Discord's autocomplete shows them the nearest entries as they
type, and a wrong id gets "did you mean". Matching uses rapidfuzz (WRatio: tolerant of typos, word
order and partial text) on the id and on the question, keeping the better of the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from bot.corpus.passages import Passage

MIN_SCORE = 55.0


@dataclass(frozen=True)
class EntryName:
    """An FAQ entry as a moderator recognises it: its id and its question."""

    id: str
    question: str


def faq_names(passages: Iterable[Passage]) -> list[EntryName]:
    """The FAQ entries of an index generation (one passage each), in id order."""
    found = {p.doc_id.removeprefix("faq:"): p.phrasings[0] if p.phrasings else p.title
             for p in passages if p.kind == "faq"}
    return [EntryName(entry_id, question) for entry_id, question in sorted(found.items())]


def _score(query: str, name: EntryName) -> float:
    by_id = fuzz.WRatio(query, name.id, processor=utils.default_process)
    by_question = fuzz.WRatio(query, name.question, processor=utils.default_process)
    bonus = 10.0 if name.id.startswith(query.lower()) else 0.0
    return max(by_id, by_question) + bonus


def search(names: Sequence[EntryName], query: str, limit: int = 25) -> list[EntryName]:
    """Entries best matching ``query`` (all of them, in id order, for an empty query)."""
    query = query.strip()
    if not query:
        return list(names[:limit])
    scored = sorted(((_score(query, name), name.id, name) for name in names), key=lambda item: (-item[0], item[1]))
    return [name for score, _, name in scored if score >= MIN_SCORE][:limit]


def did_you_mean(names: Sequence[EntryName], wrong: str, limit: int = 3) -> list[EntryName]:
    """The entries a mistyped id most likely meant (none when nothing is close)."""
    wrong = wrong.strip()
    if not wrong:
        return []
    scored = sorted(((max(fuzz.ratio(wrong.lower(), name.id), _score(wrong, name) - 10.0), name.id, name)
                     for name in names), key=lambda item: (-item[0], item[1]))
    return [name for score, _, name in scored if score >= 65.0][:limit]
