"""The project's own corpus: FAQ entries well formed and sourced, every excerpt verbatim."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlparse

import pytest

from bot.corpus.passages import corpus_passages
from bot.corpus.reader import LANGUAGES, MAX_ALTERNATIVES, load_corpus, split_paragraphs

from .conftest import REPO

# Sources graded D in the research notes (AI-written or aggregator pages): never cited.
GRADE_D_HOSTS = {
    "ailatestbyte.com", "aimodelkit.com", "blogwatch.tv", "www.aitechinsights.com", "keynews.ai",
    "aiforhumanity.eu", "www.gates-ai.com", "web3.chouyi.cc", "web3.okx.com",
}


# Documents of press fragments in other languages: each paragraph is copied word for word from the research note
# that records them, so nothing in them is our own translation.
PRESS_FRAGMENTS = {
    "press-2025-09-23-afp-es": ("es", 2), "press-2025-09-23-afp-zh": ("zh", 2),
    "press-2025-09-22-cyberethique-fr": ("fr", 4),
}
# The research note they come from, copied from the shared sources (the project never reads ../shared).
FRAGMENT_SOURCE = REPO / "tests/sources/letter_other_languages.md"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO / "corpus")


def test_corpus_check_passes(corpus):
    assert {d.id for d in corpus.documents} == {"letter", "press-2025-09-23-fr", *PRESS_FRAGMENTS}


def test_at_least_sixty_entries_and_fifteen_in_french(corpus):
    languages = Counter(entry.language for entry in corpus.faq)
    assert len(corpus.faq) >= 60
    assert languages["fr"] >= 15 and languages["en"] >= 60


# The most asked entries carry, after their own 2-5 phrasings, one phrasing in each of these languages, in this order.
OTHER_LANGUAGES = ("es", "de", "it", "pt", "zh")
MULTILINGUAL_IDS = (
    "what-is-the-call", "what-does-it-ask", "who-signed", "signatory-count", "who-organised", "deadline", "website",
    "example-red-lines", "precedents", "enforcement", "launch-date", "launch-place", "bengio", "hinton",
    "nobel-laureates", "ai-company-signatories", "why-2026", "binding-or-voluntary", "what-is-a-red-line",
    "us-position", "criticism", "human-control", "autonomous-weapons", "mass-surveillance", "bioweapons-cyber",
    "verification", "deadline-status", "route-to-agreement", "official-title", "who-did-not-sign",
)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Characters written differently in traditional Chinese: none may appear in a simplified-Chinese phrasing.
_TRADITIONAL_ONLY = set("這個們國際協議簽網絡發為條約範圍擊應對於來說會時間問題機構關與經過將還麼誰類義務願場評"
                        "書亞傑諾貝爾員監達執紅線請該")
_MARKERS = {
    "de": {"der", "die", "das", "den", "dem", "wer", "was", "wie", "wo", "wann", "warum", "welche", "hat", "haben",
           "gibt", "soll", "sollen", "wurde", "wäre", "ließe", "aufruf", "aufrufs", "ki", "unterschrieben",
           "unterzeichnet", "geht", "lautet", "bis", "ich", "finde"},
    "it": {"che", "chi", "cosa", "il", "è", "quali", "quale", "hanno", "ha", "sarebbe", "verrebbero", "firmato",
           "appello", "dell", "sull", "nell", "l", "gli", "degli", "sono", "quando", "dove", "perché", "come", "si",
           "lettera", "proprio", "entro", "tra", "firmatari", "critiche", "ricevuto", "sedi", "già"},
    "pt": {"o", "os", "as", "quem", "quais", "foi", "seria", "seriam", "assinou", "assinaram", "não", "apelo",
           "carta", "em", "que", "é", "qual", "como", "onde", "por", "um", "uma", "posso", "são", "estão", "já",
           "vermelhas", "vermelha", "linhas", "das", "do", "dos", "fóruns", "poderia"},
}


def _guess(text: str) -> str:
    """The language of one of our own phrasings: enough to keep the five in their order."""
    if _CJK.search(text):
        return "zh"
    if text.startswith("¿"):
        return "es"
    words_ = re.findall(r"[^\W\d_]+", text.lower())
    scores = {lang: sum(w in markers for w in words_) for lang, markers in _MARKERS.items()}
    if re.search(r"[äöüß]", text.lower()):
        scores["de"] += 2
    return max(scores, key=scores.get)


def test_every_entry_has_id_language_sources_and_two_to_five_phrasings(corpus):
    """2-5 phrasings in the entry's own language is the house rule; the most asked entries add one per language."""
    ids = [entry.id for entry in corpus.faq]
    assert len(ids) == len(set(ids))
    for entry in corpus.faq:
        assert entry.language in LANGUAGES, entry.id
        own = len(entry.alternatives) - (len(OTHER_LANGUAGES) if entry.id in MULTILINGUAL_IDS else 0)
        assert 2 <= own <= 5, entry.id
        assert len(entry.alternatives) <= MAX_ALTERNATIVES, entry.id
        assert entry.sources and all(s.url.startswith(("http://", "https://")) for s in entry.sources), entry.id


