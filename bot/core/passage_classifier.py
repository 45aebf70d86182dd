"""Which passage a message asks for, learned from words: a classifier over the passage groups, fitted on the
corpus's own phrasings and texts and on the question bank's labelled training messages.

The encoder is English-centric and reads a message as a whole; a linear model over hashed words, word pairs
and character n-grams (``core.message_kind.hashed``) learns which words point to which passage in every served
language ("签" and "firmó" to who signed, "killerroboter" to autonomous weapons) from the examples themselves.
Its probability for a candidate's group is one more ranking feature; the ranking model weighs it against the
retriever's evidence. It covers the groups it was fitted on: a passage added later by a moderator gets 0 until
the next ``index build`` refits it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np

from bot.core.message_kind import DIMENSIONS


@dataclass(frozen=True)
class PassageClassifier:
    """A multinomial logistic regression over ``groups``, weights kept as float16 (a few MB per generation)."""

    groups: tuple[str, ...]
    weights: np.ndarray = field(repr=False)   # (DIMENSIONS, len(groups)) float32 in memory
    intercept: np.ndarray = field(repr=False)

    def probabilities(self, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per group, for a message hashed into ``positions`` and ``values``."""
        logits = values @ self.weights[positions] + self.intercept if len(positions) else self.intercept.copy()
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def to_json(self) -> dict[str, object]:
        return {"groups": list(self.groups), "dimensions": DIMENSIONS,
                "weights": base64.b64encode(self.weights.astype("<f2").tobytes()).decode("ascii"),
                "intercept": self.intercept.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> PassageClassifier:
        if int(data["dimensions"]) != DIMENSIONS:
            raise ValueError("the passage classifier was fitted on other features")
        groups = tuple(data["groups"])
        weights = np.frombuffer(base64.b64decode(data["weights"]), dtype="<f2").reshape(DIMENSIONS, len(groups))
        return cls(groups, weights.astype(np.float32), np.asarray(data["intercept"], dtype=np.float32))
