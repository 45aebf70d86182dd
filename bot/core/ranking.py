"""Ranking that leads with the answer: the retriever's candidates re-ordered by what they say about the question.

The retriever's fused score favours passages that share the question's vocabulary ("Who signed the letter?"
meets "Who wrote the letter?" on the word "letter"). An FAQ entry is written for a question, so its own
question and phrasings are the best evidence: the overlap of their rare words with the question's, and whether
they ask what the question asks (who, when, where...). A question that asks for the letter's exact words wants
the letter itself. (A separate cosine with the phrasing rows alone was measured too: it added nothing in
cross-validation and cost a matrix product per question, so it went.) Each candidate is described by the features below and
scored by a linear model fitted on the question bank's train split (``bot/evaluation/fitting.py``) and stored
with the index generation; without one, the retriever's order stands.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.glossary import INTENTS, gloss, intent
from bot.core.keywords import keyword_tokens, name_tokens
from bot.core.language import detect_language
from bot.core.message_kind import hashed
from bot.core.neighbours import LabelledMessages, group_positions
from bot.core.passage_classifier import PassageClassifier
from bot.core.retrieval import Candidate, keyword_index
from bot.core.text import phrasing_key
from bot.index.store import SearchIndex

FEATURES = (
    "dense",             # cosine with the passage's best embedded row
    "dense_gap",         # that cosine minus the best candidate's
    "keyword",           # BM25 score over this question's best
    "coverage",          # share of the question's rare-word weight (IDF) the passage or its phrasings hold
    "phrasing_overlap",  # best IDF-weighted overlap (Jaccard) of the question's words with one phrasing's
    "faq",
    "letter",
    "press",
    "wording_letter",    # the question asks for exact wording and this is the letter
    "same_language",     # the passage is written in the question's language
    "phrasing_language",  # the question is not in English and one of the passage's phrasings is in its language
    "sentence",          # a sentence (¶3.2) rather than a whole paragraph or entry
    "position",          # 1 / (1 + its rank in the retriever's order)
    "intent_match",      # 1 when a phrasing asks what the question asks (who, when, where...), -1 when they all
                         # ask something else, 0 when either has no question word
    "rarest_word",       # the passage holds the question's rarest word the corpus knows ("did Stiglitz sign?":
                         # the entry that names Stiglitz, not the one whose phrasing is most like the question)
    "neighbour",         # cosine of the closest training message labelled with this passage (core.neighbours)
    "neighbour_gap",     # that cosine minus the best candidate's
    "neighbour_share",   # share of the question's nearest training messages this passage answers
    "classifier",        # the passage classifier's probability for this passage's group (core.passage_classifier)
    "classifier_gap",    # that probability minus the best candidate's
    "paragraph_named",   # the question names this paragraph of a document by its number ("the third paragraph",
                         # "para 2", "le dernier paragraphe", "第三段")
    "own_coverage",      # coverage by the message's own words only: a follow-up is searched with the question before
                         # it ("and the bio one?" + "when was the chemical weapons convention agreed?"), and the
                         # passage that answered that question holds most of the words; the new one holds the new words
    "own_classifier",    # the passage classifier's probability from the message's own words, for the same reason
                         # (the classifier as above for a message read alone)
)

# "quote", "exact words", "word for word", "verbatim", in the served languages.
_WORDING = re.compile(
    r"\b(quot\w*|exact\w*|verbatim|word[- ]for[- ]word|wording|literal\w*|précis\w*|mot pour mot|text(?:e|o)? exact\w*|"
    r"cit\w+ (?:textual\w*|testual\w*|exact\w*)|textual\w*|testual\w*|wörtlich\w*|wortlaut|genauen? wort\w*|"
    r"zitier\w*|palavras? exat\w*|parole esatt\w*|palabras exactas|frase esatt\w*|frases? exac?t\w*|"
    r"parola per parola|palabra por palabra|palavra por palavra)\b|原文|原话|原話|逐字",
    re.IGNORECASE)


# "the third paragraph", "para 2", "¶4", "le dernier paragraphe", "第三段": a paragraph named by its place
# (0: the last one).
_ORDINAL_OF = {word: number for number, words in {
    1: "first 1st premier première primer primero primera erste ersten erster primo prima primeiro",
    2: "second 2nd deuxième deuxieme seconde segundo segunda zweite zweiten zweiter secondo seconda",
    3: "third 3rd troisième troisieme tercer tercero tercera dritte dritten dritter terzo terza terceiro terceira",
    4: "fourth 4th quatrième quatrieme cuarto cuarta vierte vierten vierter quarto quarta",
    0: "last final dernier dernière derniere último ultimo última ultima letzte letzten letzter",
}.items() for word in words.split()}
_HAN_ORDINAL = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4, "最后": 0, "最後": 0}
_PARAGRAPH_WORD = r"(?:para(?:graph|graphe|grafo)?s?|párrafo|parrafo|parágrafo|paragrafo|absatz|abschnitt)"
_NAMED_PARAGRAPH = re.compile(
    rf"\b(?P<ordinal>{'|'.join(sorted(map(re.escape, _ORDINAL_OF), key=len, reverse=True))})\s+(?:\w+\s+)?{_PARAGRAPH_WORD}\b|"
    rf"\b{_PARAGRAPH_WORD}\s+(?:(?:n[º°o]\.?|number|nummer|numéro|número|numero)\s*)?(?P<number>[1-9])\b|"
    rf"\b{_PARAGRAPH_WORD}\s+(?P<after>{'|'.join(sorted(map(re.escape, _ORDINAL_OF), key=len, reverse=True))})\b|"
    r"[¶§]\s*(?P<sign>[1-9])|第\s*(?P<han>[一二三四1-4])\s*段|(?P<hanlast>最后|最後)一?段",
    re.IGNORECASE)


_PARAGRAPH_MARKS = ("para", "párr", "parr", "pará", "absatz", "abschn", "¶", "§", "段")  # "abschn": İ folds apart


def named_paragraph(text: str) -> int | None:
    """The paragraph a question names by its place (1, 2, ...; 0 for the last one), if it names one."""
    folded = text.casefold()
    if not any(mark in folded for mark in _PARAGRAPH_MARKS):
        return None  # every way of naming one holds one of these: most questions need no search
    found = _NAMED_PARAGRAPH.search(text)
    if found is None:
        return None
    if found.group("number") or found.group("sign"):
        return int(found.group("number") or found.group("sign"))
    if found.group("han") or found.group("hanlast"):
        return _HAN_ORDINAL[found.group("han") or found.group("hanlast")]
    return _ORDINAL_OF[(found.group("ordinal") or found.group("after")).lower()]


def asks_for_wording(text: str) -> bool:
    """Whether a question asks for the letter's own words ("quote the part about ...", "exact words")."""
    return bool(_WORDING.search(text))


