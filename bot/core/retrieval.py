"""Retrievers: dense (FAISS cosine), bm25 (keywords: BM25 over our own postings) and hybrid (their convex combination).

A question scores a few hundred candidates, not the corpus: FAISS's best rows and BM25's best passages
(``retrieve``), with everything derived from a generation built when it is loaded (``prepare``).

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
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.config import RETRIEVERS, RetrievalSettings
from bot.core.keywords import keyword_tokens
from bot.core.language import detect_language
from bot.corpus.passages import Passage
from bot.index.encoder import Encoder
from bot.index.store import SearchIndex, return_freed_memory

log = logging.getLogger(__name__)

# Up to this many passages every passage is scored; above, each retriever proposes this many (FAISS rows,
# BM25 passages) and only their union is scored in numpy (grown 4x when that could miss one: see retrieve).
POOL = 256
RRF_K = 60
# Bounds are compared with a margin so that float32 rounding (FAISS's sums against numpy's) never passes
# a check that exact arithmetic would fail.
BOUND_MARGIN = 1e-5
# BM25's parameters: bm25s's defaults, with which the keyword scores were computed before our own index.
BM25_K1 = 1.5
BM25_B = 0.75

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
    """BM25 over the passages of one generation, and its inverted index for word coverage.

    For each vocabulary word, the passages containing it, sorted (``postings`` from ``starts[t]`` to
    ``starts[t + 1]``: one compressed sparse column a word), and the word's BM25 score in each (``term_scores``,
    aligned with ``postings``): plain numpy arrays, built without a Python object per word occurrence. At 100k
    passages the index adds 45 MB resident (33 MB of it these arrays), where bm25s's, used before, added 80 MB.
    The scores are bm25s's to the bit (its default variant, "lucene", k1 = 1.5, b = 0.75: ``tests/test_retrieval.py``
    compares them with bm25s's own), so no answer changed. "Which of these passages contain the question's words"
    needs no copy of the corpus's words (a frozenset of words per passage took 370 MB at 100k).
    """

    vocabulary: dict[str, int]
    starts: np.ndarray
    postings: np.ndarray
    term_scores: np.ndarray
    passage_count: int
    # How rare each word is (inverse document frequency), for coverage weighted by what a word tells apart;
    # ``unseen``, the weight of a word no passage uses: that of the rarest word.
    idf: dict[str, float] = field(default_factory=dict)
    unseen: float = 1.0

    def weight(self, word: str) -> float:
        """A word's IDF (``unseen`` for a word no passage uses)."""
        return self.idf.get(word, self.unseen)

    def passages_with(self, word: str) -> np.ndarray | None:
        """The passages holding ``word`` (sorted), or ``None`` when none does."""
        position = self.vocabulary.get(word)
        if position is None:
            return None
        return self.postings[self.starts[position]:self.starts[position + 1]]

    @classmethod
    def build(cls, passage_tokens: Iterable[Sequence[str]]) -> KeywordIndex:
        """From each passage's keywords (``passage_tokens(passage)``: its text and phrasings, each in its language),
        read one passage at a time: each passage's words are counted and appended to flat arrays (word, how often),
        its token strings then dropped; the arrays are sorted into postings once, at the end. Only the vocabulary
        holds strings (a word's first occurrence)."""
        vocabulary: dict[str, int] = {}
        words = array("i")  # each passage's distinct words, passage after passage
        frequencies = array("i")  # how often each of those occurs in its passage
        distinct = array("i")  # how many distinct words each passage has
        lengths = array("i")  # how many tokens each passage has
        for tokens in passage_tokens:
            counted = Counter(tokens)
            words.extend([vocabulary.setdefault(word, len(vocabulary)) for word in counted])
            frequencies.extend(counted.values())
            distinct.append(len(counted))
            # A passage without keywords counts as one token long, as in bm25s's index (where it held a placeholder
            # word no question can hold): the average length, and so every score, stay as they were.
            lengths.append(len(tokens) or 1)
        total = len(lengths)
        word_of = np.asarray(words, dtype=np.int32)
        del words
        passage_of = np.repeat(np.arange(total, dtype=np.int32), np.asarray(distinct, dtype=np.int64))
        document_frequency = np.bincount(word_of, minlength=len(vocabulary))
        starts = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(document_frequency, out=starts[1:])
        word_idf = [bm25_idf(int(n), total) for n in document_frequency]
        term_scores = _term_scores(np.asarray(frequencies, dtype=np.float32), passage_of,
                                   np.asarray(lengths, dtype=np.int64), np.asarray(word_idf, dtype=np.float32)[word_of])
        # By word; a stable sort keeps each word's passages in corpus order, so its postings come out sorted.
        order = np.argsort(word_of, kind="stable")
        del word_of
        postings, term_scores = passage_of[order], term_scores[order]
        idf = dict(zip(vocabulary, word_idf, strict=True))
        return cls(vocabulary, starts, postings, term_scores, total, idf, max(word_idf, default=1.0))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 of every passage (fusion needs the exact score of dense candidates too, not only a top-k): a sum
        over the question words' postings, word by word in the question's order, in float32, as bm25s's
        ``get_scores`` sums. Plain indexing: a word's postings name each passage once, so ``np.add.at`` (several
        times slower, bm25s's choice) is not needed."""
        scores = np.zeros(self.passage_count, dtype=np.float32)
        for token in tokens:
            position = self.vocabulary.get(token)
            if position is None:
                continue
            start, end = self.starts[position], self.starts[position + 1]
            scores[self.postings[start:end]] += self.term_scores[start:end]
        return scores

    def coverage(self, tokens: list[str], passages: np.ndarray) -> np.ndarray:
        """For each listed passage, the share of the question's distinct words that it (or a phrasing) contains."""
        wanted = set(tokens)
        if not wanted or not len(passages):
            return np.zeros(len(passages), dtype=np.float64)
        return self.held(dict.fromkeys(wanted, 1.0))[passages] / len(wanted)

    def held(self, weights: dict[str, float]) -> np.ndarray:
        """For every passage, the total weight of the words in ``weights`` that it (or a phrasing) holds: counted
        over all passages, a word's postings at a time (a word names each passage once), one numpy operation a
        word, as BM25 already reads those postings."""
        held = np.zeros(self.passage_count)
        for word, weight in weights.items():
            holders = self.passages_with(word)
            if holders is not None:
                held[holders] += weight
        return held


