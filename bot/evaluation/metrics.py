"""Measuring retrieval on a question set: hit@1, hit@3, MRR, declining, latency — per retriever, and per
category, language and decline kind.

Two formats. The question bank (``bot/evaluation/bank.py``): an answerable item is answered well at rank k
when the k-th excerpt belongs to one of its labelled passage groups (``faq:<id>``, ``letter#¶4``) and the
answer is offered (``answered``); a must-decline item is declined right when it is not answered, and for
chit-chat, unknown names and dates after the sources with that guard's own reply. The older clean sets
(``tests/eval/dev-questions.yaml``): items with ``q`` and either ``expect`` (phrases; answered well when any
appears, case-insensitive, in an excerpt) or ``abstain: true`` (the bot must decline).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.answer import Answer, Answerer, DeclineKind, Excerpt
from bot.errors import QuestionError, UserFacingError
from bot.evaluation.bank import BankItem, load_bank, load_bank_file
from bot.storage.atomic import write_text_atomic

RANKS_CONSIDERED = 10
# A message refused before any search ("Please ask a question in words": "k", "😂😂").
REFUSED = "refused"
# Decline kinds of the bank whose right reply is the guard's own (``Answer.decline``), not any decline. A refused
# chit-chat message is fine too: like the chit-chat reply, it is neither "not covered" nor a recorded gap.
GUARDED_KINDS = {"chitchat": (DeclineKind.CHITCHAT, REFUSED), "unknown-name": (DeclineKind.UNKNOWN_NAME,),
                 "after-sources": (DeclineKind.AFTER_SOURCES,)}


@dataclass(frozen=True)
class EvalQuestion:
    """A question to measure with: answerable (``expect`` phrases, or ``groups`` of passages) or not (``abstain``).

    Items of the bank carry their passage groups, their decline kind, category, language and conversation.
    """

    question: str
    expect: tuple[str, ...] = ()
    abstain: bool = False
    groups: tuple[str, ...] = ()
    decline_kind: str | None = None
    category: str = ""
    language: str = ""
    context: tuple[str, ...] = ()

    @classmethod
    def from_bank(cls, item: BankItem) -> EvalQuestion:
        return cls(item.question, (), item.decline is not None, item.groups, item.decline, item.category,
                   item.language, item.context)


@dataclass(frozen=True)
class QuestionResult:
    """One question's outcome: the rank of the first right excerpt (1-based), if any, and the decline kind."""

    question: EvalQuestion
    answered: bool
    rank: int | None
    confidence: float
    latency_ms: float
    decline: str | None = None
    first: str = ""

    @property
    def declined_right(self) -> bool:
        """Not answered, and for the guarded kinds (chit-chat, unknown names, after the sources) with the
        guard's own reply."""
        wanted = GUARDED_KINDS.get(self.question.decline_kind or "")
        return not self.answered and (wanted is None or self.decline in wanted)


@dataclass(frozen=True)
class RetrieverReport:
    retriever: str
    results: tuple[QuestionResult, ...] = field(repr=False)

    @property
    def answerable(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.question.abstain]

    @property
    def out_of_scope(self) -> list[QuestionResult]:
        return [r for r in self.results if r.question.abstain]

    def hit_at(self, k: int) -> float:
        """Share of answerable questions answered with a right excerpt among the first k."""
        rows = self.answerable
        return sum(1 for r in rows if r.answered and r.rank is not None and r.rank <= k) / len(rows) if rows else 0.0

    @property
    def mrr(self) -> float:
        rows = self.answerable
        return sum(1 / r.rank for r in rows if r.answered and r.rank) / len(rows) if rows else 0.0

    @property
    def decline_accuracy(self) -> float:
        """Decline recall: the share of must-decline questions declined (with the guard's reply where one is due)."""
        rows = self.out_of_scope
        return sum(1 for r in rows if r.declined_right) / len(rows) if rows else 0.0

    @property
    def declined_out_of_scope(self) -> int:
        return sum(1 for r in self.out_of_scope if r.declined_right)

    @property
    def false_declines(self) -> int:
        return sum(1 for r in self.answerable if not r.answered)

    @property
    def false_decline_rate(self) -> float:
        rows = self.answerable
        return self.false_declines / len(rows) if rows else 0.0

    def latency(self, percentile: float) -> float:
        values = sorted(r.latency_ms for r in self.results)
        if not values:
            return 0.0
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(percentile) - 1]

    def misses(self, k: int = 3) -> list[QuestionResult]:
        return [r for r in self.answerable if not (r.answered and r.rank and r.rank <= k)]

    def subset(self, keep: Callable[[EvalQuestion], bool]) -> RetrieverReport:
        return RetrieverReport(self.retriever, tuple(r for r in self.results if keep(r.question)))

    def breakdown(self, key: Callable[[EvalQuestion], str]) -> dict[str, RetrieverReport]:
        """One sub-report per value of ``key`` (category, language, decline kind), in sorted order."""
        values = sorted({key(r.question) for r in self.results} - {""})
        return {value: RetrieverReport(self.retriever, tuple(r for r in self.results if key(r.question) == value))
                for value in values}

    def summary(self) -> dict[str, float | int]:
        """The quality numbers of this report (no latency)."""
        return {
            "hit@1": round(self.hit_at(1), 4), "hit@3": round(self.hit_at(3), 4), "mrr": round(self.mrr, 4),
            "decline_accuracy": round(self.decline_accuracy, 4),
            "declined": self.declined_out_of_scope, "out_of_scope": len(self.out_of_scope),
            "false_declines": self.false_declines, "answerable": len(self.answerable),
        }

    def metrics(self) -> dict[str, object]:
        result: dict[str, object] = {"retriever": self.retriever, **self.summary(),
                                     "false_decline_rate": round(self.false_decline_rate, 4),
                                     "p50_ms": round(self.latency(50), 2), "p99_ms": round(self.latency(99), 2)}
        for name, key in BREAKDOWNS.items():
            parts = self.breakdown(key)
            if parts:
                result[name] = {value: part.summary() for value, part in parts.items()}
        return result


