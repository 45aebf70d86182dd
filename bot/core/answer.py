"""The question path: ``Answerer.answer(question) -> Answer``.

The answer holds verbatim excerpts with their citations, best first, one per paragraph or FAQ entry,
and ``answered = False`` when even the best match is below the decline threshold: the bot then says
the corpus does not cover the question rather than post an unrelated passage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import RetrievalSettings
from bot.core.retrieval import Candidate, prepare, retrieve
from bot.core.text import clean_question, detect_language, has_words
from bot.corpus.passages import Passage
from bot.errors import QuestionError
from bot.index.encoder import Encoder
from bot.index.store import SearchIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where an excerpt comes from: enough to cite it and follow it."""

    doc_id: str
    title: str
    locator: str
    url: str | None
    kind: str
    language: str
    cites: str | None = None  # FAQ excerpts: the source the project's answer summarises, by its own name


@dataclass(frozen=True)
class Excerpt:
    """A verbatim passage of the corpus with its score and citation."""

    text: str
    score: float
    source: Source
    passage_id: str


class DeclineKind:
    """Why the bot quotes nothing (``Answer.decline``); adapters choose the words and whether to say anything.

    Plain string constants rather than an enum so that they travel unchanged through JSON and SQLite.
    """

    NOT_COVERED = "not_covered"      # the corpus does not answer it (off-topic, AI-adjacent, trolling...)
    CHITCHAT = "chitchat"            # thanks, greetings, "ok": nothing to answer, nothing to record as a gap
    UNKNOWN_NAME = "unknown_name"    # "did X sign?" for a name the corpus does not hold (``guard_detail``: the name)
    AFTER_SOURCES = "after_sources"  # about a time after the newest dated fact (``guard_detail``: that date)

    ALL = (NOT_COVERED, CHITCHAT, UNKNOWN_NAME, AFTER_SOURCES)


@dataclass(frozen=True)
class Suggestion:
    """A nearby FAQ question offered when the bot declines ("Did you mean ...?")."""

    entry_id: str
    question: str