def bm25_idf(holders: int, total: int) -> float:
    """Smoothed IDF of a word held by ``holders`` of ``total`` passages (Lucene's): ln(1 + (N - n + 0.5) / (n + 0.5)).
    BM25 uses it rounded to float32, as bm25s did; coverage's word weights (``KeywordIndex.idf``) as it is."""
    return math.log(1 + (total - holders + 0.5) / (holders + 0.5))


def _term_scores(frequencies: np.ndarray, passage_of: np.ndarray, lengths: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Each (word, passage)'s BM25 score, idf × tf / (k1 × (1 − b + b × length / average length) + tf), rounded
    to float32 at the end: bm25s's arithmetic step for step (its ``_build_scores_and_indices_for_matrix``), so that
    the scores are the same to the bit. The length factor is float64 (a length over a float64 average); tf and idf
    are float32, widened to float64 by it."""
    average = lengths.mean() if len(lengths) else 1.0
    length_factor = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / average)
    scores = frequencies / (length_factor[passage_of] + frequencies)
    scores *= idf
    return scores.astype(np.float32)


def passage_tokens(passage: Passage) -> list[str]:
    """What keyword search matches in a passage: its text in its language, and each phrasing in its own
    (an English FAQ entry carries phrasings in the other served languages)."""
    tokens = keyword_tokens(passage.text, passage.language)
    for phrasing in passage.phrasings:
        tokens.extend(keyword_tokens(phrasing, detect_language(phrasing)))
    return tokens


KEYWORD = "keyword"
_PREPARE_LOCK = threading.Lock()


def prepare(index: SearchIndex) -> SearchIndex:
    """Build everything a question needs from this generation, once, before it serves: when it is loaded at
    start, after a moderator's edit, a reload or an undo (``LiveIndex`` calls this before a swap). At 100k
    passages this is seconds of work that would otherwise fall on the first asker."""
    with _PREPARE_LOCK:
        if KEYWORD not in index.derived:
            started = time.perf_counter()
            index.derived[KEYWORD] = KeywordIndex.build(passage_tokens(p) for p in index.passages)
            log.debug("keyword index of %s built in %.2f s", index.generation, time.perf_counter() - started)
            return_freed_memory()
    # A question through every retriever now (a passage's own vector and words), so that first-use costs
    # (FAISS and numpy allocations, pages of the index not yet touched) are not the first asker's either.
    if index.passages and int(index.vectors.ntotal):
        probe = index.passages[0]
        for name in RETRIEVERS:
            rank(name, index, index.row_vectors(np.array([0]))[0], keyword_tokens(probe.text, probe.language),
                 probe.language, RetrievalSettings())
    return index


def keyword_index(index: SearchIndex) -> KeywordIndex:
    """The generation's keyword index (built by ``prepare``; built here only for an unprepared generation)."""
    found = index.derived.get(KEYWORD)
    if found is None:
        log.warning("generation %s was not prepared: building its keyword index during a question", index.generation)
        prepare(index)
        found = index.derived[KEYWORD]
    return found


def keyword_coverage(index: SearchIndex, question: str, passages: list[int], language: str = "en",
                     tokens: Sequence[str] | None = None) -> dict[int, float]:
    """For each passage, the share of the question's content words (``tokens`` if given) found in it or its phrasings."""
    ids = np.asarray(passages, dtype=np.int64)
    wanted = list(keyword_tokens(question, language) if tokens is None else tokens)
    shares = keyword_index(index).coverage(wanted, ids)
    return {int(p): float(c) for p, c in zip(ids, shares, strict=True)}


def dense_scores(index: SearchIndex, encoder: Encoder, question: str, query: np.ndarray | None = None) -> np.ndarray:
    """Cosine of the question with every passage (its best embedded row), -1 where none (exhaustive). ``query``
    is the question's vector when the caller has encoded it already."""
    if query is None:
        query = encoder.encode_queries([question])[0]
    scores = index.passage_scores(query)
    scores[np.isneginf(scores)] = -1.0
    return scores


def bm25_scores(index: SearchIndex, question: str, language: str = "en", tokens: Sequence[str] | None = None) -> np.ndarray:
    """BM25 of every passage for ``question`` (written in ``language``; ``tokens``: its keywords, if known)."""
    if not index.passages:
        return np.zeros(0, dtype=np.float32)
    return keyword_index(index).scores(list(keyword_tokens(question, language) if tokens is None else tokens))


def convex_fusion(dense: np.ndarray, keyword: np.ndarray, weight: float, top: float | None = None) -> np.ndarray:
    """weight × dense + (1 − weight) × BM25 scaled to [0, 1] by this query's best BM25 score (``top``, over
    every passage; by default the best of ``keyword``)."""
    if top is None:
        top = float(keyword.max()) if len(keyword) else 0.0
    scaled = keyword / top if top > 0 else np.zeros_like(keyword)
    return weight * dense + (1.0 - weight) * scaled


def rrf_fusion(dense: np.ndarray, keyword: np.ndarray, k: int = RRF_K) -> np.ndarray:
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
    """Candidates for ``question`` with retriever ``name``, best first (at most ``settings.candidates``).

    Up to ``POOL`` passages every passage is scored. Above, each retriever proposes its best ``POOL`` (FAISS's
    best rows, BM25's best passages), only their union is scored, and the result is checked: when a passage
    outside the pools could still outrank the last candidate kept (bounded by the pools' lowest scores and
    the language bonus), the pools grow 4x and it runs again. So with the exact (flat) index the candidates
    are those of scoring every passage; with IVF, as exact as its recall. For ``hybrid-rrf`` the BM25 ranks
    are exact but a passage outside the dense pool counts as ranked just past it (exact up to ``POOL``
    passages, an approximation above: it is kept for comparison only). ``query`` is the question's vector and
    ``tokens`` its keywords when the caller has them already.
    """
    if name not in RETRIEVERS:
        raise ValueError(f"unknown retriever {name!r}")
    if not index.passages:
        return []
    vector = encoder.encode_queries([question])[0] if query is None else query
    words = list(keyword_tokens(question, language) if tokens is None else tokens)
    return rank(name, index, vector, words, language, settings)


def rank(name: str, index: SearchIndex, query: np.ndarray, tokens: list[str], language: str,
         settings: RetrievalSettings) -> list[Candidate]:
    """``retrieve`` for an encoded question and its keyword tokens."""
    keywords = keyword_index(index)
    # Every retriever computes BM25: the ranking features use each candidate's keyword score.
    all_bm25 = keywords.scores(tokens)
    bm25 = all_bm25 if name != "dense" else None
    if len(index.passages) <= POOL:
        passages, ranking, dense = _score_every_passage(name, index, query, bm25, settings)
    else:
        passages, ranking, dense = _score_pools(name, index, query, bm25, language, settings)
    value = ranking.astype(np.float64) + np.where(index.in_language(language)[passages], settings.language_bonus, 0.0)
    keep = ~np.isnan(value)
    passages, value, dense = passages[keep], value[keep], dense[keep]
    order = np.lexsort((passages, -value))[: settings.candidates]
    passages, value, dense = passages[order], value[order], dense[order]
    weight = settings.coverage_weight
    confidence = (1.0 - weight) * dense.astype(np.float64) + weight * keywords.coverage(tokens, passages)
    keyword = all_bm25[passages] if len(all_bm25) else np.zeros(len(passages))
    return [Candidate(p, v, c, d, k) for p, v, c, d, k in zip(
        passages.tolist(), value.tolist(), confidence.tolist(), dense.astype(np.float64).tolist(),
        np.asarray(keyword, dtype=np.float64).tolist(), strict=True)]


def _score_every_passage(name: str, index: SearchIndex, query: np.ndarray, bm25: np.ndarray | None,
                         settings: RetrievalSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(passages, ranking score, cosine) of every passage — of those with a keyword in common for bm25."""
    dense = index.passage_scores(query)
    np.maximum(dense, -1.0, out=dense)  # a passage without rows (-inf) counts as opposite to everything
    passages = np.arange(len(index.passages))
    if name == "dense":
        return passages, dense, dense
    assert bm25 is not None
    if name == "bm25":
        # Passages sharing no word with the question are not candidates at all.
        passages = np.flatnonzero(bm25 > 0)
        return passages, bm25[passages], dense[passages]
    if name == "hybrid":
        return passages, convex_fusion(dense, bm25, settings.hybrid_weight), dense
    return passages, rrf_fusion(dense, bm25), dense


def _score_pools(name: str, index: SearchIndex, query: np.ndarray, bm25: np.ndarray | None, language: str,
                 settings: RetrievalSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(passages, ranking score, cosine) of the union of the retrievers' pools, grown until provably enough."""
    total_rows = int(index.vectors.ntotal)
    positives = np.flatnonzero(bm25 > 0) if bm25 is not None else np.zeros(0, dtype=np.int64)
    top = float(bm25.max()) if bm25 is not None and len(bm25) else 0.0
    bonus = max(settings.language_bonus, 0.0)
    size = POOL
    while True:
        dense_pool, dense_floor, dense_done, seen = _dense_pool(index, query, size, total_rows, name != "bm25")
        if name == "hybrid-rrf":
            assert bm25 is not None  # rank() computes BM25 for every retriever but "dense"
            keyword_pool, keyword_floor = _bm25_order(bm25, positives, size), 0.0
            keyword_done = len(keyword_pool) >= len(index.passages)
        else:
            keyword_pool, keyword_floor, keyword_done = _keyword_pool(bm25, positives, size, name != "dense")
        passages = np.union1d(dense_pool, keyword_pool)
        dense = index.exact_passage_scores(query, passages, seen)
        if name == "dense":
            ranking, bound = dense, dense_floor + bonus
        elif name == "bm25":
            assert bm25 is not None
            ranking = bm25[passages]
            bound = keyword_floor + bonus if keyword_floor > 0 else -np.inf  # zero-BM25 passages never count
        elif name == "hybrid":
            assert bm25 is not None
            weight = settings.hybrid_weight
            ranking = convex_fusion(dense, bm25[passages], weight, top)
            bound = weight * dense_floor + (1.0 - weight) * (keyword_floor / top if top > 0 else 0.0) + bonus
        else:
            assert bm25 is not None
            ranking = _pool_rrf(passages, dense, bm25, dense_pool)
            bound = 1.0 / (RRF_K + len(dense_pool) + 1) + 1.0 / (RRF_K + len(keyword_pool) + 1) + bonus
        # With IVF nothing is provable (a passage it missed may be anywhere), so one round: its recall is the limit.
        if (dense_done and keyword_done) or index.approximate or _enough(ranking, passages, index, language,
                                                                          settings, bound):
            return passages, ranking, dense
        size *= 4


def _dense_pool(index: SearchIndex, query: np.ndarray, size: int, total_rows: int,
                wanted: bool) -> tuple[np.ndarray, float, bool, tuple[np.ndarray, np.ndarray]]:
    """The passages of FAISS's best ``size`` rows; the cosine no passage outside them exceeds; whether
    every row was seen; and the (rows, cosines) found, so that they need not be computed again."""
    if not wanted:
        empty = np.zeros(0, dtype=np.int64)
        return empty, -1.0, True, (empty, np.zeros(0, dtype=np.float32))
    scores, rows = index.search_rows(query, size)
    everything = len(rows) >= total_rows
    floor = -1.0 if everything or not len(scores) else float(scores[-1])
    return np.unique(index.row_passage[rows]), floor, everything, (rows, scores)


def _keyword_pool(bm25: np.ndarray | None, positives: np.ndarray, size: int,
                  wanted: bool) -> tuple[np.ndarray, float, bool]:
    """The ``size`` passages of highest BM25; the BM25 no passage outside them exceeds; whether that is all
    passages with a word in common."""
    if not wanted or bm25 is None:
        return np.zeros(0, dtype=np.int64), 0.0, True
    if len(positives) <= size:
        return positives, 0.0, True
    best = positives[np.argpartition(-bm25[positives], size - 1)[:size]]
    return best, float(bm25[best].min()), False


def _enough(ranking: np.ndarray, passages: np.ndarray, index: SearchIndex, language: str,
            settings: RetrievalSettings, bound: float) -> bool:
    """Whether the ``candidates``-th best of the pools outranks anything outside them (``bound``)."""
    value = ranking.astype(np.float64) + np.where(index.in_language(language)[passages], settings.language_bonus, 0.0)
    value = value[~np.isnan(value)]
    need = settings.candidates
    if len(value) < need:
        return False
    kth = np.partition(-value, need - 1)[need - 1]
    return -kth > bound + BOUND_MARGIN


def _pool_rrf(passages: np.ndarray, dense: np.ndarray, all_bm25: np.ndarray, dense_pool: np.ndarray) -> np.ndarray:
    """RRF of the candidates: BM25 ranks exact (over every passage, zeros by position, as ``rrf_fusion``),
    dense ranks within the dense pool, and just past it for a passage outside."""
    fused = np.zeros(len(passages), dtype=np.float32)
    member = np.isin(passages, dense_pool)
    inside = np.flatnonzero(member)
    ranks = np.full(len(passages), len(dense_pool) + 1, dtype=np.int64)
    ranks[inside[np.lexsort((passages[inside], -dense[inside]))]] = np.arange(1, len(inside) + 1)
    fused += 1.0 / (RRF_K + ranks)
    fused += 1.0 / (RRF_K + _bm25_ranks(all_bm25, passages))
    return fused


def _bm25_order(bm25: np.ndarray, positives: np.ndarray, size: int) -> np.ndarray:
    """The first ``size`` passages in BM25 order (score descending, then position; zeros last)."""
    ordered = positives[np.lexsort((positives, -bm25[positives]))][:size]
    if len(ordered) < size:
        zeros = np.flatnonzero(bm25 <= 0)[: size - len(ordered)]
        ordered = np.concatenate([ordered, zeros])
    return ordered


def _bm25_ranks(all_scores: np.ndarray, passages: np.ndarray) -> np.ndarray:
    """Each listed passage's 1-based rank in BM25 order over every passage (ties by position), as
    ``rrf_fusion`` ranks them: the passages with a word in common first, then the rest by position."""
    positives = np.flatnonzero(all_scores > 0)
    ordered = positives[np.lexsort((positives, -all_scores[positives]))]
    place = np.full(len(all_scores), -1, dtype=np.int64)
    place[ordered] = np.arange(len(ordered))
    ranks = place[passages] + 1
    zero = ranks == 0
    ranks[zero] = len(positives) + passages[zero] - np.searchsorted(positives, passages[zero]) + 1
    return ranks
