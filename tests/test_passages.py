"""Passages and locators: paragraphs and sentences of documents, FAQ entries as one unit."""

from __future__ import annotations

from bot.corpus.passages import corpus_passages, split_sentences
from bot.corpus.reader import load_corpus

from .conftest import write_corpus


def test_locators_number_paragraphs_and_sentences_skipping_headings(tmp_path):
    passages, _ = corpus_passages(load_corpus(write_corpus(tmp_path)))
    letter = {p.locator: p.text for p in passages if p.doc_id == "letter"}
    assert letter["¶1"] == "Bees make honey in summer. Honey is sweet and golden."
    assert letter["¶1.2"] == "Honey is sweet and golden."
    assert letter["¶2.3"] == "Fish swim in the sea."
    # A one-sentence paragraph is one passage, and the heading is never quoted.
    assert letter["¶3"].startswith("Governments must agree") and "¶3.1" not in letter
    assert not any("heading" in text for text in letter.values())


def test_sentences_and_paragraph_share_a_group(tmp_path):
    passages, _ = corpus_passages(load_corpus(write_corpus(tmp_path)))
    groups = {p.locator: p.group for p in passages if p.doc_id == "letter"}
    assert groups["¶2"] == groups["¶2.1"] == groups["¶2.3"] == "letter#¶2"
    assert groups["¶1"] != groups["¶2"]


def test_faq_entry_is_one_passage_with_every_phrasing_embedded(tmp_path):
    passages, rows = corpus_passages(load_corpus(write_corpus(tmp_path)))
    index = next(i for i, p in enumerate(passages) if p.id == "faq:who-organised")
    entry = passages[index]
    assert entry.text == "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
    assert entry.url == "https://example.org/launch" and entry.locator == "FAQ who-organised"
    embedded = [r.text for r in rows if r.passage == index]
    assert "Which groups coordinated the campaign?" in embedded
    assert "Who is behind the letter?" in embedded
    assert "Who organised the call?" in embedded


def test_paragraph_questions_are_embedded_for_their_paragraph(tmp_path):
    passages, rows = corpus_passages(load_corpus(write_corpus(tmp_path)))
    paragraph = next(i for i, p in enumerate(passages) if p.id == "letter#¶3")
    assert "When is the deadline?" in [r.text for r in rows if r.passage == paragraph]


def test_sentence_split_keeps_text_verbatim():
    paragraph = 'Il a dit "oui". Les autres « non ». Fin? Oui! AI is here.'
    sentences = split_sentences(paragraph)
    assert len(sentences) == 5
    assert " ".join(sentences) == paragraph
