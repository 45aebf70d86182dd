"""The question path: ``Answerer.answer(question) -> Answer``.

The answer holds verbatim excerpts with their citations, best first, one per paragraph or FAQ entry,
and ``answered = False`` when even the best match is below the decline threshold: the bot then says
the corpus does not cover the question rather than post an unrelated passage.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.config import RetrievalSettings
from bot.core.decision import decide
from bot.core.followup import contextualise
from bot.core.guards import AfterSources, after_sources, asked_name, is_chitchat, name_index, named_passages, newest_fact, unknown_name
from bot.core.language import detect_language
from bot.core.neighbours import group_positions
from bot.core.quality_models import models_of
from bot.core.ranking import Query, Ranked, group_evidence, named_letter_paragraphs, phrasing_index, rank
from bot.core.retrieval import Candidate, prepare, retrieve
from bot.core.text import clean_question, has_words
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
    the generation it started with. Every generation is prepared (its keyword index, its ranking features'
    tables, its names and its fitted models read) before it is installed, so no question ever waits for that.
    """

    def __init__(self, index: SearchIndex) -> None:
        self._index = _prepare(index)
        self._lock = threading.Lock()

    @property
    def current(self) -> SearchIndex:
        return self._index

    def swap(self, index: SearchIndex) -> SearchIndex:
        """Install a new generation; return the one it replaced."""
        _prepare(index)
        with self._lock:
            old, self._index = self._index, index
        return old


def _prepare(index: SearchIndex) -> SearchIndex:
    prepare(index)
    models = models_of(index)
    if models.classifier is not None:
        group_positions(index, models.classifier.groups)
    phrasing_index(index)
    name_index(index)
    newest_fact(index)
    return index


