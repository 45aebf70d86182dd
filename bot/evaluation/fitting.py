"""Fitting the models of a new index generation on the question bank.

Run by ``index build`` on the generation it is building (so the models always match its passages), in order:

1. the message-kind classifier (``core.message_kind``) on the train split's messages and the FAQ's own questions,
   with each training message's out-of-fold probabilities kept;
2. every train and dev message is searched on the generation, the learned guards in place (out of fold for train);
3. the ranking's learned evidence: the labelled neighbours (``core.neighbours``) and the passage classifier
   (``core.passage_classifier``), again with out-of-fold values for the training messages themselves;
4. the ranker, a pairwise logistic regression over ``bot.core.ranking.FEATURES``;
5. the decision, a logistic regression over ``bot.core.decision.FEATURES``, the nearest training messages and the
   embedding, chosen by cross-validation on train; its threshold calibrated on dev (the bank's dev split and the
   clean dev questions): the one that declines the most must-decline messages while falsely declining at most
   ``FALSE_DECLINE_BUDGET`` of the answerable ones.

The test split is never read here. Everything is deterministic (lbfgs, fixed folds and order), so a rebuild of the
same corpus fits the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Config
from bot.core.answer import Analysis, Answerer, LiveIndex, searched_text
from bot.core.decision import EMBEDDING, NEIGHBOUR_FEATURES, DecisionModel, decision_features, neighbour_features
from bot.core.decision import FEATURES as DECISION_FEATURES
from bot.core.language import detect_language
from bot.core.message_kind import DIMENSIONS, GUARDED, KINDS, KindModel, hashed
from bot.core.neighbours import LabelledMessages
from bot.core.passage_classifier import PassageClassifier
from bot.core.quality_models import MODELS_FILE, QualityModels
from bot.core.ranking import FEATURES as RANKING_FEATURES
from bot.core.ranking import GroupEvidence, LinearModel, candidate_features, group_evidence, rank
from bot.core.text import clean_question
from bot.core.vectors import project
from bot.errors import QuestionError, UserFacingError
from bot.evaluation.bank import BankItem, load_bank
from bot.evaluation.metrics import load_questions
from bot.index.encoder import Encoder
from bot.index.store import Derive, SearchIndex

log = logging.getLogger(__name__)

NEIGHBOUR_DIMENSIONS = 48     # the space nearest training messages are found in (principal components)
# The space the ranking's labelled neighbours are compared in: 128 principal components keep their cosines
# (correlation 0.996 with the full space's, 91 % of the 5 nearest the same) at a third of the matrix read on
# every question; on dev, hit@1 0.870 -> 0.878, hit@3 unchanged, one must-decline message fewer declined.
# (48 components, as for the decision, lost ranking quality: dev hit@1 0.861 -> 0.852.)
LABELLED_DIMENSIONS = 128
FALSE_DECLINE_BUDGET = 0.01   # calibrate below the 3 % target: messages not seen yet are declined more often
RANKER_C = 1.0               # measured on dev at 0.1, 0.3, 1, 3 and 10: the same rankings
DECISION_C_GRID = (0.1, 0.3, 1.0, 3.0)
DECISION_FOLDS = 5
KIND_C_GRID = (1.0, 3.0, 10.0, 30.0)   # chosen by cross-validated log-loss on train
KIND_FOLDS = 5
# The embedding enters the kind classifier scaled down, i.e. regularised harder than the words: at full scale
# its weights grew large enough to call plain questions about the call "after the sources" (p 0.95).
KIND_EMBEDDING_SCALE = 0.3
CLASSIFIER_C = 10.0          # the passage classifier (measured: 0.72 out-of-fold hit@1 alone at 10 and at 30)
CLASSIFIER_FOLDS = 5
GUARD_FALSE_RATE = 0.005      # a learned guard may catch at most this share of answerable messages (out of fold)


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


@dataclass(frozen=True)
class Message:
    """A bank item read the way the answerer reads it: cleaned, its language, its conversation and the embedding
    of what is searched for it."""

    item: BankItem
    cleaned: str
    language: str
    context: tuple[str, ...]
    vector: np.ndarray


def read_messages(answerer: Answerer, items: list[BankItem]) -> list[Message]:
    """The valid items, encoded in batches (an item the answerer would refuse is left out)."""
    read = []
    for item in items:
        try:
            cleaned = answerer.validate(item.question)
        except QuestionError:
            continue
        language = detect_language(cleaned)
        context = tuple(clean_question(c) for c in item.context)
        read.append((item, cleaned, language, context, searched_text(cleaned, context, language)[1]))
    vectors = answerer.encoder.encode_queries([r[4] for r in read]) if read else np.zeros((0, 1))
    return [Message(item, cleaned, language, context, vector)
            for (item, cleaned, language, context, _), vector in zip(read, vectors, strict=True)]


def search_bank(answerer: Answerer, index: SearchIndex, messages: list[Message],
                kinds_of: dict[BankItem, dict[str, float]] | None = None) -> list[Searched]:
    """Each message as the answerer sees it; ``kinds_of``: out-of-fold message-kind probabilities of training
    items."""
    return [Searched(m.item, m.cleaned,
                     answerer.analyse(m.cleaned, m.context, answerer.settings.retriever, index, m.language,
                                      (kinds_of or {}).get(m.item), m.vector))
            for m in messages]


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


def labelled_messages(index: SearchIndex, train: list[Searched]) -> tuple[LabelledMessages, dict[int, int]]:
    """The answerable training messages as the ranking's neighbours (``core.neighbours``), labelled with the
    groups of this generation that answer them, and each message's row (by its position in ``train``)."""
    universe = tuple(sorted({p.group for p in index.passages}))
    known = set(universe)
    vectors: list[np.ndarray] = []
    labels: list[list[str]] = []
    rows: dict[int, int] = {}
    for position, searched in enumerate(train):
        if searched.item.decline or searched.guarded or searched.seen.query is None:
            continue
        groups = [g for g in searched.item.groups if g in known]
        if groups:
            rows[position] = len(vectors)
            vectors.append(searched.seen.query.vector)
            labels.append(groups)
    projection = principal_components(np.asarray(vectors), LABELLED_DIMENSIONS) if vectors else None
    return LabelledMessages.of(vectors, labels, universe, projection), rows


