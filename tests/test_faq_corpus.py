"""The project's own corpus: FAQ entries well formed and sourced, every excerpt verbatim."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlparse

import pytest

from bot.corpus.passages import corpus_passages
from bot.corpus.reader import load_corpus

from .conftest import REPO

# Sources graded D in the research notes (AI-written or aggregator pages): never cited.
GRADE_D_HOSTS = {
    "ailatestbyte.com", "aimodelkit.com", "blogwatch.tv", "www.aitechinsights.com", "keynews.ai",
    "aiforhumanity.eu", "www.gates-ai.com", "web3.chouyi.cc", "web3.okx.com",
}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO / "corpus")


def test_corpus_check_passes(corpus):
    assert {d.id for d in corpus.documents} == {"letter", "press-2025-09-23-fr"}


def test_at_least_sixty_entries_and_fifteen_in_french(corpus):
    languages = Counter(entry.language for entry in corpus.faq)
    assert len(corpus.faq) >= 60
    assert languages["fr"] >= 15 and languages["en"] >= 60


def test_every_entry_has_id_language_sources_and_two_to_five_phrasings(corpus):
    ids = [entry.id for entry in corpus.faq]
    assert len(ids) == len(set(ids))
    for entry in corpus.faq:
        assert entry.language in ("en", "fr"), entry.id
        assert 2 <= len(entry.alternatives) <= 5, entry.id
        assert entry.sources and all(s.url.startswith(("http://", "https://")) for s in entry.sources), entry.id


def test_no_entry_cites_a_grade_d_source(corpus):
    for entry in corpus.faq:
        for source in entry.sources:
            assert urlparse(source.url).netloc not in GRADE_D_HOSTS, (entry.id, source.url)


def test_every_quotable_excerpt_is_a_verbatim_substring_of_its_file(corpus):
    passages, _ = corpus_passages(corpus)
    texts = {}
    for passage in passages:
        if passage.path not in texts:
            texts[passage.path] = (REPO / "corpus" / passage.path).read_text(encoding="utf-8")
        assert passage.text in texts[passage.path], (passage.id, passage.text[:60])


def test_letter_is_the_four_paragraphs_verbatim(corpus):
    letter = next(d for d in corpus.documents if d.id == "letter")
    paragraphs = [p for p in letter.body.split("\n\n") if p.strip()]
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("AI holds immense potential to advance human wellbeing")
    assert paragraphs[3] == ("We urge governments to reach an international agreement on red lines for AI — ensuring "
                             "they are operational, with robust enforcement mechanisms — by the end of 2026.")


def test_changing_figures_carry_their_date(corpus):
    """An answer that gives a signatory count also says when that count was true."""
    for entry in corpus.faq:
        if re.search(r"\b(200|300)\+", entry.answer):
            assert re.search(r"20(25|26)", entry.answer), entry.id
