"""Ranking that leads with the answer: the retriever's candidates re-ordered by what they say about the question.

The retriever's fused score favours passages that share the question's vocabulary ("Who signed the letter?"
meets "Who wrote the letter?" on the word "letter"). An FAQ entry is written for a question, so its own
question and phrasings are the best evidence: how close the question is to them in meaning (the cosine with
the phrasing rows alone, not the answer) and in words (the overlap of their rare words). A question that asks
for the letter's exact words wants the letter itself. Each candidate is described by the features below and
scored by a linear model fitted on the question bank's train split (``bot/evaluation/fitting.py``) and stored
with the index generation; without one, the retriever's order stands.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.glossary import gloss, intent
from bot.core.keywords import keyword_tokens
from bot.core.language import detect_language
from bot.core.retrieval import Candidate, keyword_index
from bot.index.store import SearchIndex

FEATURES = (
    "dense",             # cosine with the passage's best embedded row
    "dense_gap",         # that cosine minus the best candidate's
    "phrasing_dense",    # cosine with its question/phrasings alone (the dense cosine when it has none)
    "keyword",           # BM25 score over this question's best
    "coverage",          # share of the question's rare-word weight (IDF) the passage or its phrasings hold
    "phrasing_overlap",  # best IDF-weighted overlap (Jaccard) of the question's words with one phrasing's
    "faq",
    "letter",
    "press",
    "wording_letter",    # the question asks for exact wording and this is the letter
    "same_language",     # the passage is written in the question's language
    "phrasing_language",  # the question is not in English and one of the passage's phrasings is in its language
    "sentence",          # a sentence (¶3.2) rather than a whole paragraph or entry
    "position",          # 1 / (1 + its rank in the retriever's order)
    "intent_match",      # 1 when a phrasing asks what the question asks (who, when, where...), -1 when they all
                         # ask something else, 0 when either has no question word
)

# "quote", "exact words", "word for word", "verbatim", in the served languages.
_WORDING = re.compile(
    r"\b(quot\w*|exact\w*|verbatim|word[- ]for[- ]word|wording|literal\w*|précis\w*|mot pour mot|text(?:e|o)? exact\w*|"
    r"cit\w+ (?:textual\w*|testual\w*|exact\w*)|textual\w*|testual\w*|wörtlich\w*|wortlaut|genauen? wort\w*|"
    r"zitier\w*|palavras? exat\w*|parole esatt\w*|palabras exactas)\b|原文|原话|原話|逐字",
    re.IGNORECASE)


def asks_for_wording(text: str) -> bool:
    """Whether a question asks for the letter's own words ("quote the part about ...", "exact words")."""
    return bool(_WORDING.search(text))


@dataclass(frozen=True)
class Query:
    """What the ranking and the decision know about a question: the text searched (with its English glosses
    when it is in another language), its language, keywords, vector, question word and whether it asks for
    the letter's wording."""

    text: str
    language: str
    tokens: tuple[str, ...]
    vector: np.ndarray
    wording: bool
    intent: str | None = None

    @staticmethod
    def search_text(text: str, language: str) -> tuple[str, tuple[str, ...]]:
        """What is embedded for ``text`` and its keywords: glossed into English when it is in another language."""
        english = gloss(text, language)
        tokens = tuple(keyword_tokens(text, language)) + tuple(keyword_tokens(english, "en"))
        return (f"{text} ({english})" if english else text), tokens

    @classmethod
    def of(cls, text: str, language: str, vector: np.ndarray, tokens: tuple[str, ...] | None = None) -> Query:
        if tokens is None:
            tokens = Query.search_text(text, language)[1]
        return cls(text, language, tokens, vector, asks_for_wording(text), intent(text))


@dataclass(frozen=True)
class Ranked:
    """A candidate passage with its ranking score and the features behind it."""

    candidate: Candidate
    score: float
    features: np.ndarray = field(repr=False)

    @property
    def passage(self) -> int:
        return self.candidate.passage


@dataclass(frozen=True)
class LinearModel:
    """A logistic-regression model kept as plain numbers: standardise, weigh, add the intercept."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds for each row of features."""
        return ((rows - self.mean) / self.scale) @ self.weights + self.intercept

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(tuple(data["features"]), np.asarray(data["mean"], dtype=float),
                   np.asarray(data["scale"], dtype=float), np.asarray(data["weights"], dtype=float),
                   float(data["intercept"]))


@dataclass(frozen=True)
class PhrasingIndex:
    """For each passage: the rows of its phrasings, their words and languages, and every row's vector."""

    vectors: np.ndarray | None
    phrasing_rows: tuple[np.ndarray, ...]
    phrasing_words: tuple[tuple[frozenset[str], ...], ...]
    phrasing_weights: tuple[tuple[float, ...], ...]  # each phrasing's total word weight (IDF)
    phrasing_languages: tuple[frozenset[str], ...]
    phrasing_intents: tuple[frozenset[str], ...]


_LOCK = threading.Lock()