BREAKDOWNS: dict[str, Callable[[EvalQuestion], str]] = {
    "by_category": lambda q: q.category,
    "by_language": lambda q: q.language,
    "by_decline_kind": lambda q: q.decline_kind or "",
}


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question set (``expect``/``abstain`` items, or one file of the bank); raise a clear error for a
    malformed file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserFacingError(f"{path}: question set not found") from None
    except IsADirectoryError:
        return [EvalQuestion.from_bank(item) for item in load_bank(path)]
    except yaml.YAMLError as exc:
        raise UserFacingError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, list):
        raise UserFacingError(f"{path}: a question set must be a YAML list of items with 'q'")
    if any(isinstance(item, dict) and ("answers" in item or "decline" in item) for item in raw):
        return [EvalQuestion.from_bank(item) for item in load_bank_file(path)]
    questions = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise UserFacingError(f"{path}: item {position} has no 'q' question")
        expect = item.get("expect") or []
        abstain = bool(item.get("abstain", False))
        if not abstain and not expect:
            raise UserFacingError(f"{path}: item {position} needs 'expect' phrases or 'abstain: true'")
        questions.append(EvalQuestion(item["q"], tuple(str(e) for e in expect), abstain))
    return questions


def load_bank_questions(folder: Path, split: str | None) -> list[EvalQuestion]:
    """The bank's items (of one split) as questions to measure with."""
    return [EvalQuestion.from_bank(item) for item in load_bank(folder, split)]


def excerpt_group(excerpt: Excerpt) -> str:
    """The passage group an excerpt belongs to: ``faq:<id>``, or ``<document>#¶N`` for a paragraph or its sentences."""
    source = excerpt.source
    if source.kind == "faq":
        return source.doc_id
    return f"{source.doc_id}#{source.locator.split('.')[0]}"


def first_matching_rank(answer: Answer, expect: tuple[str, ...]) -> int | None:
    phrases = [e.lower() for e in expect]
    for rank, excerpt in enumerate(answer.excerpts, start=1):
        text = excerpt.text.lower()
        if any(phrase in text for phrase in phrases):
            return rank
    return None


def first_group_rank(answer: Answer, groups: tuple[str, ...]) -> int | None:
    for rank, excerpt in enumerate(answer.excerpts, start=1):
        if excerpt_group(excerpt) in groups:
            return rank
    return None


def evaluate(answerer: Answerer, questions: list[EvalQuestion], retriever: str) -> RetrieverReport:
    # One untimed question first: the keyword index and the model's first call should not count as latency.
    answerer.answer("What does the letter ask governments to do?", retriever=retriever)
    results = []
    for item in questions:
        try:
            answer = answerer.answer(item.question, item.context, retriever=retriever, limit=RANKS_CONSIDERED)
        except QuestionError:
            results.append(QuestionResult(item, False, None, 0.0, 0.0, REFUSED))
            continue
        rank = first_group_rank(answer, item.groups) if item.groups else first_matching_rank(answer, item.expect)
        first = excerpt_group(answer.excerpts[0]) if answer.excerpts else ""
        results.append(QuestionResult(item, answer.answered, rank, answer.confidence, answer.latency_ms,
                                      answer.decline, first))
    return RetrieverReport(retriever, tuple(results))


def format_table(reports: list[RetrieverReport]) -> str:
    """The side-by-side table that `redlines-bot eval` prints."""
    header = f"{'retriever':<11} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'decline':>14} {'false decl.':>11} {'p50 ms':>7} {'p99 ms':>7}"
    lines = [header, "-" * len(header)]
    for report in reports:
        m = report.metrics()
        decline = f"{m['decline_accuracy']:.2f} ({m['declined']}/{m['out_of_scope']})"
        false = f"{m['false_declines']}/{m['answerable']}"
        lines.append(f"{report.retriever:<11} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['mrr']:>6.3f} {decline:>14} "
                     f"{false:>11} {m['p50_ms']:>7.1f} {m['p99_ms']:>7.1f}")
    return "\n".join(lines)