@dataclass(frozen=True)
class Learned:
    """The learned evidence's models, and for training messages their own rows (by position in ``train``):
    left out of the neighbours, and out-of-fold classifier probabilities."""

    neighbours: LabelledMessages | None
    classifier: PassageClassifier | None
    rows_of: dict[int, int]
    classified: dict[int, np.ndarray]
    classified_own: dict[int, np.ndarray] = field(default_factory=dict)  # follow-ups: from their own words

    def evidence(self, searched: Searched, position: int | None) -> GroupEvidence | None:
        """For a training message (``position``) or any other (``None``)."""
        assert searched.seen.query is not None
        if position is None:
            return group_evidence(self.neighbours, self.classifier, searched.seen.query)
        return group_evidence(self.neighbours, self.classifier, searched.seen.query, self.rows_of.get(position),
                              self.classified.get(position), self.classified_own.get(position))


def fit_ranker(index: SearchIndex, train: list[Searched], learned: Learned | None = None) -> LinearModel | None:
    """A pairwise logistic regression (RankNet with a linear scorer): for every message, each labelled answer
    among its candidates against each other candidate; what matters is the order within one question. A
    message's learned evidence never comes from a model that saw it (``Learned``)."""
    from sklearn.linear_model import LogisticRegression

    per_question = []
    for position, searched in enumerate(train):
        if searched.item.decline or searched.guarded or not searched.seen.candidates:
            continue
        assert searched.seen.query is not None
        rows = candidate_features(index, searched.seen.query, searched.seen.candidates,
                                  learned.evidence(searched, position) if learned else None)
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


