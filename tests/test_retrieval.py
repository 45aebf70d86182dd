"""Direct tests of bot/core/retrieval.py: keyword index, BM25, coverage, fusion and candidate lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.core.retrieval import (
    KeywordIndex,
    bm25_scores,
    convex_fusion,
    dense_scores,
    inverse_document_frequency,
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
    assert inverse_document_frequency(keywords.vocabulary, keywords.starts, 3) == keywords.idf


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


@pytest.mark.parametrize("tokens", [["group", "coordin", "campaign"], ["cesia", "cesia", "call"], ["pizza"],
                                    ["call", "letter", "sign", "call", "red", "line", "govern"]])
def test_bm25_is_bm25s_own_sum_to_the_bit_and_coverage_counts_each_word_once(index, tokens):
    keywords = keyword_index(index)
    assert np.array_equal(keywords.scores(tokens), np.asarray(keywords.bm25.get_scores(tokens), dtype=np.float32))
    passages = np.arange(len(index.passages))
    expected = np.zeros(len(passages))
    for word in set(tokens):
        holders = keywords.passages_with(word)
        if holders is not None:
            expected += np.isin(passages, holders)
    assert keywords.coverage(tokens, passages).tolist() == (expected / len(set(tokens))).tolist()


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
