"""The question path: excerpts, deduplication, the decline threshold, question validation."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.answer import Answerer, LiveIndex
from bot.errors import QuestionError
from bot.index.store import build_index, load_index


@pytest.fixture
def answerer(config, fake_encoder) -> Answerer:
    build_index(config, fake_encoder)
    return Answerer(config.retrieval, fake_encoder, LiveIndex(load_index(config, fake_encoder)))


def test_answer_quotes_verbatim_with_citation(answerer):
    answer = answerer.answer("Who organised the call?")
    assert answer.answered
    best = answer.excerpts[0]
    assert best.text == "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
    assert best.source.url == "https://example.org/launch"
    assert best.source.title == "FAQ: Who organised the call?"
    assert answer.latency_ms > 0


def test_alternative_phrasing_finds_its_entry(answerer):
    assert answerer.answer("which groups coordinated the campaign").excerpts[0].passage_id == "faq:who-organised"


def test_paragraph_question_finds_the_paragraph(answerer):
    best = answerer.answer("When is the deadline?").excerpts[0]
    assert (best.source.doc_id, best.source.locator) == ("letter", "¶3")


def test_a_sentence_and_its_own_paragraph_count_once(answerer):
    answer = answerer.answer("sea salty wide fish swim rivers", limit=5)
    groups = [e.passage_id.split(".")[0] for e in answer.excerpts]
    assert len(groups) == len(set(groups))
    assert answer.excerpts[0].passage_id.startswith("letter#¶2")


def test_excerpts_are_best_first_and_limited_to_top_k(answerer):
    answer = answerer.answer("honey bees sea governments organised")
    assert len(answer.excerpts) == answerer.settings.top_k
    scores = [e.score for e in answer.excerpts]
    assert scores == sorted(scores, reverse=True)


def test_offset_gives_the_next_passages(answerer):
    first = answerer.answer("honey bees sea governments organised", limit=2)
    more = answerer.answer("honey bees sea governments organised", limit=2, offset=2)
    assert not {e.passage_id for e in first.excerpts} & {e.passage_id for e in more.excerpts}


def test_below_threshold_declines_but_keeps_nearest_passages(answerer):
    answer = answerer.answer("pizza recipe with mozzarella")
    assert not answer.answered
    assert answer.confidence < answerer.settings.decline_threshold


def test_threshold_is_what_decides(answerer):
    question = "honey bees"
    confidence = answerer.answer(question).confidence
    answerer.settings = dataclasses.replace(answerer.settings, decline_threshold=confidence + 0.01)
    assert not answerer.answer(question).answered
    answerer.settings = dataclasses.replace(answerer.settings, decline_threshold=confidence - 0.01)
    assert answerer.answer(question).answered


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u200b\u200b", "empty"),
        ("x" * 2001, "2,001 characters"),
        ("?", "in words"),
        ("🔥🔥🔥", "in words"),
    ],
)
def test_bad_questions_raise_a_clear_error(answerer, question, message):
    with pytest.raises(QuestionError, match=message):
        answerer.answer(question)


def test_french_question_prefers_a_french_passage(answerer):
    answer = answerer.answer("Quand l'appel a-t-il été lancé ?")
    assert answer.language == "fr"
    assert answer.excerpts[0].source.language == "fr"


def test_swap_installs_a_new_generation_and_in_flight_reads_keep_the_old(config, fake_encoder, answerer):
    old = answerer.live.current
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    build_index(config, fake_encoder)
    replaced = answerer.live.swap(load_index(config, fake_encoder))
    assert replaced is old and answerer.live.current is not old
    assert "Three groups" in answerer.answer("Who organised the call?").excerpts[0].text


def test_to_json_matches_the_cli_contract(answerer):
    payload = answerer.answer("Who organised the call?").to_json()
    assert set(payload) == {"question", "answered", "excerpts", "latency_ms", "language", "decline"}
    excerpt = payload["excerpts"][0]
    assert set(excerpt) == {"text", "score", "source"}
    assert set(excerpt["source"]) == {"doc_id", "title", "locator", "url"}