def decision_data(index: SearchIndex, searched: list[Searched], ranker: LinearModel | None,
                  learned: Learned | None = None, training: bool = False) -> DecisionData:
    """The decision's rows for ``searched`` (``training``: the training messages themselves)."""
    base, vectors, labels, kept = [], [], [], []
    for position, one in enumerate(searched):
        if one.guarded or one.seen.query is None:
            continue
        evidence = learned.evidence(one, position if training else None) if learned else None
        ranked = rank(index, one.seen.query, one.seen.candidates, ranker, evidence)
        base.append(decision_features(index, one.seen.query, ranked, one.message, one.seen.kind_answer))
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


def fit_decision(train: DecisionData, dev: DecisionData) -> tuple[DecisionModel | None, dict[str, Any]]:
    """The decline model, chosen by cross-validation on train: with or without the message's embedding, and
    its regularisation (``DECISION_C_GRID``), by out-of-fold log-loss; its threshold calibrated on dev.
    (Calibrating on train's out-of-fold scores and dev's together was measured too, 4-fold over the
    training-only messages: false declines 4.3 % against 6.6 %, but decline recall 0.78 against 0.83, and
    clean off-topic questions such as "Who is Taylor Swift?" answered: dev, drawn like the test split, stays.)"""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    if len(train.base) < 2 * DECISION_FOLDS or len(set(train.answerable.tolist())) < 2:
        return None, {}
    projection = principal_components(train.vectors, NEIGHBOUR_DIMENSIONS)
    rows = train.rows(train, projection)
    dimension = train.vectors.shape[1]
    names = (*DECISION_FEATURES, *NEIGHBOUR_FEATURES, *(f"{EMBEDDING}[{i}]" for i in range(dimension)))
    labels = train.answerable
    folds = list(StratifiedKFold(DECISION_FOLDS, shuffle=True, random_state=0).split(rows, labels))
    compared, best = [], None
    for embedding in (True, False):
        columns = rows.shape[1] if embedding else rows.shape[1] - dimension
        for c in DECISION_C_GRID:
            out_of_fold = np.zeros(len(rows))
            for fit_rows, held_rows in folds:
                model = _logistic(rows[fit_rows, :columns], labels[fit_rows], names[:columns], c,
                                  keep_raw=dimension if embedding else 0)
                out_of_fold[held_rows] = model.score(rows[held_rows, :columns])
            loss = float(log_loss(labels, 1.0 / (1.0 + np.exp(-out_of_fold)), labels=[False, True]))
            compared.append({"embedding": embedding, "c": c, "log_loss": round(loss, 4)})
            if best is None or loss < best[0]:
                best = (loss, embedding, c, out_of_fold)
    assert best is not None
    _, embedding, c, out_of_fold = best
    columns = rows.shape[1] if embedding else rows.shape[1] - dimension
    fitted = _logistic(rows[:, :columns], labels, names[:columns], c, keep_raw=dimension if embedding else 0)
    if not embedding:  # the stored model reads the full row; the embedding weighs nothing
        fitted = LinearModel(names, np.concatenate([fitted.mean, np.zeros(dimension)]),
                             np.concatenate([fitted.scale, np.ones(dimension)]),
                             np.concatenate([fitted.weights, np.zeros(dimension)]), fitted.intercept)
    # Calibrated on dev, the split kept for it (it is drawn like the test split); out of fold on train only
    # when there is no dev split to calibrate on.
    scores, answerable = out_of_fold, labels
    if len(dev.base) and len(set(dev.answerable.tolist())) == 2:
        scores, answerable = fitted.score(dev.rows(train, projection)), dev.answerable
    threshold = calibrate(scores, answerable)
    exemplars = np.asarray([project(v, projection) for v in train.vectors], dtype=np.float32)
    report = {"chosen": {"embedding": embedding, "c": c}, "compared": compared, "threshold": round(threshold, 4)}
    return DecisionModel(fitted, threshold, exemplars, train.answerable.copy(), projection=projection), report


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


