"""Fitting the ranking and decision models of a new index generation on the question bank.

Run by ``index build`` on the generation it is building (so the models always match its passages): every
message of the bank's train split is searched on it; the ranker, a logistic regression over
``bot.core.ranking.FEATURES``, learns which candidate is a labelled answer; the decision, a logistic
regression over ``bot.core.decision.FEATURES`` and the message's embedding, learns which messages are
answerable. The decision's threshold is then calibrated on the dev split: the one that declines the most
must-decline messages while falsely declining at most ``FALSE_DECLINE_BUDGET`` of the answerable ones. The
test split is never read here. Everything is deterministic (lbfgs, fixed order), so a rebuild of the same
corpus fits the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Config
from bot.core.answer import Analysis, Answerer, LiveIndex
from bot.core.decision import EMBEDDING, NEIGHBOUR_FEATURES, DecisionModel, decision_features, neighbour_features, project
from bot.core.decision import FEATURES as DECISION_FEATURES
from bot.core.language import detect_language
from bot.core.quality_models import MODELS_FILE, QualityModels
from bot.core.ranking import FEATURES as RANKING_FEATURES
from bot.core.ranking import LinearModel, candidate_features, rank
from bot.core.text import clean_question
from bot.errors import QuestionError, UserFacingError
from bot.evaluation.bank import BankItem, load_bank
from bot.index.encoder import Encoder
from bot.index.store import Derive, SearchIndex

log = logging.getLogger(__name__)

NEIGHBOUR_DIMENSIONS = 48     # the space nearest training messages are found in (principal components)
FALSE_DECLINE_BUDGET = 0.02   # calibrate below the 3 % target, to leave room for messages not seen yet
RANKER_C = 1.0
DECISION_C = 3.0


@dataclass(frozen=True)
class Searched:
    """One bank message as the answerer sees it before ranking and deciding."""

    item: BankItem
    message: str
    seen: Analysis

    @property
    def guarded(self) -> bool:
        """Handled before the decision: chit-chat, an unknown name or a time after the sources."""
        return self.seen.chitchat or self.seen.missing_name is not None or self.seen.after_sources is not None


def search_bank(answerer: Answerer, index: SearchIndex, items: list[BankItem]) -> list[Searched]:
    searched = []
    for item in items:
        try:
            cleaned = answerer.validate(item.question)
        except QuestionError:
            continue
        language = detect_language(cleaned)
        context = tuple(clean_question(c) for c in item.context)
        seen = answerer.analyse(cleaned, context, answerer.settings.retriever, index, language)
        searched.append(Searched(item, cleaned, seen))
    return searched


def _standardised(rows: np.ndarray, keep_raw: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale per column; the last ``keep_raw`` columns (the embedding) are left as they are."""
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    if keep_raw:
        mean[-keep_raw:], scale[-keep_raw:] = 0.0, 1.0
    return mean, scale


def _logistic(rows: np.ndarray, labels: np.ndarray, names: tuple[str, ...], c: float, keep_raw: int = 0) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = _standardised(rows, keep_raw)
    fitted = LogisticRegression(C=c, max_iter=5000).fit((rows - mean) / scale, labels)
    return LinearModel(names, mean, scale, fitted.coef_[0].astype(float), float(fitted.intercept_[0]))


def fit_ranker(index: SearchIndex, train: list[Searched]) -> LinearModel | None:
    """A pairwise logistic regression (RankNet with a linear scorer): for every message, each labelled answer
    among its candidates against each other candidate; what matters is the order within one question."""
    from sklearn.linear_model import LogisticRegression

    per_question = []
    for searched in train:
        if searched.item.decline or searched.guarded or not searched.seen.candidates:
            continue
        assert searched.seen.query is not None
        rows = candidate_features(index, searched.seen.query, searched.seen.candidates)
        labels = np.asarray([index.passages[c.passage].group in searched.item.groups for c in searched.seen.candidates])
        if labels.any() and not labels.all():
            per_question.append((rows, labels))
    if not per_question:
        return None
    mean, scale = _standardised(np.vstack([rows for rows, _ in per_question]))
    pairs, sides = [], []
    for rows, labels in per_question:
        scaled = (rows - mean) / scale
        for better in np.flatnonzero(labels):
            for worse in np.flatnonzero(~labels):
                pairs += [scaled[better] - scaled[worse], scaled[worse] - scaled[better]]
                sides += [1, 0]
    fitted = LogisticRegression(C=RANKER_C, max_iter=5000, fit_intercept=False).fit(np.asarray(pairs), np.asarray(sides))
    return LinearModel(RANKING_FEATURES, mean, scale, fitted.coef_[0].astype(float), 0.0)


