"""Corpus parsing and validation: every problem reported with its file and line."""

from __future__ import annotations

import textwrap

import pytest

from bot.corpus.reader import LANGUAGES, content_hash, load_corpus
from bot.errors import CorpusError

from .conftest import FAQ, LETTER, write_corpus


def problems_of(root) -> list[str]:
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    return [str(p) for p in info.value.problems]


def test_valid_corpus_loads(tmp_path):
    corpus = load_corpus(write_corpus(tmp_path))
    assert [d.id for d in corpus.documents] == ["letter"]
    assert [e.id for e in corpus.faq] == ["who-organised", "quand-lancement"]
    letter = corpus.documents[0]
    assert letter.date == "2025-09-22" and letter.url == "https://example.org/letter"
    assert letter.questions_for("¶3") == ("When is the deadline?",)
    entry = corpus.faq[0]
    assert entry.alternatives == ("Which groups coordinated the campaign?", "Who is behind the letter?")
    assert entry.sources[0].url == "https://example.org/launch"
    assert entry.line == 1 and corpus.faq[1].line == 11


def test_content_hash_changes_with_any_file(tmp_path):
    root = write_corpus(tmp_path)
    before = content_hash(root)
    (root / "faq" / "faq.yaml").write_text(FAQ.replace("Three", "3"), encoding="utf-8")
    assert content_hash(root) != before


@pytest.mark.parametrize(
    ("faq", "expected"),
    [
        ("- id: x1\n  question: Q?\n", "faq/faq.yaml:1: FAQ entry is missing 'answer'"),
        (FAQ.replace("  language: en\n", "  language: ja\n", 1), "faq/faq.yaml:2: 'language' is 'ja'"),
        (FAQ.replace("url: https://example.org/launch", "url: not-a-url"), "faq/faq.yaml:10: 'url' must be an http(s) address"),
        (FAQ.replace("id: quand-lancement", "id: who-organised"), "duplicate id 'who-organised'"),
        (FAQ.replace("id: who-organised", "id: Who Organised"), "faq/faq.yaml:1: id 'Who Organised' must be"),
        (FAQ.replace("  question: Who organised the call?\n", "  question: Who organised the call?\n  colour: red\n"),
         "faq/faq.yaml:4: unknown key 'colour'"),
        (FAQ.replace("    - title: Launch post\n      url: https://example.org/launch\n", "    []\n").replace("sources:\n    []", "sources: []"),
         "'sources' must list at least one source"),
        (FAQ.replace("  alternatives:\n    - Which groups coordinated the campaign?\n    - Who is behind the letter?\n",
                     "  alternatives: []\n"), "faq/faq.yaml:4: 'alternatives' must be a list"),
        ("- id: a1\n  question: [unclosed\n", "faq/faq.yaml:3: not valid YAML"),
        ("just: a mapping\n", "faq/faq.yaml:1: an FAQ file must be a YAML list"),
        (FAQ.replace("answer: Three nonprofits", "answer: " + "x" * 1200 + " Three nonprofits"), "'answer' is 1"),
    ],
)
def test_faq_problems_name_file_and_line(tmp_path, faq, expected):
    problems = problems_of(write_corpus(tmp_path, faq=faq))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("letter", "expected"),
    [
        (LETTER.replace("---\nid: letter", "id: letter", 1), "documents/letter.en.md:1: a document must start with YAML front matter"),
        (LETTER.replace("kind: letter", "kind: poem"), "documents/letter.en.md:4: 'kind' is 'poem'"),
        (LETTER.replace("date: 2025-09-22", "date: 22/09/2025"), "documents/letter.en.md:7: 'date' must be a date"),
        (LETTER.replace("title: Test Letter\n", ""), "is missing 'title'"),
        (LETTER.replace("¶3:", "¶9:"), "questions name ¶9, but the document has 3 paragraphs"),
        (LETTER.replace("¶3:", "para3:"), "'para3' is not a paragraph locator"),
        (LETTER.split("---\n")[0] + "---\n" + LETTER.split("---\n")[1], "the front matter is not closed"),
        (LETTER.replace("url: https://example.org/letter", "url: [x"), "documents/letter.en.md:7: not valid YAML"),
    ],
)
def test_document_problems_name_file_and_line(tmp_path, letter, expected):
    problems = problems_of(write_corpus(tmp_path, letter=letter))
    assert any(expected in p for p in problems), problems


CORPUS_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "zh")


def test_the_corpus_languages_are_exactly_seven():
    assert LANGUAGES == CORPUS_LANGUAGES


@pytest.mark.parametrize("language", CORPUS_LANGUAGES)
def test_each_corpus_language_is_accepted_in_faq_and_documents(tmp_path, language):
    faq = FAQ.replace("  language: en\n", f"  language: {language}\n", 1)
    letter = LETTER.replace("language: en", f"language: {language}", 1)
    corpus = load_corpus(write_corpus(tmp_path, letter=letter, faq=faq))
    assert corpus.faq[0].language == language and corpus.documents[0].language == language


@pytest.mark.parametrize("language", ["ja", "ru", "xx", "EN", "Fr", "zh-Hans", "zh-CN", "pt-BR", "es_ES", "english", "de "])
def test_any_other_language_code_is_refused(tmp_path, language):
    faq = FAQ.replace("  language: en\n", f"  language: {language!r}\n", 1)
    letter = LETTER.replace("language: en", f"language: {language!r}", 1)
    problems = problems_of(write_corpus(tmp_path, letter=letter, faq=faq))
    assert any(p.startswith("faq/faq.yaml:2: 'language' is") and "must be one of en, fr, es, de, it, pt, zh" in p
               for p in problems), problems
    assert any(p.startswith("documents/letter.en.md:5: 'language' is") for p in problems), problems


def test_non_utf8_file_is_refused_with_its_line(tmp_path):
    root = write_corpus(tmp_path)
    (root / "faq" / "broken.yaml").write_bytes(b"- id: ok\n  question: caf\xe9?\n")
    assert any("faq/broken.yaml:2: not UTF-8" in p for p in problems_of(root))


def test_huge_file_is_refused(tmp_path):
    root = write_corpus(tmp_path)
    (root / "faq" / "huge.yaml").write_text("#" * 2_100_000, encoding="utf-8")
    assert any("faq/huge.yaml" in p and "the limit is" in p for p in problems_of(root))


def test_all_problems_are_reported_together(tmp_path):
    faq = textwrap.dedent("""\
        - id: a1
          question: Q?
        - id: BAD
          language: xx
        """)
    problems = problems_of(write_corpus(tmp_path, faq=faq))
    assert len(problems) >= 4


def test_missing_corpus_folder(tmp_path):
    assert "corpus folder not found" in problems_of(tmp_path / "absent")[0]
