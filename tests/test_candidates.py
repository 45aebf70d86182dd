"""Answering from candidates at scale: the top-k path ranks as scoring every passage does, the derived
indexes are built when a generation is loaded (never on a question), and the approximate index is chosen
above ``retrieval.approximate_above`` and recorded in the manifest."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.config import RETRIEVERS, RetrievalSettings, load_config
from bot.core import retrieval
from bot.core.answer import Answerer, LiveIndex
from bot.core.retrieval import KeywordIndex, keyword_tokens, passage_tokens
from bot.corpus.editing import draft_from_modal
from bot.corpus.live_update import LiveUpdater
from bot.corpus.passages import Passage
from bot.index.store import FLAT, IVF, SearchIndex, build_faiss, build_index, load_index

from .conftest import FakeEncoder, write_config, write_corpus

# A small vocabulary, so that thousands of passages share words: many BM25 ties and near-ties, and
# questions whose words are in far more passages than a pool holds.
VOCABULARY = ("red line lines agree agreement government treaty signed signatory ban weapons autonomous "
              "lethal nuclear command control human oversight deadline summit nations united assembly "
              "letter call scientists laureates companies deploy model frontier risk rogue replication "
              "impersonation deception surveillance cyber pandemic biological enforcement verification "
              "honey bees river sea fish salty golden summer rivers flow wide").split()
FRENCH = "lignes rouges accord gouvernements appel signataires interdiction armes contrôle humain".split()


def synthetic_index(encoder: FakeEncoder, size: int, seed: int = 7, approximate: bool = False) -> SearchIndex:
    """``size`` passages of random words (a tenth French, a fifth with two extra phrasings, as FAQ entries
    have), encoded with the fake encoder, in a flat (or IVF) FAISS index."""
    rng = random.Random(seed)
    passages, row_texts, row_passage = [], [], []
    for number in range(size):
        french = number % 10 == 3
        words = FRENCH + VOCABULARY[:10] if french else VOCABULARY
        text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        phrasings = tuple(" ".join(rng.choice(words) for _ in range(5)) for _ in range(2)) if number % 5 == 0 else ()
        passages.append(Passage(id=f"p{number}", doc_id=f"doc{number // 50}", title="Synthetic", kind="faq",
                                language="fr" if french else "en", url=None, locator=str(number), text=text,
                                group=f"g{number}", path="synthetic", line=None, phrasings=phrasings))
        for row_text in (text, *phrasings):
            row_texts.append(row_text)
            row_passage.append(number)
    vectors = encoder.encode_documents(row_texts)
    faiss_index, description = build_faiss(vectors, approximate)
    manifest = {"built_at": "2026-11-30T00:00:00", "corpus_hash": "0" * 64, "vector_index": description}
    return SearchIndex("gen-synthetic", manifest, tuple(passages), np.array(row_passage, dtype=np.int64), faiss_index)


QUESTIONS = [
    "Did the government sign the treaty on autonomous weapons?",
    "red lines",  # two words in most passages: BM25 has thousands of positives, pools must grow
    "what is the deadline for an agreement at the summit",
    "Les gouvernements ont-ils signé un accord sur les lignes rouges ?",
    "honey bees summer",
    "human oversight of frontier model deployment and rogue replication",
    "nuclear command and control",
    "who are the laureates and scientists that signed the letter",
    "xylophone quartet",  # no word in the corpus
    "ban ban ban weapons",
]


@pytest.fixture(scope="module")
def five_thousand():
    encoder = FakeEncoder()
    return encoder, synthetic_index(encoder, 5000)


# The defaults, and a large language bonus with nearly a pool of candidates: the bound then often fails at the first
# pool size, so the pools grow (the path that keeps the top-k exact is exercised, not just the easy one).
@pytest.mark.parametrize("settings", [RetrievalSettings(decline_threshold=0.3),
                                      RetrievalSettings(decline_threshold=0.3, language_bonus=0.3, candidates=200)],
                         ids=["defaults", "large-bonus"])
def test_answers_over_5k_passages_rank_as_scoring_every_passage(five_thousand, monkeypatch, settings):
    encoder, index = five_thousand
    answerer = Answerer(settings, encoder, LiveIndex(index))
    grown = []
    real_dense_pool = retrieval._dense_pool
    monkeypatch.setattr(retrieval, "_dense_pool", lambda index, query, size, *rest: (
        grown.append(size), real_dense_pool(index, query, size, *rest))[1])
    exact = {"dense", "bm25", "hybrid"}  # hybrid-rrf counts dense ranks outside the pool as just past it
    rrf_agree = 0
    for name in RETRIEVERS:
        for question in QUESTIONS:
            fast = answerer.answer(question, retriever=name, limit=10)
            with monkeypatch.context() as everything:
                everything.setattr(retrieval, "POOL", 10**9)
                slow = answerer.answer(question, retriever=name, limit=10)
            if name in exact:
                assert [e.passage_id for e in fast.excerpts] == [e.passage_id for e in slow.excerpts], (name, question)
                assert fast.answered == slow.answered
                assert fast.confidence == pytest.approx(slow.confidence, abs=1e-5)
                assert [e.score for e in fast.excerpts] == pytest.approx([e.score for e in slow.excerpts], abs=1e-5)
            else:
                rrf_agree += fast.excerpts[0].passage_id == slow.excerpts[0].passage_id
    # The exception: "xylophone quartet" shares no word or hashed dimension with any passage, so every dense
    # score ties at 0 and the dense ranks are the pool's arbitrary order of those ties.
    assert rrf_agree >= len(QUESTIONS) - 1
    if settings.language_bonus > 0.1:  # the check against the bound made pools grow, and stayed exact
        assert max(grown) > retrieval.POOL


def test_coverage_from_postings_equals_word_sets(five_thousand):
    _, index = five_thousand
    keywords = retrieval.keyword_index(index)
    words = [frozenset(passage_tokens(p)) for p in index.passages]  # what the index holds: each text in its language
    passages = np.arange(0, len(index.passages), 7)
    for question in QUESTIONS:
        wanted = set(keyword_tokens(question))
        expected = [len(wanted & words[p]) / len(wanted) if wanted else 0.0 for p in passages]
        assert keywords.coverage(keyword_tokens(question), passages).tolist() == expected


def test_no_derived_index_is_built_during_a_question(config, monkeypatch):
    builds: list[int] = []
    real_build = KeywordIndex.build.__func__

    def counted(cls, texts):
        texts = list(texts)
        builds.append(len(texts))
        return real_build(cls, texts)

    monkeypatch.setattr(KeywordIndex, "build", classmethod(counted))
    encoder = FakeEncoder()
    build_index(config, encoder)
    live = LiveIndex(load_index(config, encoder))  # at load
    assert len(builds) == 1 and retrieval.KEYWORD in live.current.derived
    answerer = Answerer(config.retrieval, encoder, live)
    for question in QUESTIONS:
        for name in RETRIEVERS:
            answerer.answer(question, retriever=name)
    assert len(builds) == 1
    updater = LiveUpdater(config, encoder, live, audit=None)
    swapped_in_prepared = []
    real_swap = LiveIndex.swap
    monkeypatch.setattr(LiveIndex, "swap", lambda self, index: (
        swapped_in_prepared.append(retrieval.KEYWORD in index.derived), real_swap(self, index))[1])
    updater.add(draft_from_modal("How tall is the lighthouse?", "What height is the lighthouse?",
                                 "The lighthouse is forty metres tall.",
                                 "https://example.org/l", "Guide", "en", None), actor="mod")
    assert len(builds) == 2  # the edit built the new generation's keyword index ...
    answer = answerer.answer("How tall is the lighthouse?")
    assert answer.answered and "forty metres" in answer.excerpts[0].text
    assert len(builds) == 2  # ... and the first question after it built nothing
    # LiveIndex.swap prepares the generation before it is installed (the patched swap saw it unprepared,
    # the real one prepared it before the assignment).
    assert swapped_in_prepared == [False] and retrieval.KEYWORD in live.current.derived


def test_an_unprepared_generation_still_answers_and_says_so(config, caplog):
    encoder = FakeEncoder()
    build_index(config, encoder)
    index = load_index(config, encoder)
    assert retrieval.KEYWORD not in index.derived
    candidates = retrieval.retrieve("hybrid", index, encoder, "honey bees", "en", config.retrieval)
    assert candidates and "was not prepared" in caplog.text


def test_an_index_above_approximate_above_is_ivf_and_recorded(tmp_path):
    paragraphs = "\n\n".join(f"Paragraph {n} tells of {VOCABULARY[n % len(VOCABULARY)]} and "
                             f"{VOCABULARY[(n * 7) % len(VOCABULARY)]} number {n}." for n in range(1100))
    letter = ("---\nid: big\ntitle: Big\nkind: letter\nlanguage: en\nurl: https://example.org/big\n"
              "date: 2025-09-22\n---\n" + paragraphs + "\n")
    write_corpus(tmp_path / "corpus", letter=letter)
    write_config(tmp_path, approximate_above=1000)
    config = load_config(tmp_path / "config.yaml")
    encoder = FakeEncoder()
    manifest = build_index(config, encoder).manifest
    assert manifest["passages"] > 1000 and manifest["vector_index"]["type"] == IVF
    assert manifest["vector_index"]["nprobe"] <= manifest["vector_index"]["nlist"]
    index = load_index(config, encoder)
    assert index.approximate and index.vector_index_type == IVF
    answer = Answerer(config.retrieval, encoder, LiveIndex(index)).answer("Paragraph 517 tells of what?",
                                                                          retriever="hybrid")
    assert answer.excerpts[0].source.locator == "¶518"
    # Rows read back by id from IVF are the vectors that were stored.
    rows = np.array([0, 5, 17])
    texts = [f"Paragraph {n} tells of {VOCABULARY[n % len(VOCABULARY)]} and {VOCABULARY[(n * 7) % len(VOCABULARY)]} "
             f"number {n}." for n in (0, 5, 17)]
    assert np.allclose(index.row_vectors(rows), encoder.encode_documents(texts), atol=1e-6)
    # A moderator's edit reuses the IVF lists of the generation it replaces instead of training again.
    live = LiveIndex(index)
    LiveUpdater(config, encoder, live, audit=None).add(draft_from_modal(
        "How tall is the lighthouse?", "What height is the lighthouse?", "The lighthouse is forty metres tall.",
        "https://example.org/l", "Guide", "en", None), actor="mod")
    edited = live.current.manifest["vector_index"]
    assert edited["type"] == IVF and edited["lists_from"] == index.generation
    assert edited["nlist"] == manifest["vector_index"]["nlist"]
    answer = Answerer(config.retrieval, encoder, live).answer("How tall is the lighthouse?", retriever="hybrid")
    assert "forty metres" in answer.excerpts[0].text


def test_small_corpus_keeps_the_exact_flat_index(config):
    manifest = build_index(config, FakeEncoder()).manifest
    assert manifest["vector_index"] == {"type": FLAT}


def test_ivf_recall_against_flat(five_thousand):
    encoder, flat = five_thousand
    ivf = synthetic_index(encoder, 5000, approximate=True)
    queries = encoder.encode_queries(QUESTIONS + [p.text for p in flat.passages[:200:4]])
    recall = []
    for query in queries:
        exact = set(flat.search_rows(query, 10)[1].tolist())
        found = set(ivf.search_rows(query, 10)[1].tolist())
        recall.append(len(exact & found) / 10)
    # Bag-of-words vectors from a 60-word vocabulary are full of exact ties, which either side may break
    # differently; bench --scale measures recall on realistic vectors (>= 0.98).
    assert np.mean(recall) >= 0.9

