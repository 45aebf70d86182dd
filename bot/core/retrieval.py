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
import unicodedata
from dataclasses import dataclass

import numpy as np

from bot.config import RetrievalSettings
from bot.core.text import words
from bot.index.encoder import Encoder
from bot.index.store import SearchIndex

# Words that say nothing about which passage answers a question, in the two corpus languages.
STOPWORDS = frozenset("""
a an the of to in on for by with is are was were be been being am what who whom whose which when where why
how does do did done can could should would will shall may might must it its this that these those and or
but not no from at as about into than then there their they them he she his her we our you your i me my
any some all also so if there's what's who's s t ai
le la les un une des du de d l qu que qui quoi quel quelle quels quelles est sont été était ont a ai pour
par sur dans avec sans pourquoi comment quand où combien ce cette ces au aux et ou mais donc ne pas plus il
elle ils elles nous vous je tu on leur leurs se sa son ses y en n c s j m t
""".split())


@dataclass(frozen=True)
class Candidate:
    """A passage (by index) with its ranking score and its confidence for declining."""

    passage: int
    score: float
    confidence: float


def _fold_accents(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def keyword_tokens(text: str) -> list[str]:
    """Lower-case content words, accents folded, with a light plural fold ('signatories' meets 'signatory')."""
    tokens = []
    for word in words(text.replace("'", " ").replace("’", " ")):
        word = _fold_accents(word)
        if word in STOPWORDS or len(word) < 2:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        tokens.append(word)
    return tokens


@dataclass(frozen=True)
class KeywordIndex:
    """BM25 over the passages of one generation, and each passage's set of words for coverage."""

    bm25: object
    words: tuple[frozenset[str], ...]


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
                tokens = [keyword_tokens(p.keyword_text) for p in index.passages]
                bm25 = bm25s.BM25()
                bm25.index([t or ["__empty__"] for t in tokens], show_progress=False)
                found = index.derived["keyword"] = KeywordIndex(bm25, tuple(frozenset(t) for t in tokens))
    return found


def keyword_coverage(index: SearchIndex, question: str, passages: list[int]) -> dict[int, float]:
    """For each passage, the share of the question's content words found in it or its phrasings."""
    wanted = set(keyword_tokens(question))
    if not wanted:
        return {p: 0.0 for p in passages}
    words = keyword_index(index).words
    return {p: len(wanted & words[p]) / len(wanted) for p in passages}


def dense_scores(index: SearchIndex, encoder: Encoder, question: str) -> np.ndarray:
    """Cosine of the question with every passage (its best embedded row), -1 where none."""
    query = encoder.encode_queries([question])[0]
    scores = index.passage_scores(query)
    scores[np.isneginf(scores)] = -1.0
    return scores


def bm25_scores(index: SearchIndex, question: str) -> np.ndarray:
    tokens = keyword_tokens(question)
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
             settings: RetrievalSettings) -> list[Candidate]:
    """Candidates for ``question`` with retriever ``name``, best first."""
    if not index.passages:
        return []
    dense = dense_scores(index, encoder, question)
    if name == "dense":
        ranking = dense.copy()
    elif name == "bm25":
        ranking = bm25_scores(index, question)
    elif name == "hybrid":
        ranking = convex_fusion(dense, bm25_scores(index, question), settings.hybrid_weight)
    elif name == "hybrid-rrf":
        ranking = rrf_fusion(dense, bm25_scores(index, question))
    else:
        raise ValueError(f"unknown retriever {name!r}")
    if name == "bm25":
        # Passages sharing no word with the question are not candidates at all.
        keep = np.flatnonzero(ranking > 0)
    else:
        keep = np.arange(len(ranking))
    bonus = settings.language_bonus
    ranked = sorted(
        ((float(ranking[i]) + (bonus if index.passages[i].language == language else 0.0), int(i))
         for i in keep if not math.isnan(float(ranking[i]))),
        key=lambda item: (-item[0], item[1]),
    )[: settings.candidates]
    coverage = keyword_coverage(index, question, [i for _, i in ranked])
    weight = settings.coverage_weight
    return [Candidate(i, score, (1.0 - weight) * float(dense[i]) + weight * coverage[i]) for score, i in ranked]