def _cell(report: RetrieverReport) -> str:
    def number(value: float, present: bool) -> str:
        return f"{value:.2f}" if present else "  - "

    has_answerable, has_declines = bool(report.answerable), bool(report.out_of_scope)
    return (f"{number(report.hit_at(1), has_answerable)} {number(report.hit_at(3), has_answerable)} "
            f"{number(report.decline_accuracy, has_declines)} {report.false_declines:>2}")


def format_breakdown(reports: list[RetrieverReport], name: str) -> str:
    """Per category / language / decline kind, every retriever side by side: hit@1, hit@3 (answerable),
    decline recall (must-decline) and false declines, with the counts of each kind of question."""
    key = BREAKDOWNS[name]
    parts = [report.breakdown(key) for report in reports]
    if not parts or not parts[0]:
        return ""
    title = name.removeprefix("by_").replace("_", " ")
    width = 19
    header = f"{title:<15} {'ans':>4} {'decl':>4}  " + "  ".join(f"{r.retriever:<{width}}" for r in reports)
    sub = f"{'':<15} {'':>4} {'':>4}  " + "  ".join(f"{'h@1  h@3  decl fd':<{width}}" for _ in reports)
    lines = [header, sub, "-" * len(header)]
    for value, first in parts[0].items():
        cells = "  ".join(f"{_cell(part[value]):<{width}}" for part in parts)
        lines.append(f"{value:<15} {len(first.answerable):>4} {len(first.out_of_scope):>4}  {cells}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Calibration:
    """A proposed decline threshold and the numbers behind it."""

    threshold: float
    declined: int
    out_of_scope: int
    false_declines: int
    answerable: int
    allowed_false_declines: int

    def summary(self) -> str:
        return (f"declines {self.declined}/{self.out_of_scope} out-of-scope questions, "
                f"falsely declines {self.false_declines}/{self.answerable} answerable "
                f"(at most {self.allowed_false_declines} allowed: one in thirty)")


def calibrate(report: RetrieverReport) -> Calibration:
    """Propose the threshold that declines the most out-of-scope questions while falsely declining at
    most one answerable question in thirty.

    Any threshold up to the confidence of the answerable question that may still be declined keeps
    that budget; among them, the ones that decline the most out-of-scope questions form a gap between
    the highest such out-of-scope confidence and the next answerable one. The threshold goes in the
    middle of that gap, so it spends no more false declines than it must and leaves room either side.
    """
    answerable = sorted(r.confidence for r in report.answerable)
    if not answerable:
        raise UserFacingError("the question set has no answerable questions to calibrate with")
    allowed = len(answerable) // 30
    ceiling = answerable[allowed]
    below = [r.confidence for r in report.out_of_scope if r.confidence < ceiling]
    if below:
        floor = max(below)
        above = [c for c in answerable if c > floor]
        threshold = min(ceiling, (floor + above[0]) / 2 if above else ceiling)
    else:
        threshold = min(ceiling, answerable[0])
    threshold = round(threshold, 3)
    declined = sum(1 for r in report.out_of_scope if r.confidence < threshold)
    false = sum(1 for c in answerable if c < threshold)
    return Calibration(threshold, declined, len(report.out_of_scope), false, len(answerable), allowed)


def write_threshold(config_path: Path, calibration: Calibration, retriever: str, questions: Path) -> None:
    """Record the threshold in config.yaml, with the numbers behind it, keeping every other line."""
    lines = config_path.read_text(encoding="utf-8").split("\n")
    stamp = dt.date.today().isoformat()
    note = (f"  # calibrated {stamp} on {questions.name} with {retriever}: {calibration.summary()}")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# calibrated "):
            continue
        if stripped.startswith("decline_threshold:"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(note.replace("  ", indent, 1))
            out.append(f"{indent}decline_threshold: {calibration.threshold}")
            continue
        out.append(line)
    write_text_atomic(config_path, "\n".join(out))


def plot_confidences(report: RetrieverReport, threshold: float, path: Path) -> None:
    """Histogram of answerable vs out-of-scope confidences with the threshold marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserFacingError("--plot needs matplotlib: pip install 'redlines-bot[plot]'") from None
    figure, axes = plt.subplots(figsize=(8, 4.5))
    bins = [i / 40 for i in range(0, 41)]
    axes.hist([r.confidence for r in report.answerable], bins=bins, alpha=0.7, label="answerable", color="#2a7")
    axes.hist([r.confidence for r in report.out_of_scope], bins=bins, alpha=0.7, label="out of scope", color="#c33")
    axes.axvline(threshold, color="black", linestyle="--", label=f"decline threshold {threshold:.3f}")
    axes.set_xlabel("confidence of the best passage")
    axes.set_ylabel("questions")
    axes.set_title(f"Confidence by question kind ({report.retriever})")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