@dataclass(frozen=True)
class DecisionData:
    """The messages that reach the decision: their base features, vectors, and whether each is answerable."""

    base: np.ndarray
    vectors: np.ndarray
    answerable: np.ndarray
    searched: list[Searched]

    def rows(self, exemplars: DecisionData, projection: np.ndarray | None = None) -> np.ndarray:
        """Full rows against ``exemplars``' messages (a message is never its own neighbour), neighbours found in
        the ``projection``'s space."""
        same = exemplars is self
        space = np.asarray([project(v, projection) for v in exemplars.vectors])
        return np.asarray([np.concatenate([base, neighbour_features(project(vector, projection), space,
                                                                    exemplars.answerable, i if same else None), vector])
                           for i, (base, vector) in enumerate(zip(self.base, self.vectors, strict=True))])


def decision_data(index: SearchIndex, searched: list[Searched], ranker: LinearModel | None) -> DecisionData:
    base, vectors, labels, kept = [], [], [], []
    for one in searched:
        if one.guarded or one.seen.query is None:
            continue
        ranked = rank(index, one.seen.query, one.seen.candidates, ranker)
        base.append(decision_features(index, one.seen.query, ranked, one.message))
        vectors.append(one.seen.query.vector.astype(np.float32))
        labels.append(one.item.decline is None)
        kept.append(one)
    width = len(DECISION_FEATURES)
    return DecisionData(np.asarray(base).reshape(-1, width), np.asarray(vectors, dtype=np.float32),
                        np.asarray(labels, dtype=bool), kept)


def calibrate(scores: np.ndarray, answerable: np.ndarray, budget: float = FALSE_DECLINE_BUDGET) -> float:
    """The threshold that declines the most must-decline messages while declining at most ``budget`` of the
    answerable ones, placed midway between the scores either side of it."""
    values = np.unique(scores)
    best, best_declined = float(values[0]) - 1.0, -1.0
    allowed = int(np.floor(budget * answerable.sum()))
    for low, high in zip(values[:-1], values[1:], strict=True):
        threshold = (low + high) / 2
        if (scores[answerable] < threshold).sum() > allowed:
            break
        declined = (scores[~answerable] < threshold).mean() if (~answerable).any() else 0.0
        if declined > best_declined:
            best, best_declined = float(threshold), float(declined)
    return best


def fit_decision(train: DecisionData, dev: DecisionData) -> DecisionModel | None:
    if len(train.base) == 0 or len(set(train.answerable.tolist())) < 2:
        return None
    projection = principal_components(train.vectors, NEIGHBOUR_DIMENSIONS)
    rows = train.rows(train, projection)
    dimension = train.vectors.shape[1]
    names = (*DECISION_FEATURES, *NEIGHBOUR_FEATURES, *(f"{EMBEDDING}[{i}]" for i in range(dimension)))
    linear = _logistic(rows, train.answerable, names, DECISION_C, keep_raw=dimension)
    exemplars = np.asarray([project(v, projection) for v in train.vectors], dtype=np.float32)
    if len(dev.base) and len(set(dev.answerable.tolist())) == 2:
        threshold = calibrate(linear.score(dev.rows(train, projection)), dev.answerable)
    else:
        threshold = calibrate(linear.score(rows), train.answerable)
    return DecisionModel(linear, threshold, exemplars, train.answerable.copy(), projection=projection)


def principal_components(vectors: np.ndarray, count: int) -> np.ndarray | None:
    """The ``count`` leading principal directions of the vectors (as columns), from their SVD (deterministic)."""
    if len(vectors) <= count:
        return None
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    components = directions[:count].T
    # A fixed sign for each direction, so that a rebuild gives the very same numbers.
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(count)])
    return (components * signs).astype(np.float32)


def _rates(declined: np.ndarray, answerable: np.ndarray) -> dict[str, float]:
    return {"decline_recall": round(float(declined[~answerable].mean()), 4) if (~answerable).any() else 0.0,
            "false_declines": round(float(declined[answerable].mean()), 4) if answerable.any() else 0.0}