def kind_of(item: BankItem) -> str:
    """The message-kind class of a bank item (``core.message_kind.KINDS``)."""
    if item.decline is None:
        return "answer"
    return item.decline if item.decline in GUARDED else "decline"


def hashed_matrix(texts: list[str], vectors: np.ndarray | None = None) -> Any:
    """Messages as rows of hashed terms (``core.message_kind.hashed``), followed by their embeddings when given."""
    from scipy.sparse import csr_matrix, hstack

    indptr, indices, values = [0], [], []
    for text in texts:
        positions, weights = hashed(text)
        indices.extend(positions.tolist())
        values.extend(weights.tolist())
        indptr.append(len(indices))
    rows = csr_matrix((values, indices, indptr), shape=(len(texts), DIMENSIONS))
    return hstack([rows, csr_matrix(vectors.astype(np.float64))]).tocsr() if vectors is not None else rows


def _kind_regression(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    # Balanced: chit-chat and the other guarded kinds are a small share of the bank; unweighted, the model
    # would rarely find any of them likelier than "answer".
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


def fit_kinds(train: list[Message], dev: list[Message], questions: tuple[list[str], np.ndarray] | None = None
              ) -> tuple[KindModel | None, dict[str, Any], dict[BankItem, dict[str, float]]]:
    """The message-kind classifier (words and character n-grams of the message, and its embedding): C chosen
    by cross-validated log-loss on train; each guard's threshold the lowest probability that catches at most
    ``GUARD_FALSE_RATE`` of the answerable messages, measured on the out-of-fold probabilities of train and
    the probabilities of dev together. Also returns each training item's out-of-fold probabilities.

    ``questions``: the corpus's own FAQ questions and phrasings with their embeddings, answerable by
    definition, added to every fold's training rows: the bank's answerable messages are mostly casual, and
    without them a plain, well-formed question about the call ("Should the red lines replace existing
    frameworks?") looked like nothing the classifier had seen answered."""
    from scipy.sparse import vstack
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray([KINDS.index(kind_of(m.item)) for m in train])
    if len(train) < 50 or len(set(labels.tolist())) < len(KINDS):
        return None, {}, {}
    scale = KIND_EMBEDDING_SCALE
    rows = hashed_matrix([m.cleaned for m in train], scale * np.asarray([m.vector for m in train]))
    extra_rows = hashed_matrix(questions[0], scale * questions[1]) if questions and questions[0] else None

    def fit(c: float, chosen: np.ndarray) -> Any:
        if extra_rows is None:
            return _kind_regression(c).fit(rows[chosen], labels[chosen])
        return _kind_regression(c).fit(vstack([rows[chosen], extra_rows]),
                                       np.concatenate([labels[chosen], np.zeros(extra_rows.shape[0], dtype=int)]))

    folds = list(StratifiedKFold(KIND_FOLDS, shuffle=True, random_state=0).split(rows, labels))
    best: tuple[float, float, np.ndarray] | None = None
    losses = {}
    for c in KIND_C_GRID:
        out_of_fold = np.zeros((len(train), len(KINDS)))
        for fit_rows, held_rows in folds:
            model = fit(c, fit_rows)
            out_of_fold[held_rows] = model.predict_proba(rows[held_rows])
        loss = float(log_loss(labels, out_of_fold, labels=list(range(len(KINDS)))))
        losses[c] = round(loss, 4)
        if best is None or loss < best[0]:
            best = (loss, c, out_of_fold)
    assert best is not None
    _, c, out_of_fold = best
    held_out = {m.item: dict(zip(KINDS, row.tolist(), strict=True)) for m, row in zip(train, out_of_fold, strict=True)}
    fitted = fit(c, np.arange(len(train)))
    coefficients = fitted.coef_.T.astype(float)
    probabilities, answerable = out_of_fold, labels == 0
    if dev:
        dev_labels = np.asarray([KINDS.index(kind_of(m.item)) for m in dev])
        dev_rows = hashed_matrix([m.cleaned for m in dev], scale * np.asarray([m.vector for m in dev]))
        probabilities = np.vstack([out_of_fold, fitted.predict_proba(dev_rows)])
        answerable = np.concatenate([answerable, dev_labels == 0])
        labels = np.concatenate([labels, dev_labels])
    thresholds, caught = {}, {}
    for kind in GUARDED:
        column = KINDS.index(kind)
        threshold = _guard_threshold(probabilities[answerable, column])
        thresholds[kind] = threshold
        caught[kind] = {"recall": round(float((probabilities[labels == column, column] >= threshold).mean()), 4),
                        "answerable_caught": int((probabilities[answerable, column] >= threshold).sum())}
    report = {"c": c, "log_loss_by_c": losses, "thresholds": thresholds, "out_of_fold_and_dev": caught}
    model = KindModel(coefficients[:DIMENSIONS], fitted.intercept_.astype(float), thresholds,
                      coefficients[DIMENSIONS:] * scale)
    return model, report, held_out


def clean_dev_items(path: Path) -> list[BankItem]:
    """The clean dev questions (``evaluation.questions``: ``expect``/``abstain`` items, read by the same
    ``load_questions`` as ``eval`` and the build guard) as answerable or must-decline items, for calibrating the
    decision alongside the bank's dev split; none when there is no such file, or when it is a bank file (its
    items, which carry a category, are the bank's own)."""
    if not path.is_file():
        return []
    return [BankItem(q.question, "", "clean", (), "off-topic" if q.abstain else None, (), "dev")
            for q in load_questions(path) if not q.category]


def corpus_questions(index: SearchIndex, encoder: Encoder) -> tuple[list[str], np.ndarray]:
    """The FAQ entries' own questions and phrasings, and their embeddings (as questions)."""
    texts = [clean_question(p) for passage in index.passages if passage.kind == "faq" for p in passage.phrasings]
    texts = [t for t in dict.fromkeys(texts) if t]
    return texts, (encoder.encode_queries(texts) if texts else np.zeros((0, 1)))


def fit_classifier(index: SearchIndex, train: list[Searched]
                   ) -> tuple[PassageClassifier | None, dict[int, np.ndarray], dict[int, np.ndarray], dict[str, Any]]:
    """The passage classifier (``core.passage_classifier``) over every group of the generation, fitted on each
    passage's phrasings and text and on the answerable training messages (their first label that this corpus
    holds), and each training message's out-of-fold probabilities (by its position in ``train``): the ranker
    must learn how far to trust it on messages it has not seen."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    groups = tuple(sorted({p.group for p in index.passages}))
    position = {g: i for i, g in enumerate(groups)}
    corpus_texts, corpus_labels = [], []
    for passage in index.passages:
        for text in (*passage.phrasings, passage.text):
            corpus_texts.append(text)
            corpus_labels.append(position[passage.group])
    kept = [(k, one) for k, one in enumerate(train)
            if not one.item.decline and not one.guarded and one.seen.query is not None
            and any(g in position for g in one.item.groups)]
    if len(kept) < 2 * CLASSIFIER_FOLDS:
        return None, {}, {}, {}
    from scipy.sparse import vstack

    corpus = hashed_matrix(corpus_texts)
    messages = hashed_matrix([one.seen.query.text for _, one in kept])  # type: ignore[union-attr]
    labels = np.asarray([position[next(g for g in one.item.groups if g in position)] for _, one in kept])
    corpus_labels_array = np.asarray(corpus_labels)

    def fit(rows: np.ndarray) -> Any:
        model = LogisticRegression(C=CLASSIFIER_C, max_iter=2000)
        return model.fit(vstack([messages[rows], corpus]), np.concatenate([labels[rows], corpus_labels_array]))

    def spread(model: Any, probabilities: np.ndarray) -> np.ndarray:
        """Probabilities over every group (a fold's model knows only the groups it saw)."""
        full = np.zeros((len(probabilities), len(groups)))
        full[:, model.classes_] = probabilities
        return full

    held_out: dict[int, np.ndarray] = {}
    held_out_own: dict[int, np.ndarray] = {}  # follow-ups: from their own words, by the same fold's model
    hits = 0
    for fit_rows, held_rows in KFold(CLASSIFIER_FOLDS, shuffle=True, random_state=0).split(messages):
        model = fit(fit_rows)
        found = spread(model, model.predict_proba(messages[held_rows]))
        for row, probabilities in zip(held_rows, found, strict=True):
            held_out[kept[row][0]] = probabilities
            hits += groups[int(probabilities.argmax())] in kept[row][1].item.groups
        followed = [row for row in held_rows if kept[row][1].seen.query.own_text is not None]
        if followed:
            own = spread(model, model.predict_proba(hashed_matrix(
                [kept[row][1].seen.query.own_text for row in followed])))
            for row, probabilities in zip(followed, own, strict=True):
                held_out_own[kept[row][0]] = probabilities
    final = fit(np.arange(len(kept)))
    weights = np.zeros((DIMENSIONS, len(groups)), dtype=np.float32)
    weights[:, final.classes_] = final.coef_.T
    intercept = np.full(len(groups), -30.0, dtype=np.float32)  # a group no example names is never likely
    intercept[final.classes_] = final.intercept_
    report = {"c": CLASSIFIER_C, "messages": len(kept), "corpus_rows": len(corpus_texts),
              "out_of_fold_hit_at_1": round(hits / len(kept), 4)}
    return PassageClassifier(groups, weights, intercept), held_out, held_out_own, report


def _guard_threshold(answerable_probabilities: np.ndarray) -> float:
    """The lowest threshold above all but ``GUARD_FALSE_RATE`` of the answerable messages' probabilities (never
    below one half: a guard fires only when its kind is the likelier)."""
    allowed = int(np.floor(GUARD_FALSE_RATE * len(answerable_probabilities)))
    ordered = np.sort(answerable_probabilities)[::-1]
    above = float(ordered[allowed]) if allowed < len(ordered) else 0.0
    return max(0.5, float(np.nextafter(above, 1.0)))


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
    train_messages = read_messages(answerer, train_items)
    dev_messages = read_messages(answerer, dev_items)
    clean = read_messages(answerer, clean_dev_items(config.eval_questions))
    kinds, kinds_report, held_out = fit_kinds(train_messages, dev_messages, corpus_questions(index, encoder))
    # The bank is searched the way questions will be: with the learned guards in place (out of fold for train).
    index.derived["models"] = QualityModels(kinds=kinds)
    train = search_bank(answerer, index, [m for m in train_messages if m.item.decline or any(g in known for g in m.item.groups)],
                        held_out)
    dev = search_bank(answerer, index, [m for m in dev_messages if m.item.decline or any(g in known for g in m.item.groups)])
    dev_clean = search_bank(answerer, index, clean)
    neighbours, rows_of = labelled_messages(index, train)
    classifier, classified, classified_own, classifier_report = fit_classifier(index, train)
    learned = Learned(neighbours, classifier, rows_of, classified, classified_own)
    ranker = fit_ranker(index, train, learned)
    train_data = decision_data(index, train, ranker, learned, training=True)
    dev_data = decision_data(index, dev, ranker, learned)
    calibration = decision_data(index, dev + dev_clean, ranker, learned)
    decision, decision_report = fit_decision(train_data, calibration)
    index.derived.pop("models", None)
    report = {"bank": str(bank), "extra": str(extra) if extra else None, "train_messages": len(train), "dev_messages": len(dev),
              "message_kinds": kinds_report, "passage_classifier": classifier_report, "decision": decision_report,
              "decline_rules": compare_rules(train_data, dev_data, decision) if len(dev_data.base) else []}
    return QualityModels(ranker, decision, neighbours if ranker is not None else None, kinds,
                         classifier if ranker is not None else None, report)


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
