"""What kind of message this is, learned from the question bank: a question to answer, chit-chat, a question
about a time after the sources, or another message to decline.

The rule-based guards (``core.guards``) recognise the phrasings their author thought of: "thanks!" but not
"much obliged", "in 2027" but not "did the UN adopt it yet". A classifier fitted on hundreds of labelled
messages in every served language generalises further. It reads the message's words (never the conversation's:
"thanks" after a question is still thanks) as hashed words, word pairs and character n-grams (the classic
features for short-text intent: they carry typos, inflections and languages without a tokenizer), and the
embedding the question was searched with (what it is about: small talk sits apart from questions), scored by
a multinomial logistic regression fitted on the train split with balanced classes
(``bot/evaluation/fitting.py``). A guard fires
when the rule does or when the class's probability passes its threshold, chosen so that answerable messages
are almost never caught (calibrated out of fold on train and on dev).

Hashing is hand-written (CRC-32 of each term) rather than scikit-learn's ``HashingVectorizer`` so that
serving, which has no scikit-learn, computes exactly the features the model was fitted on.
"""

from __future__ import annotations

import base64
import functools
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

KINDS = ("answer", "chitchat", "after-sources", "unknown-name", "decline")
GUARDED = ("chitchat", "after-sources", "unknown-name")  # the kinds with their own reply
# The kinds whose learned guard fires before the decision. After the sources is only named once the decision
# declines: as a guard it caught clean questions about the launch ("Who read the call out at the UN General
# Assembly?"), and without it, 4-fold over the training-only messages, after-sources recall rose (0.65 -> 0.70).
FIRING = ("chitchat", "unknown-name")
DIMENSIONS = 1 << 14
CHARACTER_NGRAMS = (3, 4, 5)

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def terms(text: str) -> list[str]:
    """The message's terms: words, word pairs, character n-grams of each word (with its edges marked), and for
    Chinese, which has no spaces, single characters and character pairs."""
    tokens = _TOKEN.findall(text.lower())
    found = [f"w {t}" for t in tokens]
    found += [f"b {a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    for token in tokens:
        if _HAN.search(token):
            found += [f"h {c}" for c in token]
            found += [f"h {token[i:i + 2]}" for i in range(len(token) - 1)]
            continue
        if len(token) < 2:
            continue
        padded = f"<{token}>"
        for n in CHARACTER_NGRAMS:
            found += [f"c {padded[i:i + n]}" for i in range(len(padded) - n + 1)]
    return found


# Distinct words (and word pairs) whose hashed terms are kept, and the longest word kept: a word of n letters has
# about 3n n-grams (a 15-letter word's take about a kilobyte; 8,192 of them some MB), and a 2,000-letter "word" a
# message may hold would take 230 KB, so long words are hashed each time instead.
_WORDS_KEPT = 8192
_LONGEST_KEPT = 40


def _position(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) % DIMENSIONS


def _word_position(token: str) -> int:
    return _kept_position(f"w {token}") if len(token) <= _LONGEST_KEPT else _position(f"w {token}")


def _pair_position(first: str, second: str) -> int:
    pair = f"b {first} {second}"
    return _kept_position(pair) if len(pair) <= 2 * _LONGEST_KEPT else _position(pair)


_kept_position = functools.lru_cache(maxsize=2 * _WORDS_KEPT)(_position)


def _piece_positions(token: str) -> tuple[int, ...]:
    """The hashed character n-grams (or Han characters and pairs) of one token: a word's own, so kept per word
    (up to ``_LONGEST_KEPT`` letters), as ``keywords.stem`` keeps its stems. Most words of a message were in
    earlier ones (Zipf), and these are most of a message's terms: hashing them again was most of the classifiers'
    cost on a question."""
    return _kept_piece_positions(token) if len(token) <= _LONGEST_KEPT else _hashed_pieces(token)


def _hashed_pieces(token: str) -> tuple[int, ...]:
    if _HAN.search(token):
        return tuple(_position(f"h {c}") for c in token) + tuple(
            _position(f"h {token[i:i + 2]}") for i in range(len(token) - 1))
    if len(token) < 2:
        return ()
    padded = f"<{token}>"
    return tuple(_position(f"c {padded[i:i + n]}") for n in CHARACTER_NGRAMS for i in range(len(padded) - n + 1))


_kept_piece_positions = functools.lru_cache(maxsize=_WORDS_KEPT)(_hashed_pieces)


@functools.lru_cache(maxsize=4)
def hashed(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The message as a sparse unit vector: hashed term positions and their weights (1 + log count). Kept for
    the last few messages: the kind classifier and the passage classifier read the same text (read only).
    The terms are those of ``terms``, hashed in the same order (so the positions come out in the same order and
    the weighted sums are the same bits), each word's own terms read from a per-word cache."""
    tokens = _TOKEN.findall(text.lower())
    found = list(map(_word_position, tokens))
    found += map(_pair_position, tokens, tokens[1:])
    for token in tokens:
        found += _piece_positions(token)
    counts = Counter(found)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    positions = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = 1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))
    return positions, values / np.sqrt(values @ values)  # the norm, without np.linalg's wrapper


@dataclass(frozen=True)
class KindModel:
    """The fitted classifier: one weight column per kind, and the probability above which a kind's guard fires
    (``thresholds``, for the ``GUARDED`` kinds)."""

    weights: np.ndarray = field(repr=False)   # (DIMENSIONS, len(KINDS))
    intercept: np.ndarray
    thresholds: dict[str, float]
    embedding_weights: np.ndarray | None = field(default=None, repr=False)  # (dimension, len(KINDS))

    def probabilities(self, text: str, vector: np.ndarray | None = None) -> dict[str, float]:
        """Per kind, for the message ``text`` whose embedding is ``vector`` (what the question was searched with)."""
        positions, values = hashed(text)
        logits = values @ self.weights[positions] + self.intercept
        if self.embedding_weights is not None and vector is not None:
            logits = logits + vector.astype(float) @ self.embedding_weights
        exp = np.exp(logits - logits.max())
        return dict(zip(KINDS, (exp / exp.sum()).tolist(), strict=True))

    def fires(self, found: dict[str, float]) -> str | None:
        """The ``FIRING`` kind whose probability (``found``, from ``probabilities``) passes its threshold, or
        ``None``."""
        for kind, threshold in self.thresholds.items():
            if kind not in FIRING:
                continue
            if found[kind] >= threshold:
                return kind
        return None

    def to_json(self) -> dict[str, object]:
        return {"kinds": list(KINDS), "dimensions": DIMENSIONS,
                "weights": base64.b64encode(self.weights.astype("<f4").tobytes()).decode("ascii"),
                "intercept": self.intercept.tolist(), "thresholds": dict(self.thresholds),
                "embedding_weights": self.embedding_weights.tolist() if self.embedding_weights is not None else None}

    @classmethod
    def from_json(cls, data: dict) -> KindModel:
        if tuple(data["kinds"]) != KINDS or int(data["dimensions"]) != DIMENSIONS:
            raise ValueError("the message-kind model was fitted on other kinds or dimensions")
        weights = np.frombuffer(base64.b64decode(data["weights"]), dtype="<f4").reshape(DIMENSIONS, len(KINDS)).copy()
        embedding = data.get("embedding_weights")
        return cls(weights.astype(np.float64), np.asarray(data["intercept"], dtype=float),
                   {str(k): float(v) for k, v in data["thresholds"].items()},
                   np.asarray(embedding, dtype=float) if embedding is not None else None)
