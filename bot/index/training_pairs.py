"""What the encoder is adapted on: (phrasing → passage) pairs taken from the corpus and the bank's train split.

Every way the corpus says a question is asked points at the text the bot quotes for it: an FAQ entry's
question and alternatives (every language) at its answer, a document's front-matter ``questions:`` at their
paragraph. The question bank's **train** split adds real-traffic wording: each answerable message at each
passage it is labelled with. Dev and test are never read here (they choose and report; see
``bot/evaluation/bank.py``). Follow-ups are left out: alone they are elliptic, and their meaning comes from
the conversation, which the encoder does not see.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.corpus.passages import corpus_passages
from bot.corpus.reader import Corpus
from bot.evaluation.bank import BankItem

log = logging.getLogger(__name__)

TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class TrainingPair:
    """A way of asking (``anchor``) and the passage text that answers it (``positive``)."""

    anchor: str
    positive: str
    group: str  # the passage group of the positive: ``faq:<id>`` or ``<document>#¶N``
    origin: str  # "faq", "document" or "bank"


def group_texts(corpus: Corpus) -> dict[str, str]:
    """The quotable text of every passage group: an FAQ answer, or a whole document paragraph.

    A paragraph too long to be one passage (it is indexed by its sentences) is rebuilt from them, so that a
    question about it still has a positive; the model truncates it as it would any long input.
    """
    passages, _ = corpus_passages(corpus)
    whole: dict[str, str] = {}
    sentences: dict[str, list[str]] = defaultdict(list)
    for passage in passages:
        if passage.id == passage.group or passage.kind == "faq":
            whole[passage.group] = passage.text
        else:
            sentences[passage.group].append(passage.text)
    return {**{group: " ".join(parts) for group, parts in sentences.items()}, **whole}


def corpus_pairs(corpus: Corpus) -> list[TrainingPair]:
    """Every phrasing of the corpus with the text it is matched to, in corpus order."""
    texts = group_texts(corpus)
    pairs: list[TrainingPair] = []
    for document in corpus.documents:
        for locator, phrasings in document.questions:
            group = f"{document.id}#{locator}"
            if group in texts:
                pairs.extend(TrainingPair(q, texts[group], group, "document") for q in phrasings)
    for entry in corpus.faq:
        group = f"faq:{entry.id}"
        pairs.extend(TrainingPair(q, entry.answer, group, "faq")
                     for q in dict.fromkeys((entry.question, *entry.alternatives)))
    return pairs


def bank_pairs(items: Iterable[BankItem], texts: dict[str, str]) -> list[TrainingPair]:
    """Each answerable train-split message with each passage it is labelled with.

    Only ``train`` items are taken, whatever is passed in. A label the corpus no longer has (an entry removed
    since the bank was written) is skipped with a warning rather than failing a build.
    """
    pairs = []
    for item in items:
        if item.split != TRAIN_SPLIT or item.decline is not None or item.context:
            continue
        for group in item.groups:
            if group not in texts:
                log.warning("bank label %s (%s item %d) is not in the corpus; not trained on", group, item.path,
                            item.position)
                continue
            pairs.append(TrainingPair(item.question, texts[group], group, "bank"))
    return pairs


def training_pairs(corpus: Corpus, bank: Iterable[BankItem] = ()) -> list[TrainingPair]:
    """The corpus's phrasings, then the bank's train messages; a repeated (anchor, group) counts once."""
    pairs = corpus_pairs(corpus) + bank_pairs(bank, group_texts(corpus))
    unique = {(p.anchor, p.group): p for p in reversed(pairs)}  # keep the first of each
    return [p for p in pairs if unique[(p.anchor, p.group)] is p]


def pairs_digest(pairs: Sequence[TrainingPair]) -> str:
    """A hash of the training data, order included (the order is part of what a seeded run sees)."""
    payload = json.dumps([[p.anchor, p.positive, p.group] for p in pairs], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