@dataclass(frozen=True)
class Query:
    """What the ranking and the decision know about a question: the text searched (with its English glosses
    when it is in another language), its language, keywords, vector, question word and whether it asks for
    the letter's wording."""

    text: str
    language: str
    tokens: tuple[str, ...]
    vector: np.ndarray
    wording: bool
    intent: str | None = None
    paragraph: int | None = None  # the paragraph it names by its place (0: the last), if any
    own_tokens: tuple[str, ...] | None = None  # a follow-up's own keywords, without the question before it
    own_text: str | None = None  # ... and its own words

    @staticmethod
    def search_text(text: str, language: str, names: frozenset[str] = frozenset()) -> tuple[str, tuple[str, ...]]:
        """What is embedded for ``text`` and its keywords: glossed into English when it is in another language,
        with its names also as the corpus stems them (``names``: the corpus's proper names, see ``name_tokens``)."""
        english = gloss(text, language)
        tokens = tuple(keyword_tokens(text, language)) + tuple(keyword_tokens(english, "en")) + \
            tuple(name_tokens(text, language, names))
        return (f"{text} ({english})" if english else text), tokens

    @classmethod
    def of(cls, text: str, language: str, vector: np.ndarray, tokens: tuple[str, ...] | None = None) -> Query:
        if tokens is None:
            tokens = Query.search_text(text, language)[1]
        return cls(text, language, tokens, vector, asks_for_wording(text), intent(text), named_paragraph(text))


@dataclass(frozen=True)
class Ranked:
    """A candidate passage with its ranking score and the features behind it."""

    candidate: Candidate
    score: float
    features: np.ndarray = field(repr=False)

    @property
    def passage(self) -> int:
        return self.candidate.passage


