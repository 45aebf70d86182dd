"""Answer or decline: a decision that topic words cannot fool.

The old confidence (cosine mixed with the share of the question's words found in the passage) counts any
shared word, so "red line red line call call" looks covered. The decision now weighs, for the question as a
whole: how well the best passage fits it (its ranking score and margin over the next, its cosine with the
passage and with the passage's own phrasings, the share of the question's rare words it holds), how much of
the question the corpus never talks about (the weight of words no passage uses), what the message looks
like (a question mark or a question word, repeated words, laughter, emoji, its length), and what it is
about (its embedding: a question about the call sits elsewhere than small talk about AI). A logistic
regression fitted on the question bank's train split, its threshold calibrated on the dev split
(``bot/evaluation/fitting.py``), stored with the index generation. Without a fitted model the old rule holds.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np

from bot.core.asking import asks_something
from bot.core.guards import fold, name_index
from bot.core.ranking import FEATURES as CANDIDATE_FEATURES
from bot.core.ranking import LinearModel, Query, Ranked
from bot.core.retrieval import keyword_index
from bot.core.text import words
from bot.core.vectors import pack, project, unpack
from bot.index.store import SearchIndex

FEATURES = (
    "top_score",          # the best passage's ranking score
    "margin",             # ... minus the next passage's
    "dense",              # the best passage's cosine with the question
    "coverage",           # share of the question's rare-word weight the best passage holds
    "phrasing_overlap",   # best rare-word overlap of the question with one of its phrasings
    "unknown_words",      # share of the question's rare-word weight that no passage uses
    "content_words",      # log(1 + number of content words)
    "other_language",     # not English (the model is English-centric: its cosines run lower)
    "old_confidence",     # the rule this replaces, as one more piece of evidence
    "keyword_per_word",   # the best BM25 score per content word
    "question_mark",
    "question_opener",    # asks something: opens like a question or a request, or asks indirectly (core.asking)
    "repetition",         # share of repeated words ("red line red line call call")
    "laughter",           # lol, lmao, haha, mdr, jaja, kkk, 😂
    "emoji",
    "length",             # log(1 + number of words)
    "instruction",        # tells the bot what to do or be ("ignore your rules", "translate", "you are now")
    "kind_answer",        # the message-kind classifier's probability that this is a question to answer
                          # (core.message_kind: words and character n-grams, a view the embedding lacks)
    "unknown_names",      # log(1 + capitalised words, not opening a sentence, that the corpus never uses): "Who
                          # is Taylor Swift?" names someone it does not know of
    "unknown_words_en",   # unknown_words for an English message, else 0: in English, words the corpus never uses
                          # mean another subject; in other languages they are mostly the language itself
)
# How close the message is to the training messages (mean cosine of the nearest ``NEIGHBOURS``): to answerable
# ones, to must-decline ones, and the difference. Trolling, small talk about AI and prompt injections resemble
# each other more than any single feature says.
NEIGHBOUR_FEATURES = ("near_answerable", "near_decline", "near_difference")
NEIGHBOURS = 3
EMBEDDING = "embedding"  # the question's vector follows the features above

_LAUGHTER = re.compile(r"\b(?:lo+l+|lmf?a+o+|ro+fl|(?:ha){2,}h?|(?:he){2,}|mdr|ptdr|(?:ja){2,}|(?:je){2,}|k{3,}|xd+)\b|"
                       r"[😂🤣😆😹💀🤡]|哈哈", re.IGNORECASE)
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget) (?:all |your |the |previous |prior |everything |above )|\byou are (?:now|no longer)\b|"
    r"\bfrom now on\b|\bpretend\b|\bact as\b|\brole-?play\b|\bsystem prompt\b|\binstructions?\b|\bdeveloper mode\b|"
    r"^\s*(?:system|admin|assistant)\s*:|\[/?inst\]|<!--|\b(?:respond|reply|answer) (?:in|with|only)\b|"
    r"^\s*(?:translate|write|say|repeat|print|output|list|generate|make up|post|dm|send|tell everyone|summon)\b|"
    r"\bsay exactly\b|\bignore (?:tes|vos|las|tus|deine|le) |\boublie (?:tes|les) |\bignora\b",
    re.IGNORECASE)
# The same kinds of instruction in the other served languages: forget your rules, from now on, pretend, your
# instructions or system prompt, answer only..., and a message that opens with translate / write / repeat. Each of
# their forms holds one of ``_INSTRUCTION_ELSEWHERE_WORDS`` (lower-cased): the long expression is only searched in a
# message that has one, so that most questions pay a few substring tests, not ~30 µs.
_INSTRUCTION_ELSEWHERE = re.compile(
    r"^\s*\[(?:system|admin|sistema|système|systeme)\]|"
    r"\b(?:oublie[sz]?|ignorez) (?:tes|vos|les|toutes|tout) |\b(?:à partir de maintenant|dorénavant)\b|"
    r"\bdésormais (?:tu|réponds|répondez)\b|\btu es (?:maintenant|désormais)\b|\bfais (?:semblant|comme si)\b|"
    r"\bconsignes\b|\bprompt (?:système|systeme|del sistema|di sistema|do sistema)\b|\b(?:réponds|répondez) (?:uniquement|seulement)\b|"
    r"\b(?:olvida|olvídate de) (?:tus|las|el|la|los|todo|todas)\b|\b(?:a partir de ahora|desde ahora)\b|"
    r"\b(?:finge que|haz como si|actúa como)\b|^\s*finge\b|\bahora eres\b|\binstrucciones\b|\bresponde (?:solo|solamente|únicamente)\b|"
    r"\b(?:ignorier\w*|vergiss)\b|\b(?:von nun an|ab sofort)\b|\btu so,? als\b|\bdu bist (?:jetzt|ab jetzt|nun)\b|"
    r"\banweisung(?:en)?\b|\bsystem-?prompt\b|\bantworte (?:nur|ausschließlich)\b|"
    r"\bdimentica\b|\b(?:d'ora in poi|da ora in poi|da adesso in poi)\b|\b(?:fai finta|fingi|comportati come)\b|"
    r"\bistruzioni\b|\brispondi (?:solo|soltanto)\b|"
    r"\b(?:esquece|esqueça) (?:as|os|suas|tuas|tudo|todas)\b|\b(?:a partir de agora|de agora em diante)\b|"
    r"\b(?:finja|faz de conta|age como|aja como)\b|\bagora (?:você é|és)\b|\binstruções\b|"
    r"\bresponde (?:só|somente|apenas)\b|"
    r"^\s*(?:traduis|traduisez|écris|répète|traduce|tradúceme|escribe|repite|übersetz\w*|schreib\w*|wiederhol\w*|"
    r"traduci|scrivi|ripeti|traduz|traduza|escreve|escreva|repete|repita)\b|"
    r"忽略|无视|忘掉|假装|扮演|从现在(?:开始|起)|系统提示|提示词|^\s*(?:请)?(?:帮我)?翻译|别管",
    re.IGNORECASE)
_INSTRUCTION_ELSEWHERE_WORDS = (
    "[", "oublie", "ignorez", "maintenant", "dorénavant", "désormais", "tu es", "fais ", "consignes", "prompt", "répond",
    "olvid", "ahora", "finge", "haz como", "actúa", "instruccion", "responde", "ignorier", "vergiss", "von nun",
    "ab sofort", "tu so", "du bist", "anweisung", "antworte", "dimentica", "in poi", "fai finta", "fingi", "comportati",
    "istruzioni", "rispondi", "esque", "agora", "finja", "faz de conta", "age como", "aja como", "instruç", "tradu", "tradú",
    "écris", "répète", "escrib", "repit", "übersetz", "schreib", "wiederhol", "scrivi", "ripeti", "escrev", "repet",
    "忽略", "无视", "忘掉", "假装", "扮演", "从现在", "系统提示", "提示词", "翻译", "别管",
)


def gives_instructions(text: str) -> bool:
    """Whether the message tells the bot what to do or be, in any served language."""
    if _INSTRUCTION.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _INSTRUCTION_ELSEWHERE_WORDS) and bool(_INSTRUCTION_ELSEWHERE.search(text))


_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]")


@dataclass(frozen=True)
class DecisionModel:
    """The fitted decision: log-odds of "answerable" over ``FEATURES``, ``NEIGHBOUR_FEATURES`` and the
    embedding, and the threshold chosen on dev. ``exemplars`` are the training messages' vectors, ``answerable``
    which of them are. An answer within ``near`` of the threshold is offered as the closest match."""

    linear: LinearModel
    threshold: float
    exemplars: np.ndarray = field(repr=False)
    answerable: np.ndarray = field(repr=False)
    near: float = 0.5
    # Neighbours are found in a smaller space: the exemplars' principal components (a few hundred rows of 384
    # floats would be read from memory on every question; 48 stay in cache). ``None``: the full vectors.
    projection: np.ndarray | None = field(default=None, repr=False)

    def row(self, base: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The full feature row for a message: its ``base`` features, its neighbours, its vector."""
        near = neighbour_features(project(vector, self.projection), self.exemplars, self.answerable)
        return np.concatenate([base, near, vector])

    def score(self, base: np.ndarray, vector: np.ndarray) -> float:
        return float(self.linear.score(self.row(base, vector)[None, :])[0])

    def to_json(self) -> dict[str, object]:
        return {"linear": self.linear.to_json(), "threshold": self.threshold, "near": self.near,
                "exemplars": pack(self.exemplars), "answerable": self.answerable.astype(int).tolist(),
                "projection": pack(self.projection) if self.projection is not None else None}

    @classmethod
    def from_json(cls, data: dict) -> DecisionModel:
        projection = unpack(data["projection"]) if data.get("projection") else None
        return cls(LinearModel.from_json(data["linear"]), float(data["threshold"]), unpack(data["exemplars"]),
                   np.asarray(data["answerable"], dtype=bool), float(data.get("near", 0.5)), projection)