def test_most_asked_entries_have_one_phrasing_in_each_other_language(corpus):
    entries = {entry.id: entry for entry in corpus.faq}
    assert len(MULTILINGUAL_IDS) == len(set(MULTILINGUAL_IDS)) == 30
    for entry_id in MULTILINGUAL_IDS:
        entry = entries[entry_id]
        added = entry.alternatives[-len(OTHER_LANGUAGES):]
        assert tuple(_guess(text) for text in added) == OTHER_LANGUAGES, (entry_id, added)
        own = entry.alternatives[: -len(OTHER_LANGUAGES)]
        assert not any(_CJK.search(text) or text.startswith("¿") for text in own), entry_id
        chinese = added[-1]
        assert not _TRADITIONAL_ONLY & set(chinese), (entry_id, chinese)
        assert chinese.endswith("？"), (entry_id, chinese)
        assert len(set(entry.alternatives)) == len(entry.alternatives), entry_id


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


def test_press_fragment_documents_say_they_are_press_wording_and_ask_in_their_language(corpus):
    documents = {d.id: d for d in corpus.documents}
    for doc_id, (language, paragraphs) in PRESS_FRAGMENTS.items():
        document = documents[doc_id]
        assert document.kind == "press" and document.language == language, doc_id
        assert "not the official text" in document.title, doc_id
        assert "not the official text" in document.provenance, doc_id
        assert document.url and document.date, doc_id
        assert len(split_paragraphs(document.body)) == paragraphs, doc_id
        for number in range(1, paragraphs + 1):
            questions = document.questions_for(f"¶{number}")
            assert questions, (doc_id, number)
            if language == "zh":
                assert all(re.search(r"[\u4e00-\u9fff]", q) for q in questions), doc_id
            elif language == "es":
                assert all(q.startswith("¿") for q in questions), doc_id
            else:
                assert all(q.endswith(" ?") for q in questions), doc_id


def test_press_fragments_are_verbatim_from_the_shared_research_note(corpus):
    note = FRAGMENT_SOURCE.read_text(encoding="utf-8")
    for document in corpus.documents:
        if document.id in PRESS_FRAGMENTS:
            for _, paragraph in split_paragraphs(document.body):
                assert paragraph in note, (document.id, paragraph[:40])


COVERAGE_GAP_IDS = ("signatory-list", "how-to-sign", "sources-cutoff", "government-endorsements", "letter-translations",
                    "cais-statement", "fr-cesia-resume")


def test_coverage_gap_entries_are_there_with_three_to_five_phrasings_some_in_other_languages(corpus):
    entries = {entry.id: entry for entry in corpus.faq if entry.path == "faq/09-coverage-gaps.yaml"}
    assert tuple(entries) == COVERAGE_GAP_IDS
    for entry in entries.values():
        assert 3 <= len(entry.alternatives) <= 5, entry.id
        assert len(entry.answer) <= 1000, entry.id
    for entry_id in ("signatory-list", "how-to-sign", "sources-cutoff", "government-endorsements", "letter-translations"):
        assert any(_CJK.search(a) or a.startswith("¿") for a in entries[entry_id].alternatives), entry_id
    for entry_id in ("signatory-list", "sources-cutoff", "government-endorsements"):
        assert entries[entry_id].as_of == "2026-09-14", entry_id
    for entry_id in ("signatory-list", "how-to-sign"):
        assert "red-lines.ai" in entries[entry_id].answer and entries[entry_id].sources[0].url == "https://red-lines.ai/"
    assert "14 September 2026" in entries["sources-cutoff"].answer
    assert "cannot" in entries["signatory-list"].answer and "do not document" in entries["how-to-sign"].answer
    for word in ("French", "Spanish", "Chinese"):
        assert word in entries["letter-translations"].answer


def test_coverage_gap_facts_added_to_existing_entries(corpus):
    answers = {entry.id: entry.answer for entry in corpus.faq}
    assert "Tan Zhi Xuan" in answers["ai-scientists"]
    assert "Llamado Global por las Líneas Rojas de la IA" in answers["official-title"]
    assert "Appel mondial à établir des lignes rouges pour l'IA" in answers["official-title"]
    assert "Annalena Baerbock" in answers["global-dialogue"] and "Egriselda López" in answers["global-dialogue"]
    assert '"We totally reject global governance of AI."' in answers["us-position"]
    assert "For thousands of years, humans have learned" in answers["harari-quote"]
    assert "Arthur Grimonpont" in answers["fr-cesia-resume"]