@dataclass(frozen=True)
class LinearModel:
    """A logistic-regression model kept as plain numbers: standardise, weigh, add the intercept."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    # The standardisation folded into the weights, once: a question's score is then one dot product.
    folded: np.ndarray = field(init=False, repr=False, compare=False)
    folded_intercept: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = np.asarray(self.weights, dtype=float) / np.asarray(self.scale, dtype=float)
        object.__setattr__(self, "folded", folded)
        object.__setattr__(self, "folded_intercept", float(self.intercept - np.asarray(self.mean, dtype=float) @ folded))

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds for each row of features: ((rows - mean) / scale) @ weights + intercept."""
        return rows @ self.folded + self.folded_intercept

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(tuple(data["features"]), np.asarray(data["mean"], dtype=float),
                   np.asarray(data["scale"], dtype=float), np.asarray(data["weights"], dtype=float),
                   float(data["intercept"]))


@dataclass(frozen=True)
class PhrasingIndex:
    """What the ranking features need of a generation, prepared once so that a question costs little: every
    phrasing's words (by word: which phrasings and passages hold it) and total word weight; what kind of passage
    each is, where it stands in its document, and the languages and question words of its phrasings.
    """

    phrasing_passage: np.ndarray
    phrasing_weight: np.ndarray
    phrasings_with: dict[str, np.ndarray]
    kind: np.ndarray        # per passage: faq, letter, press (columns), sentence
    paragraph: np.ndarray   # per passage: its ¶ number (0 for an FAQ entry)
    last_paragraph: np.ndarray  # ... and its document's last
    # Per passage, as arrays by language and by question word, so that a question's features are read in numpy
    # rather than candidate by candidate: whether a phrasing is in that language; whether its phrasings ask what
    # the question asks (1), something else (-1) or have no question word (0).
    phrased_in: dict[str, np.ndarray]
    intent_match: dict[str, np.ndarray]
    # A phrasing's ``text.phrasing_key`` -> its passage: a message that is one of the FAQ's own phrasings leads
    # with that entry, whatever the model scores (the rule; no two entries share a phrasing's key).
    exact: dict[str, int] = field(default_factory=dict)


_LOCK = threading.Lock()


def phrasing_index(index: SearchIndex) -> PhrasingIndex:
    """Built on first use and kept with the generation, like the keyword index."""
    found = index.derived.get("phrasings")
    if found is None:
        with _LOCK:
            found = index.derived.get("phrasings")
            if found is None:
                found = index.derived["phrasings"] = _build_phrasing_index(index)
    return found


def _build_phrasing_index(index: SearchIndex) -> PhrasingIndex:
    keywords = keyword_index(index)
    phrasing_passage: list[int] = []
    phrasing_weight: list[float] = []
    languages: list[frozenset[str]] = []
    intents: list[frozenset[str]] = []
    phrasings_with: dict[str, list[int]] = {}
    exact: dict[str, int] = {}
    for number, passage in enumerate(index.passages):
        for phrasing in passage.phrasings:
            exact.setdefault(phrasing_key(phrasing), number)
        detected = [detect_language(p) for p in passage.phrasings]
        for phrasing, language in zip(passage.phrasings, detected, strict=True):
            words = dict.fromkeys(keyword_tokens(phrasing, language))  # distinct, in order: the same sum in every process
            for word in words:
                phrasings_with.setdefault(word, []).append(len(phrasing_passage))
            phrasing_passage.append(number)
            phrasing_weight.append(sum(keywords.weight(w) for w in words))
        languages.append(frozenset(detected))
        intents.append(frozenset(i for i in map(intent, passage.phrasings) if i))
    kind = np.asarray([(p.kind == "faq", p.kind == "letter", p.kind == "press", "." in p.locator) for p in index.passages],
                      dtype=float).reshape(-1, 4)
    numbers = [_paragraph_number(p.locator) for p in index.passages]
    last: dict[str, int] = {}
    for passage, number in zip(index.passages, numbers, strict=True):
        last[passage.doc_id] = max(last.get(passage.doc_id, 0), number)
    spoken = {lang for found in languages for lang in found}
    return PhrasingIndex(
        np.asarray(phrasing_passage, dtype=np.int64),
        np.asarray(phrasing_weight, dtype=float),
        {w: np.asarray(v, dtype=np.int64) for w, v in phrasings_with.items()},
        kind, np.asarray(numbers, dtype=np.int64),
        np.asarray([last[p.doc_id] for p in index.passages], dtype=np.int64),
        {lang: np.asarray([lang in found for found in languages], dtype=float) for lang in spoken},
        # ``intent`` only ever names one of ``INTENTS``: every question's intent has its array.
        {i: np.asarray([_intent_match(i, found) for found in intents], dtype=float) for i in INTENTS},
        exact)


