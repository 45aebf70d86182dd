"""The question bank: realistic Discord messages, labelled, split once into train, dev and test.

Format (``tests/eval/bank/*.yaml``, described in ``tests/eval/README.md``): a YAML list of items with ``q``,
``lang``, ``category``, ``split`` and either ``answers`` (the passages that answer it: an FAQ entry id, or a
document paragraph such as ``letter#¶4``) or ``decline`` (the kind of message the bot must not answer);
follow-ups carry ``context``, the previous questions of the conversation.

The split is written into the files once (``assign_splits`` with a fixed seed, by
``tests/eval/split_bank.py``) so that it never moves: train is for fitting and tuning, dev for choosing
and calibrating, test is only reported and gated.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import UserFacingError

SPLITS = ("train", "dev", "test")
SPLIT_SEED = 20261130
# One in two items to train, one in four each to dev and test, dealt in this order within a category.
_DEAL = ("train", "dev", "train", "test")
DECLINE_KINDS = ("chitchat", "off-topic", "ai-adjacent", "injection", "trolling", "after-sources", "unknown-name")
LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "zh")
_KEYS = {"q", "lang", "category", "answers", "decline", "context", "split"}


@dataclass(frozen=True)
class BankItem:
    """One labelled message."""

    question: str
    language: str
    category: str
    answers: tuple[str, ...] = ()
    decline: str | None = None
    context: tuple[str, ...] = ()
    split: str | None = None
    path: str = ""
    position: int = 0

    @property
    def groups(self) -> tuple[str, ...]:
        """The passage groups that answer it: ``faq:<id>`` for an FAQ entry, the paragraph group as written."""
        return tuple(label if "#" in label else f"faq:{label}" for label in self.answers)

    @property
    def stratum(self) -> str:
        return self.decline or "answer"


def bank_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def load_bank(folder: Path, split: str | None = None) -> list[BankItem]:
    """Every item of the bank (of one split when ``split`` is given); a malformed item is a clear error."""
    if split is not None and split not in SPLITS:
        raise UserFacingError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    files = bank_files(folder)
    if not files:
        raise UserFacingError(f"{folder}: no question bank (*.yaml) found")
    items = [item for path in files for item in _load_file(path)]
    if split is not None:
        unsplit = [item for item in items if item.split is None]
        if unsplit:
            raise UserFacingError(f"{unsplit[0].path} item {unsplit[0].position} has no 'split': "
                                  "run tests/eval/split_bank.py to assign splits to new items")
        items = [item for item in items if item.split == split]
    return items


def _load_file(path: Path) -> list[BankItem]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserFacingError(f"{path}: not valid YAML ({exc})") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UserFacingError(f"{path}: the bank must be a YAML list of items with 'q'")
    return [_item(path, position, entry) for position, entry in enumerate(raw, start=1)]


def _item(path: Path, position: int, entry: object) -> BankItem:
    where = f"{path} item {position}"
    if not isinstance(entry, dict) or not isinstance(entry.get("q"), str) or not entry["q"].strip():
        raise UserFacingError(f"{where}: needs a 'q' message")
    unknown = set(entry) - _KEYS
    if unknown:
        raise UserFacingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    answers, decline = entry.get("answers"), entry.get("decline")
    if (answers is None) == (decline is None):
        raise UserFacingError(f"{where}: needs exactly one of 'answers' and 'decline'")
    if answers is not None and (not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers)):
        raise UserFacingError(f"{where}: 'answers' must be a list of FAQ ids or paragraphs like letter#¶4")
    if decline is not None and decline not in DECLINE_KINDS:
        raise UserFacingError(f"{where}: 'decline' must be one of {', '.join(DECLINE_KINDS)}")
    if entry.get("lang") not in LANGUAGES:
        raise UserFacingError(f"{where}: 'lang' must be one of {', '.join(LANGUAGES)}")
    if not isinstance(entry.get("category"), str):
        raise UserFacingError(f"{where}: needs a 'category'")
    split = entry.get("split")
    if split is not None and split not in SPLITS:
        raise UserFacingError(f"{where}: 'split' must be one of {', '.join(SPLITS)}")
    context = entry.get("context") or []
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise UserFacingError(f"{where}: 'context' must be a list of previous questions")
    return BankItem(entry["q"], entry["lang"], entry["category"], tuple(answers or ()), decline, tuple(context),
                    split, str(path), position)


def assign_splits(items: list[BankItem], seed: int = SPLIT_SEED) -> dict[tuple[str, int], str]:
    """A split for every item that has none, stratified by category and, within it, by answer/decline kind.

    Within a category the items are ordered by kind, shuffled inside each kind with ``seed``, and dealt
    train, dev, train, test, ... from a seeded starting point, so every category and every kind in it
    gets about half to train and a quarter each to dev and test. Items that already have a split keep it.
    """
    rng = random.Random(seed)
    by_category: dict[str, list[BankItem]] = defaultdict(list)
    for item in items:
        if item.split is None:
            by_category[item.category].append(item)
    chosen: dict[tuple[str, int], str] = {}
    for category in sorted(by_category):
        members = sorted(by_category[category], key=lambda i: (i.stratum, i.path, i.position))
        ordered: list[BankItem] = []
        for stratum in sorted({i.stratum for i in members}):
            group = [i for i in members if i.stratum == stratum]
            rng.shuffle(group)
            ordered.extend(group)
        start = rng.randrange(len(_DEAL))
        for offset, item in enumerate(ordered):
            chosen[(item.path, item.position)] = _DEAL[(start + offset) % len(_DEAL)]
    return chosen


def write_splits(folder: Path, seed: int = SPLIT_SEED) -> int:
    """Write a ``split:`` line under the ``category:`` line of every item that has none; return how many.

    The files are edited as text so that their comments and layout stay as written.
    """
    items = load_bank(folder)
    chosen = assign_splits(items, seed)
    for path in bank_files(folder):
        lines = path.read_text(encoding="utf-8").split("\n")
        out: list[str] = []
        position = 0
        for line in lines:
            if line.startswith("- q:") or line.startswith("- q :"):
                position += 1
            out.append(line)
            if line.startswith("  category:") and (str(path), position) in chosen:
                out.append(f"  split: {chosen[(str(path), position)]}")
        text = "\n".join(out)
        if text != "\n".join(lines):
            path.write_text(text, encoding="utf-8")
    written = {(item.path, item.position): item.split for item in load_bank(folder)}
    wrong = [key for key, split in chosen.items() if written.get(key) != split]
    if wrong:
        raise UserFacingError(f"{wrong[0][0]} item {wrong[0][1]}: the split line could not be placed")
    return len(chosen)