def phrasing_index(index: SearchIndex) -> PhrasingIndex:
    """Built on first use and kept with the generation, like the keyword index.

    Rows are written passage by passage, its text (an FAQ entry: question and answer together) first and
    its phrasings after, so every row of a passage but its first is a phrasing.
    """
    found = index.derived.get("phrasings")
    if found is None:
        with _LOCK:
            found = index.derived.get("phrasings")
            if found is None:
                found = index.derived["phrasings"] = _build_phrasing_index(index)
    return found


def _build_phrasing_index(index: SearchIndex) -> PhrasingIndex:
    rows: list[list[int]] = [[] for _ in index.passages]
    for row, passage in enumerate(index.row_passage.tolist()):
        rows[passage].append(row)
    keywords = keyword_index(index)
    words, weights, languages, intents = [], [], [], []
    for passage in index.passages:
        detected = [detect_language(p) for p in passage.phrasings]
        sets = tuple(frozenset(keyword_tokens(p, lang)) for p, lang in zip(passage.phrasings, detected, strict=True))
        words.append(sets)
        weights.append(tuple(sum(keywords.weight(w) for w in s) for s in sets))
        languages.append(frozenset(detected))
        intents.append(frozenset(i for i in map(intent, passage.phrasings) if i))
    return PhrasingIndex(_row_vectors(index), tuple(np.asarray(r[1:], dtype=np.int64) for r in rows),
                         tuple(words), tuple(weights), tuple(languages), tuple(intents))


def _row_vectors(index: SearchIndex) -> np.ndarray | None:
    """Every embedded row's vector, read back from the FAISS index; ``None`` for an index that cannot give
    them back (then the phrasing cosine falls back to the passage's best cosine)."""
    import faiss

    try:
        inner = faiss.downcast_index(index.vectors.index)
        return inner.reconstruct_n(0, int(index.vectors.ntotal))
    except (AttributeError, RuntimeError):
        return None


def _best_overlap(weights: dict[str, float], total: float, phrasings: tuple[frozenset[str], ...],
                  phrasing_weights: tuple[float, ...]) -> float:
    """The best IDF-weighted Jaccard overlap of the question's words (``weights``, summing to ``total``) with
    one phrasing's words."""
    best = 0.0
    for words, weight in zip(phrasings, phrasing_weights, strict=True):
        shared = sum(weights[w] for w in words if w in weights)
        union = total + weight - shared
        if union > 0 and shared / union > best:
            best = shared / union
    return best


def _intent_match(asked: str | None, answered: frozenset[str]) -> float:
    if asked is None or not answered:
        return 0.0
    return 1.0 if asked in answered else -1.0


def candidate_features(index: SearchIndex, query: Query, candidates: Sequence[Candidate]) -> np.ndarray:
    """One row of ``FEATURES`` per candidate."""
    keywords = keyword_index(index)
    phrasings = phrasing_index(index)
    wanted = set(query.tokens)
    weights = {w: keywords.weight(w) for w in wanted}
    total = sum(weights.values())
    best_dense = max((c.dense for c in candidates), default=0.0)
    best_keyword = max((c.keyword for c in candidates), default=0.0)
    rows = np.zeros((len(candidates), len(FEATURES)), dtype=float)
    for position, candidate in enumerate(candidates):
        i = candidate.passage
        passage = index.passages[i]
        phrasing_rows = phrasings.phrasing_rows[i]
        if phrasings.vectors is not None and len(phrasing_rows):
            phrasing_dense = float((phrasings.vectors[phrasing_rows] @ query.vector).max())
        else:
            phrasing_dense = candidate.dense
        passage_words = keywords.words[i]
        coverage = sum(weights[w] for w in wanted if w in passage_words) / total if total else 0.0
        overlap = _best_overlap(weights, total, phrasings.phrasing_words[i], phrasings.phrasing_weights[i])
        rows[position] = (
            candidate.dense, candidate.dense - best_dense, phrasing_dense,
            candidate.keyword / best_keyword if best_keyword > 0 else 0.0, coverage, overlap,
            passage.kind == "faq", passage.kind == "letter", passage.kind == "press",
            query.wording and passage.kind == "letter", passage.language == query.language,
            query.language != "en" and query.language in phrasings.phrasing_languages[i], "." in passage.locator, 1.0 / (2 + position),
            _intent_match(query.intent, phrasings.phrasing_intents[i]),
        )
    return rows


def rank(index: SearchIndex, query: Query, candidates: Sequence[Candidate], model: LinearModel | None) -> list[Ranked]:
    """The candidates best first, one per passage group (a sentence and its own paragraph count once).

    With a fitted model, by its score; without one, in the retriever's order.
    """
    if not candidates:
        return []
    features = candidate_features(index, query, candidates)
    if model is not None:
        scores = model.score(features)
    else:
        scores = np.asarray([c.score for c in candidates], dtype=float)
    order = sorted(range(len(candidates)), key=lambda k: (-scores[k], k))
    seen: set[str] = set()
    ranked = []
    for k in order:
        group = index.passages[candidates[k].passage].group
        if group not in seen:
            seen.add(group)
            ranked.append(Ranked(candidates[k], float(scores[k]), features[k]))
    return ranked