def named_letter_paragraphs(index: SearchIndex, paragraph: int | None) -> list[int]:
    """The letter's passages (the paragraph and its sentences) for a paragraph named by its place (0: the last)."""
    if paragraph is None:
        return []
    prepared = phrasing_index(index)
    letter = prepared.kind[:, 1] > 0
    wanted = prepared.last_paragraph if paragraph == 0 else paragraph
    return np.flatnonzero(letter & (prepared.paragraph > 0) & (prepared.paragraph == wanted)).tolist()


def _paragraph_number(locator: str) -> int:
    """The paragraph number of a document passage's locator ("¶3", "¶3.2"); 0 for an FAQ entry."""
    found = re.match(r"¶(\d+)", locator)
    return int(found.group(1)) if found else 0


def _intent_match(asked: str | None, answered: frozenset[str]) -> float:
    if asked is None or not answered:
        return 0.0
    return 1.0 if asked in answered else -1.0


@dataclass(frozen=True)
class GroupEvidence:
    """What the models learned from labelled messages say about one question, per passage group: the closest
    labelled training message (cosine), the nearest messages' vote, the passage classifier's probability, and
    that probability from a follow-up's own words (the same for a message read alone)."""

    groups: tuple[str, ...]
    closest: np.ndarray
    share: np.ndarray
    classifier: np.ndarray
    own_classifier: np.ndarray  # from a follow-up's own words (``classifier`` for a message read alone)


def group_evidence(neighbours: LabelledMessages | None, classifier: PassageClassifier | None, query: Query,
                   exclude: int | None = None, classified: np.ndarray | None = None,
                   classified_own: np.ndarray | None = None) -> GroupEvidence | None:
    """The learned evidence for ``query`` (``exclude``: its own row among the neighbours, ``classified``: its
    out-of-fold classifier probabilities and ``classified_own`` those of a follow-up's own words, when fitting on
    it); ``None`` without learned models."""
    if neighbours is None and classifier is None:
        return None
    groups = classifier.groups if classifier is not None else neighbours.groups  # type: ignore[union-attr]
    if neighbours is not None and neighbours.groups != groups:
        raise ValueError("the neighbours and the passage classifier were fitted on different groups")
    if neighbours is not None:
        closest, share = neighbours.evidence(query.vector, exclude)
    else:
        closest = share = np.zeros(len(groups))
    if classified is not None:
        probabilities = classified
    elif classifier is not None:
        probabilities = classifier.probabilities(*hashed(query.text))
    else:
        probabilities = np.zeros(len(groups))
    own = probabilities
    if classified_own is not None:
        own = classified_own
    elif classified is not None and query.own_text is not None:
        # Fitting on a follow-up: the final classifier saw it, so its own words need their out-of-fold value too.
        raise ValueError("a training follow-up needs its out-of-fold own-words probabilities (classified_own)")
    elif classifier is not None and query.own_text is not None:
        own = classifier.probabilities(*hashed(query.own_text))
    return GroupEvidence(groups, closest, share, probabilities, own)


