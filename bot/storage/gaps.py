"""What the bot could not answer: declined questions and answers marked "Not helpful", grouped.

Questions are grouped by meaning (cosine of their embeddings), so that "who signed?" and "who are the
signatories?" count together, and groups are listed most frequent first with the last time asked: the
next FAQ entry to write is at the top. Work is bounded whatever members send: the store returns at most
``MAX_MISSES`` of the newest questions, each is cut to ``MAX_QUESTION_CHARS`` before encoding, and the
encoder works in batches.

Members wrote these questions; the exports neutralise them for where they go: spreadsheet formulas in
CSV cells (``=HYPERLINK(...)``) and terminal control characters in the text report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.text import clean_question
from bot.index.encoder import Encoder
from bot.storage.answers import MAX_MISSES, Miss, Store
from bot.storage.database import Target, exists

__all__ = ["MAX_MISSES", "Gap", "Miss", "gaps_csv", "gaps_text", "group_misses", "read_misses"]

SIMILAR = 0.75
MAX_QUESTION_CHARS = 300  # as long as an FAQ question may be; the rest only costs encoding time
ENCODE_BATCH = 64


@dataclass
class Gap:
    question: str
    count: int = 0
    declined: int = 0
    not_helpful: int = 0
    last_asked: float = 0.0
    examples: list[str] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)
    latest: Miss | None = None  # the most recent time it was asked (for a jump link)

    @property
    def last_asked_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.last_asked, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def read_misses(database: Target, since: float | None = None, *, guild_id: int | None = None,
                limit: int = MAX_MISSES) -> list[Miss]:
    """The newest declined and not-helpful questions (from every bot process when they share PostgreSQL; none
    when a SQLite file does not exist yet)."""
    if not exists(database):
        return []
    store = Store(database)
    try:
        return store.misses(since=since or 0.0, guild_id=guild_id, limit=limit)
    finally:
        store.close()


def _encode(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Query vectors in fixed-size batches, whatever the encoder does with a long list."""
    parts = [encoder.encode_queries(texts[start : start + ENCODE_BATCH]) for start in range(0, len(texts), ENCODE_BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dimension), dtype=np.float32)


def group_misses(misses: Sequence[Miss], encoder: Encoder, similar: float = SIMILAR) -> list[Gap]:
    """Greedy grouping by cosine: each question joins the most similar group at or above ``similar``."""
    if not misses:
        return []
    ordered = sorted(misses, key=lambda miss: miss.asked_at)
    texts = [(clean_question(m.question) or m.question)[:MAX_QUESTION_CHARS] for m in ordered]
    vectors = _encode(encoder, texts)
    gaps: list[Gap] = []
    centres = np.zeros((len(ordered), vectors.shape[1]), dtype=np.float32)
    for miss, text, vector in zip(ordered, texts, vectors, strict=True):
        best = None
        if gaps:
            scores = centres[: len(gaps)] @ vector
            candidate = int(np.argmax(scores))
            if scores[candidate] >= similar:
                best = candidate
        if best is None:
            centres[len(gaps)] = vector
            gaps.append(Gap(question=text))
            best = len(gaps) - 1
        gap = gaps[best]
        gap.count += 1
        gap.declined += miss.reason == "declined"
        gap.not_helpful += miss.reason == "not helpful"
        if miss.asked_at >= gap.last_asked:
            gap.last_asked = miss.asked_at
            gap.latest = miss
        if miss.answer_id is not None and miss.answer_id not in gap.answer_ids:
            gap.answer_ids.append(miss.answer_id)
        if text not in gap.examples and len(gap.examples) < 5:
            gap.examples.append(text)
    return sorted(gaps, key=lambda g: (-g.count, -g.last_asked))


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or return) would be run as a
    formula, so it gets a leading apostrophe (OWASP's advice for CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gaps_csv(gaps: list[Gap]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["question", "count", "declined", "not_helpful", "last_asked_utc", "examples"])
    for gap in gaps:
        writer.writerow([csv_cell(gap.question), gap.count, gap.declined, gap.not_helpful, gap.last_asked_iso,
                         csv_cell(" | ".join(gap.examples))])
    return buffer.getvalue()


def printable(text: str) -> str:
    """Text safe to print on a terminal: control and formatting characters (escape sequences, right-to-left
    overrides, line breaks) shown as ``\\u....`` instead of acting on the terminal."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else f"\\u{ord(ch):04x}"
                   for ch in text)


def gaps_text(gaps: list[Gap], limit: int = 20) -> str:
    if not gaps:
        return "No unanswered questions recorded."
    lines = [f"{'count':>5}  {'declined':>8}  {'not helpful':>11}  {'last asked':<20}  question"]
    for gap in gaps[:limit]:
        lines.append(f"{gap.count:>5}  {gap.declined:>8}  {gap.not_helpful:>11}  {gap.last_asked_iso:<20}  "
                     f"{printable(gap.question)}")
        for example in gap.examples[1:3]:
            lines.append(f"{'':>52}  also: {printable(example)}")
    return "\n".join(lines)
