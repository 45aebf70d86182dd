"""The fitted ranking and decision models of an index generation, kept in its folder as one JSON file.

They are fitted on the question bank when the generation is built (``bot/evaluation/fitting.py``), written
with it, listed and hash-checked in its manifest, and loaded with it: a generation always answers with the
models fitted for its own passages. A generation without the file answers with the retriever's order and the
old threshold rule.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from bot.core.decision import EMBEDDING, NEIGHBOUR_FEATURES, DecisionModel
from bot.core.decision import FEATURES as DECISION_FEATURES
from bot.core.message_kind import DIMENSIONS, KINDS, KindModel
from bot.core.neighbours import LabelledMessages
from bot.core.passage_classifier import PassageClassifier
from bot.core.ranking import FEATURES as RANKING_FEATURES
from bot.core.ranking import LinearModel
from bot.errors import IndexUnavailableError
from bot.index.store import CORRUPT, Derive, SearchIndex

log = logging.getLogger(__name__)

MODELS_FILE = "quality-models.json"
MODELS_FORMAT = 5


class OutdatedModels(ValueError):
    """Models written by another version of the code: set aside until refitted, not an error."""


@dataclass(frozen=True)
class QualityModels:
    ranker: LinearModel | None = None
    decision: DecisionModel | None = None
    neighbours: LabelledMessages | None = None  # the ranker's labelled training messages
    kinds: KindModel | None = None              # the learned guards (core.message_kind)
    classifier: PassageClassifier | None = None  # the ranker's passage classifier (core.passage_classifier)
    report: dict[str, Any] = field(default_factory=dict)  # what fitting measured, for people and the manifest

    def to_bytes(self) -> bytes:
        payload = {"format": MODELS_FORMAT,
                   "ranker": self.ranker.to_json() if self.ranker else None,
                   "decision": self.decision.to_json() if self.decision else None,
                   "neighbours": self.neighbours.to_json() if self.neighbours else None,
                   "kinds": self.kinds.to_json() if self.kinds else None,
                   "classifier": self.classifier.to_json() if self.classifier else None,
                   "report": self.report}
        return json.dumps(payload, indent=1).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> QualityModels:
        raw = json.loads(data.decode("utf-8"))
        if raw.get("format") != MODELS_FORMAT:
            raise OutdatedModels(f"its quality models are format {raw.get('format')!r}, this version reads {MODELS_FORMAT}")
        return cls(LinearModel.from_json(raw["ranker"]) if raw.get("ranker") else None,
                   DecisionModel.from_json(raw["decision"]) if raw.get("decision") else None,
                   LabelledMessages.from_json(raw["neighbours"]) if raw.get("neighbours") else None,
                   _kinds(raw.get("kinds")),
                   PassageClassifier.from_json(raw["classifier"]) if raw.get("classifier") else None,
                   raw.get("report") or {})


def _kinds(data: dict | None) -> KindModel | None:
    if not data:
        return None
    if tuple(data.get("kinds", ())) != KINDS or data.get("dimensions") != DIMENSIONS:
        raise OutdatedModels("its message-kind model was fitted on other kinds or features")
    return KindModel.from_json(data)


_LOCK = threading.Lock()


def models_of(index: SearchIndex) -> QualityModels:
    """The generation's models, read once and kept with it; none when it has no models file."""
    found = index.derived.get("models")
    if found is None:
        with _LOCK:
            found = index.derived.get("models")
            if found is None:
                data = index.extras.get(MODELS_FILE)
                try:
                    found = QualityModels.from_bytes(data) if data else QualityModels()
                except OutdatedModels as exc:
                    log.warning("index %s: %s; using the retriever's order and the decline threshold "
                                "(run `redlines-bot index build` to refit)", index.generation, exc)
                    found = QualityModels()
                except (ValueError, KeyError, TypeError) as exc:
                    raise IndexUnavailableError(CORRUPT, f"{index.generation}/{MODELS_FILE} cannot be read ({exc})") from None
                index.derived["models"] = found = _current(found, index.generation,
                                                                 (index.manifest.get("model") or {}).get("dimension"))
    return found


def _current(models: QualityModels, generation: str, dimension: int | None = None) -> QualityModels:
    """The models whose features are the ones this code computes; a model fitted on other features (by an older
    version) is set aside, with a warning, until ``index build`` fits it again. So are models that hold vectors of
    another size than the generation's embeddings (``dimension``)."""
    if dimension is not None and any(
            vectors is not None and vectors.shape[-1] != dimension
            for vectors in (models.neighbours.input_space if models.neighbours else None,
                            models.kinds.embedding_weights.T if models.kinds and models.kinds.embedding_weights is not None
                            else None)):
        log.warning("index %s: its quality models hold vectors of another size than its embeddings; using the "
                    "retriever's order and the decline threshold (run `redlines-bot index build` to refit)", generation)
        return QualityModels(report=models.report)
    ranker, decision = models.ranker, models.decision
    if ranker is not None and ranker.features != RANKING_FEATURES:
        log.warning("index %s: its ranking model was fitted on other features; using the retriever's order "
                    "(run `redlines-bot index build` to refit)", generation)
        ranker = None
    named = (*DECISION_FEATURES, *NEIGHBOUR_FEATURES)
    count = len(named)
    if decision is not None and (decision.linear.features[:count] != named
                                 or not all(f.startswith(EMBEDDING) for f in decision.linear.features[count:])):
        log.warning("index %s: its decline model was fitted on other features; using the decline threshold "
                    "(run `redlines-bot index build` to refit)", generation)
        decision = None
    return QualityModels(ranker, decision, models.neighbours if ranker is not None else None, models.kinds,
                         models.classifier if ranker is not None else None, models.report)


def carry_over(previous: SearchIndex | None) -> Derive:
    """For a live corpus edit: keep the models of the generation being replaced (refitting takes seconds; a
    moderator's one-entry edit barely moves them). ``index build`` refits."""

    def derive(index: SearchIndex) -> tuple[dict[str, bytes], dict[str, Any]]:
        if previous is None or MODELS_FILE not in previous.extras:
            return {}, {"quality_models": None}
        note = dict(previous.manifest.get("quality_models") or {})
        note["carried_over_from"] = previous.generation
        return {MODELS_FILE: previous.extras[MODELS_FILE]}, {"quality_models": note}

    return derive


def models_set_aside(index: SearchIndex) -> bool:
    """Whether the generation was fitted with ranking or decline models that this version of the code sets aside
    (other features, format or kinds): it then answers in the retriever's order with the old threshold, which
    says nothing about how its corpus answers with models fitted for this version."""
    fitted = index.manifest.get("quality_models") or {}
    models = models_of(index)
    return bool((fitted.get("ranker") and models.ranker is None) or (fitted.get("decision") and models.decision is None))
