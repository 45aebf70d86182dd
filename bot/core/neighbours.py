"""Labelled training messages as evidence for ranking: a new message close to messages that a passage answers
is probably answered by that passage too.

An FAQ entry's phrasings are written the way its editors ask; members ask with slang, typos, context and other
languages. The question bank's train split holds hundreds of such messages, each labelled with the passages
that answer it, so they are, in effect, phrasings written the way members write. For each candidate the
ranking reads how close the nearest training message labelled with it is (``closest``) and what share of the
message's nearest answerable training messages it answers (``share``): the nearest-neighbour vote, learned
from train like the rest of the ranking model and stored with it in the index generation.

Cosines are taken among the messages' 128 principal components when the models were fitted with a projection
(``projection``), else in the full embedding space.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.vectors import pack, project, unpack
from bot.index.store import SearchIndex

VOTERS = 5  # the nearest training messages whose labels vote


@dataclass(frozen=True)
class LabelledMessages:
    """Training messages (unit vectors) and the passage groups that answer each."""

    vectors: np.ndarray = field(repr=False)        # (messages, dimension) float32
    groups: tuple[str, ...]                        # every group some message is labelled with
    labels: tuple[tuple[int, ...], ...]            # per message: positions in ``groups``
    # The labels flattened into (message, group) pairs sorted by group, so that a question's evidence is a few
    # array operations: each pair's message, each group's first pair (for ``np.maximum.reduceat``) and the groups
    # that have any.
    pair_message: np.ndarray = field(init=False, repr=False)
    group_starts: np.ndarray = field(init=False, repr=False)
    labelled_groups: np.ndarray = field(init=False, repr=False)
    # The space the messages are compared in: principal directions (columns) of the messages' vectors, so that
    # the matrix read on every question is a third of the size; ``None``: the full embedding.
    projection: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A message's groups once each (two bank labels may name one group), so that its vote counts once.
        object.__setattr__(self, "labels", tuple(tuple(dict.fromkeys(one)) for one in self.labels))
        pairs = sorted((g, m) for m, one in enumerate(self.labels) for g in one)
        messages = np.asarray([m for _, m in pairs], dtype=np.int64)
        groups = np.asarray([g for g, _ in pairs], dtype=np.int64)
        object.__setattr__(self, "pair_message", messages)
        labelled, starts = np.unique(groups, return_index=True)
        object.__setattr__(self, "group_starts", starts.astype(np.int64))
        object.__setattr__(self, "labelled_groups", labelled.astype(np.int64))

    @classmethod
    def of(cls, vectors: Sequence[np.ndarray], labels: Sequence[Sequence[str]],
           groups: Sequence[str] | None = None, projection: np.ndarray | None = None) -> LabelledMessages:
        """``groups``: the groups to report evidence for, in this order (default: those the labels name);
        ``projection``: the space to compare in (see the field)."""
        groups = tuple(groups) if groups is not None else tuple(sorted({g for one in labels for g in one}))
        position = {g: i for i, g in enumerate(groups)}
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        if projection is not None and len(matrix):
            matrix = np.asarray([project(v, projection) for v in matrix], dtype=np.float32)
        return cls(matrix, groups, tuple(tuple(position[g] for g in one) for one in labels), projection)

    @property
    def input_space(self) -> np.ndarray:
        """What a question's vector is multiplied with first: its last axis is the embedding size it expects."""
        return self.projection.T if self.projection is not None else self.vectors

    def evidence(self, vector: np.ndarray, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per group: the cosine of the closest message labelled with it (0 when none), and the share of the
        ``VOTERS`` nearest messages labelled with it. ``exclude``: a message's own row, when fitting on it."""
        count = len(self.groups)
        closest, share = np.zeros(count), np.zeros(count)
        if not len(self.vectors):
            return closest, share
        similarity = self.vectors @ project(vector, self.projection)
        if exclude is not None:
            similarity[exclude] = -1.0
        if len(self.pair_message):
            best = np.maximum.reduceat(similarity[self.pair_message], self.group_starts)
            closest[self.labelled_groups] = np.maximum(best, 0.0)
        voters = min(VOTERS, len(similarity) - (exclude is not None))
        if voters > 0:
            # The ``taken`` most similar, the least of them first (argpartition puts the k-th largest at its place).
            taken = voters + (exclude is not None)
            nearest = similarity.argpartition(len(similarity) - taken)[len(similarity) - taken:]
            if exclude is not None:
                nearest = nearest[nearest != exclude][-voters:]
            # A handful of messages with a label or two each: counted in Python (cheaper than numpy calls here).
            for message in nearest.tolist():
                for group in self.labels[message]:
                    share[group] += 1.0
            share /= voters
        return closest, share

    def to_json(self) -> dict[str, object]:
        return {"vectors": pack(self.vectors),
                "groups": list(self.groups), "labels": [list(one) for one in self.labels],
                "projection": pack(self.projection) if self.projection is not None else None}

    @classmethod
    def from_json(cls, data: dict) -> LabelledMessages:
        vectors = unpack(data["vectors"])
        projection = unpack(data["projection"]) if data.get("projection") else None
        return cls(vectors, tuple(data["groups"]), tuple(tuple(int(g) for g in one) for one in data["labels"]),
                   projection)


_LOCK = threading.Lock()


def group_positions(index: SearchIndex, groups: tuple[str, ...]) -> np.ndarray:
    """For each passage of the generation, the position of its group in ``groups`` (-1: not there, e.g. an entry
    added after the models were fitted); kept with the generation."""
    known: dict[tuple[str, ...], np.ndarray] = index.derived.setdefault("group_positions", {})
    found = known.get(groups)
    if found is None:
        with _LOCK:
            found = known.get(groups)
            if found is None:
                position = {g: i for i, g in enumerate(groups)}
                found = known[groups] = np.asarray([position.get(p.group, -1) for p in index.passages], dtype=np.int64)
    return found
