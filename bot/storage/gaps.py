"""What the bot could not answer: declined questions and answers marked "Not helpful", grouped.

Questions are grouped by meaning (cosine of their embeddings), so that "who signed?" and "who are the
signatories?" count together, and groups are listed most frequent first with the last time asked: the
next FAQ entry to write is at the top.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.text import clean_question
from bot.index.encoder import Encoder
from bot.storage.database import Database, Target, is_postgres

SIMILAR = 0.75


@dataclass(frozen=True)
class Miss:
    question: str
    asked_at: float
    reason: str  # "declined" or "not helpful"


@dataclass
class Gap:
    question: str
    count: int = 0
    declined: int = 0
    not_helpful: int = 0
    last_asked: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def last_asked_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.last_asked, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def read_misses(database: Target, since: float | None = None) -> list[Miss]:
    """Declined questions and questions whose answer someone marked not helpful (from every bot process, when
    they share a PostgreSQL database)."""
    if not is_postgres(database) and not Path(database).exists():
        return []
    db = Database(database)
    try:
        cutoff = since or 0.0
        declined = db.execute("SELECT question, asked_at FROM answers WHERE answered = 0 AND asked_at >= ?", (cutoff,))
        unhelpful = db.execute(
            "SELECT a.question, MAX(f.given_at) FROM feedback f JOIN answers a ON a.id = f.answer_id"
            " WHERE f.helpful = 0 AND f.given_at >= ? GROUP BY f.answer_id, f.user_id, a.question", (cutoff,))
    finally:
        db.close()
    return ([Miss(q, t, "declined") for q, t in declined] + [Miss(q, t, "not helpful") for q, t in unhelpful])


def group_misses(misses: list[Miss], encoder: Encoder, similar: float = SIMILAR) -> list[Gap]:
    """Greedy grouping by cosine: each question joins the most similar group at or above ``similar``."""
    if not misses:
        return []
    texts = [clean_question(m.question) or m.question for m in misses]
    vectors = encoder.encode_queries(texts)
    gaps: list[Gap] = []
    centres: list[np.ndarray] = []
    for miss, text, vector in sorted(zip(misses, texts, vectors, strict=True), key=lambda item: item[0].asked_at):
        best, best_score = None, similar
        for position, centre in enumerate(centres):
            score = float(centre @ vector)
            if score >= best_score:
                best, best_score = position, score
        if best is None:
            gaps.append(Gap(question=text))
            centres.append(vector)
            best = len(gaps) - 1
        gap = gaps[best]
        gap.count += 1
        gap.declined += miss.reason == "declined"
        gap.not_helpful += miss.reason == "not helpful"
        gap.last_asked = max(gap.last_asked, miss.asked_at)
        if text not in gap.examples and len(gap.examples) < 5:
            gap.examples.append(text)
    return sorted(gaps, key=lambda g: (-g.count, -g.last_asked))


def gaps_csv(gaps: list[Gap]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["question", "count", "declined", "not_helpful", "last_asked_utc", "examples"])
    for gap in gaps:
        writer.writerow([gap.question, gap.count, gap.declined, gap.not_helpful, gap.last_asked_iso,
                         " | ".join(gap.examples)])
    return buffer.getvalue()


def gaps_text(gaps: list[Gap], limit: int = 20) -> str:
    if not gaps:
        return "No unanswered questions recorded."
    lines = [f"{'count':>5}  {'declined':>8}  {'not helpful':>11}  {'last asked':<20}  question"]
    for gap in gaps[:limit]:
        lines.append(f"{gap.count:>5}  {gap.declined:>8}  {gap.not_helpful:>11}  {gap.last_asked_iso:<20}  {gap.question}")
        for example in gap.examples[1:3]:
            lines.append(f"{'':>52}  also: {example}")
    return "\n".join(lines)