_SURROGATE = re.compile("[\ud800-\udfff]")


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
        found = _SURROGATE.search(question)
        if found is not None:
            bad = found.start()
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
        oldest first); ``offset`` skips the first excerpts (for "More sources").

        In order: chit-chat gets no search at all; an elliptic follow-up is searched with the question before
        it; the candidates are ranked so that the passage that answers leads; a name the corpus does not hold
        and a time after its sources get their guard's reply; then the decision answers or declines.
        """
        started = time.perf_counter()
        cleaned = self.validate(question)
        name = retriever or self.settings.retriever
        index = self.live.current
        language = detect_language(cleaned)
        context = tuple(c for c in context if isinstance(c, str) and c.strip())
        limit = self.settings.top_k if limit is None else limit

        def reply(answered: bool, ranked: list[Ranked], confidence: float, decline: str | None = None,
                  detail: str | None = None, quoted: list[Ranked] | None = None, closest: bool = False) -> Answer:
            shown = quoted if quoted is not None else _close_to_first(ranked, offset, self.settings.related_margin)
            return Answer(
                question=question, answered=answered,
                excerpts=tuple(_excerpt(index.passages[r.passage], r.candidate.score) for r in shown[offset : offset + limit]),
                latency_ms=(time.perf_counter() - started) * 1000, retriever=name, language=language,
                index_version=index.version, confidence=confidence, decline=decline, guard_detail=detail,
                closest_match=closest,
                suggestions=() if answered or decline == DeclineKind.CHITCHAT else _suggestions(index.passages, ranked),
                context=context)

        def guard_reply(decline: str, ranked: list[Ranked], confidence: float, detail: str | None = None) -> Answer:
            """A guard's own reply: chit-chat quotes nothing; an unknown name only the signatory list; a time after
            the sources the cutoff entry, then the best passage (what the sources say as of their date)."""
            if decline == DeclineKind.CHITCHAT:
                return reply(False, [], confidence, decline, quoted=[])
            entry, with_best = (SIGNATORY_LIST, False) if decline == DeclineKind.UNKNOWN_NAME else (SOURCES_CUTOFF, True)
            return reply(False, ranked, confidence, decline, detail,
                         quoted=_entries(index, ranked, [entry], with_best=with_best))

        seen = self.analyse(cleaned, context, name, index, language)
        if seen.chitchat:
            return guard_reply(DeclineKind.CHITCHAT, [], 0.0)
        assert seen.query is not None
        models = models_of(index)
        ranked = rank(index, seen.query, seen.candidates, models.ranker,
                      group_evidence(models.neighbours, models.classifier, seen.query))
        if seen.named:
            # "Did X sign?" for a name the corpus holds: the passages that name X lead, those in the question's
            # language first, each group in ranking order.
            def lead(r: Ranked) -> int:
                if r.passage not in seen.named:
                    return 2
                return 0 if index.passages[r.passage].language == language else 1

            ranked = sorted(ranked, key=lead)
        if seen.missing_name is not None:
            return guard_reply(DeclineKind.UNKNOWN_NAME, ranked, 0.0, seen.missing_name)
        if seen.after_sources is not None:
            return guard_reply(DeclineKind.AFTER_SOURCES, ranked, 0.0, seen.after_sources.newest.isoformat())
        query = seen.query
        decision = decide(index, query, ranked, cleaned, models.decision, self.settings.decline_threshold,
                          seen.kind_answer)
        if not decision.answered:
            # The decision says decline; the message-kind classifier says which reply fits.
            kind = seen.declined_kind()
            if kind == "chitchat":
                return guard_reply(DeclineKind.CHITCHAT, ranked, decision.confidence)
            if kind == "unknown-name" and not seen.named:
                return guard_reply(DeclineKind.UNKNOWN_NAME, ranked, decision.confidence,
                                   asked_name(cleaned, context) or "")
            newest = newest_fact(index) if kind == "after-sources" else None
            if newest is not None:
                return guard_reply(DeclineKind.AFTER_SOURCES, ranked, decision.confidence, newest.isoformat())
            return reply(False, ranked, decision.confidence, DeclineKind.NOT_COVERED)
        return reply(True, ranked, decision.confidence, closest=decision.closest_match)


    def analyse(self, cleaned: str, context: tuple[str, ...], retriever: str, index: SearchIndex,
                language: str, kind_probabilities: dict[str, float] | None = None,
                vector: np.ndarray | None = None) -> Analysis:
        """Everything about a cleaned question short of ranking and deciding: whether it is chit-chat (then
        nothing else is done), the text searched, the retriever's candidates and what the guards found.
        ``kind_probabilities``: the message-kind classifier's, when the caller has them (fitting uses
        out-of-fold ones, so that a training message is not judged by a model fitted on it); ``vector``: the
        searched text's embedding, when the caller has encoded it already (fitting encodes in batches)."""
        if is_chitchat(cleaned):
            return Analysis(True, None, [], None, None, frozenset())
        names = name_index(index).proper
        text, searched, tokens = searched_text(cleaned, context, language, names)
        if vector is None:
            vector = self.encoder.encode_queries([searched])[0]
        query = Query.of(text, language, vector, tokens)
        if text != cleaned:  # read with the question before it: keep the message's own words apart
            query = dataclasses.replace(query, own_tokens=Query.search_text(cleaned, language, names)[1], own_text=cleaned)
        kinds = models_of(index).kinds
        probabilities = kind_probabilities
        if probabilities is None and kinds is not None:
            probabilities = kinds.probabilities(cleaned, vector)
        learned = kinds.fires(probabilities) if kinds is not None and probabilities is not None else None
        if learned == "chitchat":
            return Analysis(True, None, [], None, None, frozenset(), probabilities)
        candidates = retrieve(retriever, index, self.encoder, searched, language, self.settings, query=vector,
                              tokens=tokens)
        if query.paragraph is not None:
            candidates = _with_named_paragraph(index, query, candidates)
        newest = newest_fact(index)
        after = after_sources(cleaned, newest)
        named = named_passages(index, cleaned, context)
        missing = unknown_name(index, cleaned, context, language)
        if missing is None and learned == "unknown-name" and not named:
            missing = asked_name(cleaned, context) or ""  # "": the name could not be read out; the reply says "that name"
        return Analysis(False, query, candidates, missing, after, named, probabilities)