def candidate_features(index: SearchIndex, query: Query, candidates: Sequence[Candidate],
                       evidence: GroupEvidence | None = None) -> np.ndarray:
    """One row of ``FEATURES`` per candidate; the learned features are 0 without ``evidence``."""
    keywords = keyword_index(index)
    prepared = phrasing_index(index)
    passages = np.asarray([c.passage for c in candidates], dtype=np.int64)
    dense = np.asarray([c.dense for c in candidates], dtype=float)
    keyword = np.asarray([c.keyword for c in candidates], dtype=float)
    # Distinct words in the question's order (not a set's, which changes with the process's hash seed): the sums
    # below are then the same bits in every process, and so are the models fitted on them.
    weights = {w: keywords.weight(w) for w in dict.fromkeys(query.tokens)}
    total = sum(weights.values())
    # Rare-word weight each passage holds (coverage), and shared with each phrasing (overlap), from postings.
    held = keywords.held(weights)
    shared = np.zeros(len(prepared.phrasing_passage))
    for word, weight in weights.items():
        if word in prepared.phrasings_with:
            shared[prepared.phrasings_with[word]] += weight
    overlap = np.zeros(len(index.passages))
    touched = np.flatnonzero(shared)
    if len(touched):
        ratio = shared[touched] / (total + prepared.phrasing_weight[touched] - shared[touched])
        np.maximum.at(overlap, prepared.phrasing_passage[touched], ratio)
    rows = np.zeros((len(candidates), len(FEATURES)), dtype=float)
    if not len(candidates):
        return rows
    kind = prepared.kind[passages]
    rows[:, 0] = dense
    rows[:, 1] = dense - dense.max()
    rows[:, 2] = keyword / keyword.max() if keyword.max() > 0 else 0.0
    rows[:, 3] = held[passages] / total if total else 0.0
    if query.own_tokens is None:
        rows[:, 21] = rows[:, 3]
    else:
        own = {w: keywords.weight(w) for w in dict.fromkeys(query.own_tokens)}
        own_total = sum(own.values())
        rows[:, 21] = keywords.held(own)[passages] / own_total if own_total else 0.0
    rows[:, 4] = overlap[passages]
    rows[:, 5:8] = kind[:, :3]
    rows[:, 8] = kind[:, 1] * query.wording
    rows[:, 9] = index.in_language(query.language)[passages]
    if query.language != "en" and query.language in prepared.phrased_in:
        rows[:, 10] = prepared.phrased_in[query.language][passages]
    rows[:, 11] = kind[:, 3]
    rows[:, 12] = 1.0 / (2 + np.arange(len(candidates)))
    if query.intent is not None:
        rows[:, 13] = prepared.intent_match[query.intent][passages]
    known = [w for w in weights if w in keywords.idf]
    if known:
        rarest = max(known, key=lambda w: (keywords.idf[w], w))
        holders = keywords.passages_with(rarest)
        if holders is not None:
            held_by = np.zeros(len(index.passages), dtype=bool)
            held_by[holders] = True
            rows[:, 14] = held_by[passages]
    if query.paragraph is not None:
        number = prepared.paragraph[passages]
        wanted = prepared.last_paragraph[passages] if query.paragraph == 0 else query.paragraph
        rows[:, 20] = (number > 0) & (number == wanted)
    if evidence is not None and len(evidence.groups):
        position = group_positions(index, evidence.groups)[passages]
        labelled = position >= 0
        rows[labelled, 15] = evidence.closest[position[labelled]]
        rows[:, 16] = rows[:, 15] - rows[:, 15].max()
        rows[labelled, 17] = evidence.share[position[labelled]]
        rows[labelled, 18] = evidence.classifier[position[labelled]]
        rows[labelled, 22] = evidence.own_classifier[position[labelled]]
        rows[:, 19] = rows[:, 18] - rows[:, 18].max()
    return rows


def rank(index: SearchIndex, query: Query, candidates: Sequence[Candidate], model: LinearModel | None,
         evidence: GroupEvidence | None = None) -> list[Ranked]:
    """The candidates best first, one per passage group (a sentence and its own paragraph count once).

    With a fitted model, by its score; without one, in the retriever's order.
    """
    if not candidates:
        return []
    features = candidate_features(index, query, candidates, evidence)
    if model is not None:
        scores = model.score(features)
    else:
        scores = np.asarray([c.score for c in candidates], dtype=float)
    order = np.argsort(-scores, kind="stable").tolist()  # best first, ties in the retriever's order
    phrased = phrasing_index(index).exact.get(phrasing_key(query.own_text or query.text))
    if phrased is not None:
        # The message is one of an FAQ entry's own phrasings: that entry leads (then the rest in the model's order).
        order.sort(key=lambda k: candidates[k].passage != phrased)
    values = scores.tolist()
    seen: set[str] = set()
    ranked = []
    for k in order:
        group = index.passages[candidates[k].passage].group
        if group not in seen:
            seen.add(group)
            ranked.append(Ranked(candidates[k], values[k], features[k]))
    return ranked
