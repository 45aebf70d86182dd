"""Direct tests of bot/core/retrieval.py: keyword index, BM25, coverage, fusion and candidate lists."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.retrieval import (
    BM25_B,
    BM25_K1,
    KeywordIndex,
    bm25_idf,
    bm25_scores,
    convex_fusion,
    dense_scores,
    keyword_coverage,
    keyword_index,
    passage_tokens,
    retrieve,
    rrf_fusion,
)
from bot.index.store import build_index, load_index


@pytest.fixture
def index(config, fake_encoder):
    build_index(config, fake_encoder)
    return load_index(config, fake_encoder)


def _position(index, passage_id):
    return next(i for i, p in enumerate(index.passages) if p.id == passage_id)


def test_passage_tokens_hold_the_text_and_every_phrasing_in_its_language(index):
    faq = index.passages[_position(index, "faq:who-organised")]
    tokens = passage_tokens(faq)
    assert {"cesia", "nonprofit", "coordin", "campaign", "behind"} <= set(tokens)
    french = index.passages[_position(index, "faq:quand-lancement")]
    assert "lanc" in passage_tokens(french)  # "lancé" stemmed as French


def test_idf_is_higher_for_rarer_words():
    keywords = KeywordIndex.build([["aa", "bb"], ["aa"], ["aa", "cc"]])
    assert keywords.idf["bb"] == keywords.idf["cc"] > keywords.idf["aa"] > 0
    assert keywords.idf["aa"] == pytest.approx(math.log(1 + 0.5 / 3.5))
    assert keywords.weight("zz") == keywords.unseen == keywords.idf["bb"]
    assert keywords.passages_with("cc").tolist() == [2] and keywords.passages_with("zz") is None
    assert keywords.idf == {word: bm25_idf(len(keywords.passages_with(word)), 3) for word in keywords.vocabulary}


# A small corpus with what BM25 must get right: repeated words, passages of different lengths, a word in
# every passage, one in a single passage, and a passage without keywords (counted as one token long).
CORPUS = [["bee", "honey", "bee", "hive"], ["honey", "bread"], [], ["bee", "law", "law", "law", "red", "line"],
          ["bread", "bee"], ["line"]]


def _reference_term(word: str, passage: list[str], corpus: list[list[str]]) -> float:
    """BM25 of one word in one passage, from the formula, in plain Python floats: idf (Lucene's, kept in
    float32 as bm25s keeps it) × tf / (tf + k1 × (1 − b + b × length / average length))."""
    lengths = [len(p) or 1 for p in corpus]
    holders = sum(word in p for p in corpus)
    idf = float(np.float32(math.log(1 + (len(corpus) - holders + 0.5) / (holders + 0.5))))
    tf = passage.count(word)
    return idf * (tf / (BM25_K1 * ((1 - BM25_B) + BM25_B * (len(passage) or 1) / (sum(lengths) / len(corpus))) + tf))


def test_keyword_index_is_bm25_from_the_formula_with_sorted_postings():
    keywords = KeywordIndex.build(iter(CORPUS))  # read once, one passage at a time, as prepare() gives it
    assert keywords.passage_count == len(CORPUS) and set(keywords.vocabulary) == {w for p in CORPUS for w in p}
    assert keywords.starts[0] == 0 and keywords.starts[-1] == len(keywords.postings) == len(keywords.term_scores)
    for word, position in keywords.vocabulary.items():
        start, end = keywords.starts[position], keywords.starts[position + 1]
        holders = keywords.postings[start:end]
        assert holders.tolist() == [i for i, p in enumerate(CORPUS) if word in p]  # every holder, sorted
        expected = [np.float32(_reference_term(word, CORPUS[i], CORPUS)) for i in holders]
        assert keywords.term_scores[start:end].tolist() == expected, word
    question = ["bee", "line", "unknown", "bee"]
    expected = np.zeros(len(CORPUS), dtype=np.float32)
    for word in question:  # summed word by word, in float32, as the scores are
        expected += np.array([_reference_term(word, p, CORPUS) if word in p else 0.0 for p in CORPUS], dtype=np.float32)
    scores = keywords.scores(question)
    assert scores.dtype == np.float32 and scores.tolist() == expected.tolist()
    # and, without float32 anywhere, the textbook BM25 to float32's precision
    textbook = [sum(_reference_term(w, p, CORPUS) for w in question if w in p) for p in CORPUS]
    assert scores.tolist() == pytest.approx(textbook, rel=1e-6)
    assert int(np.argmax(scores)) == 0 and scores[2] == 0.0
    assert keywords.scores([]).tolist() == [0.0] * len(CORPUS)
    assert KeywordIndex.build([]).scores(["bee"]).tolist() == []


def test_keyword_index_is_kept_with_the_generation(index):
    first = keyword_index(index)
    assert keyword_index(index) is first and index.derived["keyword"] is first
    assert first.weight("no-such-word") == first.unseen == max(first.idf.values())
    assert first.passages_with("cesia").tolist() == [_position(index, "faq:who-organised")]


def test_bm25_scores_and_coverage(index):
    scores = bm25_scores(index, "Which groups coordinated the campaign?")
    assert int(np.argmax(scores)) == _position(index, "faq:who-organised")
    assert bm25_scores(index, "the of and").tolist() == [0.0] * len(index.passages)  # only function words
    target = _position(index, "faq:who-organised")
    coverage = keyword_coverage(index, "groups coordinated pizza", [target])
    assert coverage[target] == pytest.approx(2 / 3)
    assert keyword_coverage(index, "groups pizza", [target], tokens=["group"])[target] == 1.0


def _bm25s(corpus):
    """bm25s's index of ``corpus``, as the keyword index was built before our own (a passage without keywords
    given a placeholder word, which bm25s needs): the reference the scores are kept equal to, to the bit."""
    bm25s = pytest.importorskip("bm25s")
    reference = bm25s.BM25()
    reference.index([list(tokens) or ["__empty__"] for tokens in corpus], show_progress=False)
    return reference


def _bm25s_scores(reference, tokens):
    return np.asarray(reference.get_scores(tokens), dtype=np.float32)


@pytest.mark.parametrize("tokens", [["group", "coordin", "campaign"], ["cesia", "cesia", "call"], ["pizza"],
                                    ["call", "letter", "sign", "call", "red", "line", "govern"]])
def test_bm25_is_bm25s_to_the_bit_and_coverage_counts_each_word_once(index, tokens):
    keywords = keyword_index(index)
    scores = keywords.scores(tokens)
    assert scores.dtype == np.float32
    assert np.array_equal(scores, _bm25s_scores(_bm25s([passage_tokens(p) for p in index.passages]), tokens))
    passages = np.arange(len(index.passages))
    expected = np.zeros(len(passages))
    for word in set(tokens):
        holders = keywords.passages_with(word)
        if holders is not None:
            expected += np.isin(passages, holders)
    assert keywords.coverage(tokens, passages).tolist() == (expected / len(set(tokens))).tolist()


@settings(max_examples=60, deadline=None)
@given(corpus=st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=12), min_size=1, max_size=30),
       question=st.lists(st.sampled_from("abcdefghz"), min_size=1, max_size=6))
def test_bm25_equals_bm25s_on_any_corpus(corpus, question):
    keywords = KeywordIndex.build(iter(corpus))
    assert np.array_equal(keywords.scores(question), _bm25s_scores(_bm25s(corpus), question))


def test_dense_scores_reuse_a_given_vector(index, fake_encoder):
    vector = fake_encoder.encode_queries(["bees honey"])[0]
    calls = fake_encoder.query_calls
    scores = dense_scores(index, fake_encoder, "ignored text", vector)
    assert fake_encoder.query_calls == calls
    assert index.passages[int(np.argmax(scores))].group == "letter#¶1"


def test_fusions():
    dense = np.array([0.9, 0.5, 0.1])
    keyword = np.array([0.0, 4.0, 2.0])
    assert convex_fusion(dense, keyword, 0.5).tolist() == pytest.approx([0.45, 0.75, 0.3])
    assert convex_fusion(dense, np.zeros(3), 0.5).tolist() == pytest.approx([0.45, 0.25, 0.05])
    fused = rrf_fusion(dense, keyword)
    assert int(np.argmax(fused)) == 1  # second in dense, first in keywords


@pytest.mark.parametrize("name", ["dense", "bm25", "hybrid", "hybrid-rrf"])
def test_retrieve_gives_best_first_candidates_with_their_raw_scores(index, fake_encoder, config, name):
    candidates = retrieve(name, index, fake_encoder, "Who organised the call?", "en", config.retrieval)
    assert candidates and len(candidates) <= config.retrieval.candidates
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    best = candidates[0]
    assert index.passages[best.passage].id == "faq:who-organised"
    assert -1.0 <= best.dense <= 1.0 and best.keyword > 0 and 0.0 <= best.confidence <= 1.0


def test_bm25_retriever_keeps_only_passages_sharing_a_word(index, fake_encoder, config):
    candidates = retrieve("bm25", index, fake_encoder, "honey", "en", config.retrieval)
    assert {index.passages[c.passage].group for c in candidates} == {"letter#¶1"}


def test_language_bonus_breaks_near_ties_towards_the_question_language(index, fake_encoder, config):
    french = retrieve("dense", index, fake_encoder, "lancé", "fr", config.retrieval)
    english = retrieve("dense", index, fake_encoder, "lancé", "en", config.retrieval)
    target = _position(index, "faq:quand-lancement")
    score_fr = next(c.score for c in french if c.passage == target)
    score_en = next(c.score for c in english if c.passage == target)
    assert score_fr == pytest.approx(score_en + config.retrieval.language_bonus)


def test_unknown_retriever_is_refused(index, fake_encoder, config):
    with pytest.raises(ValueError, match="unknown retriever"):
        retrieve("magic", index, fake_encoder, "x", "en", config.retrieval)