def neighbour_features(vector: np.ndarray, exemplars: np.ndarray, answerable: np.ndarray,
                       exclude: int | None = None) -> np.ndarray:
    """``NEIGHBOUR_FEATURES`` of a message vector against the exemplars (``exclude``: its own row, in fitting)."""
    similarity = exemplars @ vector.astype(np.float32)
    if exclude is not None:
        similarity[exclude] = -1.0

    def nearest(mask: np.ndarray) -> float:
        values = similarity[mask]
        if len(values) > NEIGHBOURS:
            values.partition(len(values) - NEIGHBOURS)  # in place: a copy already (numpy's wrappers cost more here)
            values = values[-NEIGHBOURS:]
        found = values.tolist()
        return sum(found) / len(found) if found else 0.0

    to_answerable, to_decline = nearest(answerable), nearest(~answerable)
    return np.asarray([to_answerable, to_decline, to_answerable - to_decline])


@dataclass(frozen=True)
class Decision:
    answered: bool
    confidence: float
    closest_match: bool


_VOCABULARY_LOCK = threading.Lock()


def _vocabulary(index: SearchIndex) -> frozenset[str]:
    found = index.derived.get("vocabulary")
    if found is None:
        with _VOCABULARY_LOCK:
            found = index.derived.get("vocabulary")
            if found is None:
                found = index.derived["vocabulary"] = frozenset(keyword_index(index).idf)
    return found


