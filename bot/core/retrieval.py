"""Retrievers: dense (FAISS cosine), bm25 (keywords, ``bm25s``) and hybrid (their convex combination).

Each returns candidates best first with two numbers: ``score`` ranks passages; ``confidence`` is what
the decline threshold is compared with. Confidence is the same for every retriever, so one calibrated
threshold serves them all: a mix of the dense cosine (absolute, unlike BM25 scores, which compare only
within one query) and the share of the question's content words that the passage or its phrasings
contain. The word share matters because all-MiniLM-L6-v2 is English-centric: any two French sentences
look alike to it, so an off-topic French question can reach a high cosine with a French passage.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.config import RetrievalSettings
from bot.core.keywords import keyword_tokens
from bot.core.language import detect_language
from bot.corpus.passages import Passage
from bot.index.encoder import Encoder
from bot.index.store import SearchIndex


@dataclass(frozen=True)
class Candidate:
    """A passage (by index) with its ranking score and its confidence for declining, and the two raw scores
    behind them (the dense cosine and the BM25 score) for the ranking and decision features."""

    passage: int
    score: float
    confidence: float
    dense: float = 0.0
    keyword: float = 0.0


@dataclass(frozen=True)
class KeywordIndex:
    """BM25 over the passages of one generation, each passage's set of words for coverage, and how rare each
    word is (inverse document frequency, for coverage weighted by what a word tells apart)."""

    bm25: object
    words: tuple[frozenset[str], ...]
    idf: dict[str, float]
    unseen: float = 1.0  # the weight of a word no passage uses: that of the rarest word

    def weight(self, word: str) -> float:
        """A word's IDF (``unseen`` for a word no passage uses)."""
        return self.idf.get(word, self.unseen)


_KEYWORD_LOCK = threading.Lock()


def keyword_index(index: SearchIndex) -> KeywordIndex:
    """The generation's keyword index, built on first use and kept with the generation (cheap: the
    corpus is small; a swapped-out generation takes its keyword index with it)."""
    found = index.derived.get("keyword")
    if found is None:
        with _KEYWORD_LOCK:
            found = index.derived.get("keyword")
            if found is None:
                import bm25s

                # bm25s sets its own logger to DEBUG on import, which floods application logs.
                logging.getLogger("bm25s").setLevel(logging.WARNING)
                tokens = [passage_tokens(p) for p in index.passages]
                bm25 = bm25s.BM25()
                bm25.index([t or ["__empty__"] for t in tokens], show_progress=False)
                words = tuple(frozenset(t) for t in tokens)
                idf = inverse_document_frequency(words)
                found = index.derived["keyword"] = KeywordIndex(bm25, words, idf, max(idf.values(), default=1.0))
    return found


def passage_tokens(passage: Passage) -> list[str]:
    """What keyword search matches in a passage: its text in its language, and each phrasing in its own
    (an English FAQ entry carries phrasings in the other served languages)."""
    tokens = keyword_tokens(passage.text, passage.language)
    for phrasing in passage.phrasings:
        tokens.extend(keyword_tokens(phrasing, detect_language(phrasing)))
    return tokens


def inverse_document_frequency(words: tuple[frozenset[str], ...]) -> dict[str, float]:
    """Smoothed IDF of every word over the passages: ln(1 + (N - n + 0.5) / (n + 0.5))."""
    counts: dict[str, int] = {}
    for passage_words in words:
        for word in passage_words:
            counts[word] = counts.get(word, 0) + 1
    total = len(words)
    return {word: math.log(1 + (total - n + 0.5) / (n + 0.5)) for word, n in counts.items()}


def keyword_coverage(index: SearchIndex, question: str, passages: list[int], language: str = "en",
                     tokens: Sequence[str] | None = None) -> dict[int, float]:
    """For each passage, the share of the question's content words (``tokens`` if given) found in it or its phrasings."""
    wanted = set(keyword_tokens(question, language) if tokens is None else tokens)
    if not wanted:
        return {p: 0.0 for p in passages}
    words = keyword_index(index).words
    return {p: len(wanted & words[p]) / len(wanted) for p in passages}


def dense_scores(index: SearchIndex, encoder: Encoder, question: str, query: np.ndarray | None = None) -> np.ndarray:
    """Cosine of the question with every passage (its best embedded row), -1 where none. ``query`` is the
    question's vector when the caller has encoded it already."""
    if query is None:
        query = encoder.encode_queries([question])[0]
    scores = index.passage_scores(query)
    scores[np.isneginf(scores)] = -1.0
    return scores


def bm25_scores(index: SearchIndex, question: str, language: str = "en", tokens: Sequence[str] | None = None) -> np.ndarray:
    tokens = list(keyword_tokens(question, language) if tokens is None else tokens)
    if not tokens or not index.passages:
        return np.zeros(len(index.passages), dtype=np.float32)
    return np.asarray(keyword_index(index).bm25.get_scores(tokens), dtype=np.float32)


def convex_fusion(dense: np.ndarray, keyword: np.ndarray, weight: float) -> np.ndarray:
    """weight × dense + (1 − weight) × BM25 scaled to [0, 1] by this query's best BM25 score."""
    top = float(keyword.max()) if len(keyword) else 0.0
    scaled = keyword / top if top > 0 else np.zeros_like(keyword)
    return weight * dense + (1.0 - weight) * scaled


def rrf_fusion(dense: np.ndarray, keyword: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion, kept for comparison in ``eval`` (convex fusion measured better here)."""
    fused = np.zeros_like(dense)
    for scores in (dense, keyword):
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty_like(order)
        ranks[order] = np.arange(1, len(order) + 1)
        fused += 1.0 / (k + ranks)
    return fused


def retrieve(name: str, index: SearchIndex, encoder: Encoder, question: str, language: str,
             settings: RetrievalSettings, query: np.ndarray | None = None,
             tokens: Sequence[str] | None = None) -> list[Candidate]:
    """Candidates for ``question`` with retriever ``name``, best first (``query``: its vector, if encoded;
    ``tokens``: its keywords, if the caller has them)."""
    if not index.passages:
        return []
    if name not in ("dense", "bm25", "hybrid", "hybrid-rrf"):
        raise ValueError(f"unknown retriever {name!r}")
    dense = dense_scores(index, encoder, question, query)
    keyword = bm25_scores(index, question, language, tokens)
    if name == "dense":
        ranking = dense.copy()
    elif name == "bm25":
        ranking = keyword
    elif name == "hybrid":
        ranking = convex_fusion(dense, keyword, settings.hybrid_weight)
    else:
        ranking = rrf_fusion(dense, keyword)
    if name == "bm25":
        # Passages sharing no word with the question are not candidates at all.
        keep = np.flatnonzero(ranking > 0)
    else:
        keep = np.arange(len(ranking))
    languages = index.derived.get("languages")
    if languages is None:  # each passage's language, kept with the generation
        languages = index.derived["languages"] = np.array([p.language for p in index.passages])
    same_language = languages == language
    adjusted = ranking[keep] + settings.language_bonus * same_language[keep]
    valid = ~np.isnan(adjusted)
    keep, adjusted = keep[valid], adjusted[valid]
    order = np.lexsort((keep, -adjusted))[: settings.candidates]  # best first; ties by passage number
    ranked = [(float(adjusted[k]), int(keep[k])) for k in order]
    coverage = keyword_coverage(index, question, [i for _, i in ranked], language, tokens)
    weight = settings.coverage_weight
    return [Candidate(i, score, (1.0 - weight) * float(dense[i]) + weight * coverage[i], float(dense[i]), float(keyword[i]))
            for score, i in ranked]