@dataclass(frozen=True)
class Answer:
    """What the bot says to one question.

    ``answered`` is True when ``excerpts[0]`` is offered as the answer. Otherwise ``decline`` says why (one of
    ``DeclineKind``), ``excerpts`` hold what the guard may quote (for ``unknown_name`` and ``after_sources``
    the entries that say so; empty for chit-chat) and ``suggestions`` the nearest FAQ questions.
    ``closest_match`` marks an answer just above the decline threshold ("may not answer exactly").
    ``context`` is the conversation the question was read in (previous questions, oldest first).
    """

    question: str
    answered: bool
    excerpts: tuple[Excerpt, ...]
    latency_ms: float
    retriever: str
    language: str
    index_version: str
    confidence: float
    decline: str | None = None
    guard_detail: str | None = None
    closest_match: bool = False
    suggestions: tuple[Suggestion, ...] = ()
    context: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON contract (``ask --json``), which evaluation tools rely on."""
        return {
            "question": self.question,
            "answered": self.answered,
            "excerpts": [
                {"text": e.text, "score": round(e.score, 6),
                 "source": {"doc_id": e.source.doc_id, "title": e.source.title, "locator": e.source.locator,
                            "url": e.source.url}}
                for e in self.excerpts
            ],
            "latency_ms": round(self.latency_ms, 3),
            "language": self.language,
            "decline": self.decline,
        }


class LiveIndex:
    """Holds the index generation in use; a swap is one reference assignment.

    A question reads ``current`` once at its start, so a question in flight during a swap finishes on
    the generation it started with. Every generation is prepared (its keyword index built) before it is
    installed, so no question ever waits for that.
    """

    def __init__(self, index: SearchIndex) -> None:
        self._index = prepare(index)
        self._lock = threading.Lock()

    @property
    def current(self) -> SearchIndex:
        return self._index

    def swap(self, index: SearchIndex) -> SearchIndex:
        """Install a new generation; return the one it replaced."""
        prepare(index)
        with self._lock:
            old, self._index = self._index, index
        return old


class Answerer:
    """Answers questions from the live index with the configured retriever."""

    def __init__(self, settings: RetrievalSettings, encoder: Encoder, live: LiveIndex) -> None:
        self.settings = settings
        self.encoder = encoder
        self.live = live

    def validate(self, question: str) -> str:
        """The cleaned question, or a ``QuestionError`` saying what is wrong with it."""
        if not isinstance(question, str):
            raise QuestionError("Please ask a question in words.")
        # Bytes that were not UTF-8 reach us as lone surrogates (a latin-1 terminal, a log piped into --jsonl).
        bad = next((i for i, ch in enumerate(question) if "\ud800" <= ch <= "\udfff"), None)
        if bad is not None:
            raise QuestionError(f"The question is not valid UTF-8 text (character {bad + 1} is a byte that is not); "
                                "please send it as UTF-8.")
        cleaned = clean_question(question)
        if not cleaned:
            raise QuestionError("Please ask a question: the message was empty.", "empty")
        if len(cleaned) > self.settings.max_question_chars:
            raise QuestionError(
                f"That question is {len(cleaned):,} characters long; please keep it under "
                f"{self.settings.max_question_chars:,} characters.", "too_long", length=len(cleaned),
                limit=self.settings.max_question_chars)
        if len(cleaned) < self.settings.min_question_chars or not has_words(cleaned):
            raise QuestionError("Please ask a question in words, for example: What does the letter ask governments to do?",
                                "no_words")
        return cleaned

    def answer(self, question: str, context: Sequence[str] = (), *, retriever: str | None = None,
               limit: int | None = None, offset: int = 0) -> Answer:
        """Best excerpts for ``question`` asked after ``context`` (the conversation's previous questions,
        oldest first); ``offset`` skips the first excerpts (for "More sources")."""
        started = time.perf_counter()
        cleaned = self.validate(question)
        name = retriever or self.settings.retriever
        index = self.live.current
        language = detect_language(cleaned)
        limit = self.settings.top_k if limit is None else limit
        candidates = retrieve(name, index, self.encoder, cleaned, language, self.settings)
        chosen = _one_per_group(index.passages, candidates)
        confidence = chosen[0].confidence if chosen else 0.0
        answered = confidence >= self.settings.decline_threshold
        excerpts = tuple(_excerpt(index.passages[c.passage], c.score) for c in chosen[offset : offset + limit])
        return Answer(
            question=question, answered=answered, excerpts=excerpts,
            latency_ms=(time.perf_counter() - started) * 1000, retriever=name, language=language,
            index_version=index.version, confidence=confidence,
            decline=None if answered else DeclineKind.NOT_COVERED,
            suggestions=() if answered else _suggestions(index.passages, chosen),
            context=tuple(context),
        )


def _one_per_group(passages: tuple[Passage, ...], candidates: list[Candidate]) -> list[Candidate]:
    """Keep the best candidate of each group: a sentence and its own paragraph count once."""
    seen: set[str] = set()
    chosen = []
    for candidate in candidates:
        group = passages[candidate.passage].group
        if group not in seen:
            seen.add(group)
            chosen.append(candidate)
    return chosen


def _suggestions(passages: tuple[Passage, ...], chosen: list[Candidate], count: int = 3) -> tuple[Suggestion, ...]:
    """The FAQ entries nearest a declined question, offered as "did you mean"."""
    found = []
    for candidate in chosen:
        passage = passages[candidate.passage]
        if passage.kind == "faq" and passage.phrasings:
            found.append(Suggestion(passage.doc_id.removeprefix("faq:"), passage.phrasings[0]))
            if len(found) == count:
                break
    return tuple(found)


def _excerpt(passage: Passage, score: float) -> Excerpt:
    source = Source(passage.doc_id, passage.title, passage.locator, passage.url, passage.kind, passage.language,
                    passage.source_title)
    return Excerpt(passage.text, score, source, passage.id)