def _with_named_paragraph(index: SearchIndex, query: Query, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates, and the letter's paragraph the question names by its place ("quote the third paragraph")
    when the retriever left it out: "third para pls" shares no word with it, but it is what is asked for."""
    named = named_letter_paragraphs(index, query.paragraph)
    missing = [p for p in named if all(c.passage != p for c in candidates)]
    if not missing or not candidates:
        return candidates
    cosines = index.passage_scores(query.vector)
    last = candidates[-1]
    return candidates + [Candidate(p, last.score, last.confidence, float(cosines[p]), 0.0) for p in missing]


def searched_text(cleaned: str, context: tuple[str, ...], language: str,
                  names: frozenset[str] = frozenset()) -> tuple[str, str, tuple[str, ...]]:
    """The question read in its conversation (``text``), what is embedded for it (with English glosses when it is
    in another language) and its keywords (``names``: the corpus's proper names, ``guards.NameIndex.proper``)."""
    text = contextualise(cleaned, context, language)
    searched, tokens = Query.search_text(text, language, names)
    return text, searched, tokens


@dataclass(frozen=True)
class Analysis:
    """A question read, searched and checked by the guards, before ranking and deciding."""

    chitchat: bool
    query: Query | None
    candidates: list[Candidate]
    missing_name: str | None
    after_sources: AfterSources | None
    named: frozenset[int]  # passages naming the person a "did X sign?" asks about, when the corpus holds the name
    kinds: dict[str, float] | None = None  # the message-kind classifier's probabilities (core.message_kind)

    @property
    def kind_answer(self) -> float:
        return self.kinds["answer"] if self.kinds else 1.0

    def declined_kind(self) -> str | None:
        """When the decision declines: the guard kind the classifier finds likelier than any other decline
        ("chitchat", "after-sources", "unknown-name"), else ``None`` (not covered)."""
        if not self.kinds:
            return None
        declines = {k: v for k, v in self.kinds.items() if k != "answer"}
        likeliest = max(declines, key=lambda k: declines[k])
        return likeliest if likeliest != "decline" else None


# The FAQ entries the guards quote: the full list of signatories is on the official site; the sources stop at
# a date.
SIGNATORY_LIST = "faq:signatory-list"
SOURCES_CUTOFF = "faq:sources-cutoff"


def _entries(index: SearchIndex, ranked: list[Ranked], groups: list[str], with_best: bool) -> list[Ranked]:
    """What a guard may quote: the given FAQ entries (when the corpus has them) and, with ``with_best``, the
    best-ranked passage, which says what the sources say as of their date."""
    chosen: list[Ranked] = []
    for group in groups:
        found = next((r for r in ranked if index.passages[r.passage].group == group), None)
        if found is None:
            position = next((i for i, p in enumerate(index.passages) if p.group == group), None)
            if position is not None:
                found = Ranked(Candidate(position, 0.0, 0.0), 0.0, np.zeros(0))
        if found is not None:
            chosen.append(found)
    if with_best and ranked and all(r.passage != ranked[0].passage for r in chosen):
        chosen.append(ranked[0])
    return chosen


def _close_to_first(ranked: list[Ranked], offset: int, margin: float) -> list[Ranked]:
    """The first page keeps the excerpts whose score is within ``margin`` of the first's; "More sources"
    (a later page) shows the rest in order."""
    if offset > 0 or not ranked:
        return ranked
    first = ranked[0].score
    return [r for r in ranked if first - r.score <= margin]


def _suggestions(passages: tuple[Passage, ...], ranked: list[Ranked], count: int = 3) -> tuple[Suggestion, ...]:
    """The FAQ entries nearest a declined question, offered as "did you mean"."""
    found = []
    for item in ranked:
        passage = passages[item.passage]
        if passage.kind == "faq" and passage.phrasings:
            found.append(Suggestion(passage.doc_id.removeprefix("faq:"), passage.phrasings[0]))
            if len(found) == count:
                break
    return tuple(found)


def _excerpt(passage: Passage, score: float) -> Excerpt:
    source = Source(passage.doc_id, passage.title, passage.locator, passage.url, passage.kind, passage.language,
                    passage.source_title)
    return Excerpt(passage.text, score, source, passage.id)