def message_shape(text: str) -> list[float]:
    """What the message looks like, whatever it is about (``text``: the cleaned message, as the answerer has it)."""
    tokens = words(text)
    count = max(1, len(tokens))
    return [float(text.rstrip().endswith(("?", "？"))), float(asks_something(text, clean=True)),
            1.0 - len(set(tokens)) / count, float(bool(_LAUGHTER.search(text))), float(bool(_EMOJI.search(text))),
            float(np.log1p(len(tokens))), float(gives_instructions(text))]


def decision_features(index: SearchIndex, query: Query, ranked: list[Ranked], message: str,
                      kind_answer: float = 1.0) -> np.ndarray:
    """``FEATURES`` for the message ``message`` searched as ``query`` (the model adds neighbours and the vector);
    ``kind_answer``: the message-kind classifier's probability of "answer" (1 without a classifier)."""
    keywords = keyword_index(index)
    vocabulary = _vocabulary(index)
    wanted = dict.fromkeys(query.tokens)  # distinct, in order (not a set's: the same sums in every process)
    weights = {w: keywords.weight(w) for w in wanted}
    total = sum(weights.values())
    unknown = sum(weights[w] for w in wanted if w not in vocabulary) / total if total else 1.0
    if ranked:
        best = dict(zip(CANDIDATE_FEATURES, ranked[0].features, strict=True))
        top, candidate = ranked[0].score, ranked[0].candidate
        margin = top - ranked[1].score if len(ranked) > 1 else 1.0
        retrieval = [top, margin, best["dense"], best["coverage"], best["phrasing_overlap"]]
        old, keyword = candidate.confidence, candidate.keyword / max(1, len(wanted))
    else:
        retrieval, old, keyword = [-10.0, 0.0, -1.0, 0.0, 0.0], 0.0, 0.0
    row = [*retrieval, unknown, float(np.log1p(len(wanted))), float(query.language != "en"), old, keyword,
           *message_shape(message), kind_answer, float(np.log1p(unknown_names(index, message))),
           unknown if query.language == "en" else 0.0]
    return np.asarray(row, dtype=float)


_SENTENCE = re.compile(r"(?<=[.!?;:¿¡])\s+|\n+")
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)


def unknown_names(index: SearchIndex, message: str) -> int:
    """Capitalised words of ``message`` (proper nouns, mostly) that no passage or phrasing of the corpus uses."""
    known = name_index(index).words
    found = 0
    for sentence in _SENTENCE.split(message):
        for word in _CAPITALISED.findall(sentence)[1:]:  # a sentence's first word is capitalised anyway
            if word[0].isupper() and not word.isupper() and fold(word) not in known:
                found += 1
    return found


def decide(index: SearchIndex, query: Query, ranked: list[Ranked], message: str, model: DecisionModel | None,
           threshold: float, kind_answer: float = 1.0) -> Decision:
    """Answer with ``ranked[0]`` or decline. Without a fitted model: the old rule, its confidence against
    ``threshold`` (``retrieval.decline_threshold``)."""
    if not ranked:
        return Decision(False, 0.0, False)
    if model is None:
        confidence = ranked[0].candidate.confidence
        return Decision(confidence >= threshold, confidence, False)
    score = model.score(decision_features(index, query, ranked, message, kind_answer), query.vector)
    answered = score >= model.threshold
    return Decision(answered, float(1.0 / (1.0 + np.exp(-score))), answered and score < model.threshold + model.near)