def compare_rules(train_data: DecisionData, dev_data: DecisionData,
                  decision: DecisionModel | None) -> list[dict[str, Any]]:
    """Each candidate decline rule, its threshold calibrated on dev like the fitted one, measured on the
    messages that reach the decision (the guards have taken theirs): train and dev side by side."""
    column = {name: i for i, name in enumerate(DECISION_FEATURES)}
    projection = decision.projection if decision is not None else None
    train = (train_data.rows(train_data, projection), train_data.answerable)
    dev = (dev_data.rows(train_data, projection), dev_data.answerable)
    rules: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
        ("today's rule: confidence (cosine + word share)", lambda r: r[:, column["old_confidence"]]),
        ("IDF-weighted word coverage of the best passage", lambda r: r[:, column["coverage"]]),
        ("share of words the corpus never uses (lower answers)", lambda r: -r[:, column["unknown_words"]]),
        ("margin between the first and second passage", lambda r: r[:, column["margin"]]),
        ("best cosine", lambda r: r[:, column["dense"]]),
    ]
    if decision is not None:
        rules.append(("logistic regression (all features + embedding)", lambda r: decision.linear.score(r)))
    table = []
    for name, score in rules:
        threshold = decision.threshold if name.startswith("logistic") and decision else calibrate(score(dev[0]), dev[1])
        table.append({"rule": name, "threshold": round(threshold, 4),
                      "train": _rates(score(train[0]) < threshold, train[1]),
                      "dev": _rates(score(dev[0]) < threshold, dev[1])})
    return table


def fit_quality_models(index: SearchIndex, encoder: Encoder, config: Config, bank: Path,
                       extra: Path | None = None) -> QualityModels | None:
    """Fit the models for ``index`` on the bank at ``bank`` (train split, plus the training-only messages in
    ``extra`` when that folder exists); ``None`` when there is no bank to fit on."""
    try:
        train_items, dev_items = load_bank(bank, "train"), load_bank(bank, "dev")
        if extra is not None and extra.is_dir():
            train_items += load_bank(extra, "train")
    except UserFacingError as exc:  # no bank, or one without splits: no models, the old rules answer
        log.info("no quality models fitted: %s", exc)
        return None
    known = {p.group for p in index.passages}
    usable = [i for i in train_items if i.decline or any(g in known for g in i.groups)]
    if len(usable) < 20:
        log.info("no quality models fitted: the bank's labels do not match this corpus")
        return None
    answerer = Answerer(config.retrieval, encoder, LiveIndex(index))
    train = search_bank(answerer, index, usable)
    dev = search_bank(answerer, index, [i for i in dev_items if i.decline or any(g in known for g in i.groups)])
    ranker = fit_ranker(index, train)
    train_data = decision_data(index, train, ranker)
    dev_data = decision_data(index, dev, ranker)
    decision = fit_decision(train_data, dev_data)
    report = {"bank": str(bank), "extra": str(extra) if extra else None, "train_messages": len(train), "dev_messages": len(dev),
              "decline_rules": compare_rules(train_data, dev_data, decision) if len(dev_data.base) else []}
    return QualityModels(ranker, decision, report)


def quality_deriver(config: Config, encoder: Encoder) -> Derive:
    """What ``build_index`` calls on a new generation: the fitted models as a file, and a manifest note."""

    def derive(index: SearchIndex) -> tuple[dict[str, bytes], dict[str, Any]]:
        models = fit_quality_models(index, encoder, config, config.eval_bank, config.train_extra)
        if models is None:
            return {}, {"quality_models": None}
        note = {"file": MODELS_FILE, "fitted_on": "question bank train split, calibrated on dev",
                "ranker": models.ranker is not None, "decision": models.decision is not None}
        return {MODELS_FILE: models.to_bytes()}, {"quality_models": note}

    return derive


def format_rule_comparison(rules: list[dict[str, Any]]) -> str:
    """The decline rules compared when the models were fitted (printed by `redlines-bot eval`)."""
    header = f"{'decline rule (threshold calibrated on dev)':<52} {'train: recall':>13} {'false':>6} {'dev: recall':>12} {'false':>6}"
    lines = [header, "-" * len(header)]
    for rule in rules:
        train, dev = rule["train"], rule["dev"]
        lines.append(f"{rule['rule'][:52]:<52} {train['decline_recall']:>13.2f} {train['false_declines']:>6.3f} "
                     f"{dev['decline_recall']:>12.2f} {dev['false_declines']:>6.3f}")
    return "\n".join(lines)
