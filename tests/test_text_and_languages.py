"""Direct tests of what reads a message: cleaning, language, keywords, glossary, follow-ups."""

from __future__ import annotations

import pytest

from bot.core.followup import contextualise, is_elliptic
from bot.core.glossary import gloss, intent
from bot.core.keywords import function_words, keyword_tokens, name_tokens, stem, to_simplified
from bot.core.language import detect_language
from bot.core.text import clean_question, has_words, words

# ---- text.py ----------------------------------------------------------------------------------------------


def test_clean_question_normalises_and_strips_invisible_characters():
    assert clean_question("  who\u200b signed\u202e  the\tletter?\x00 ") == "who signed the letter?"
    assert clean_question("cafe\u0301") == "café"  # NFC
    assert clean_question("a" + "\u0301" * 10) == "\u00e1\u0301\u0301"  # composed, then the flood trimmed to two


def test_words_and_has_words():
    assert words("Who signed the letter? 2026!") == ["who", "signed", "the", "letter", "2026"]
    assert has_words("谁签了") and not has_words("?! 🔥")


# ---- language.py ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("Who signed the letter?", "en"),
    ("Qui a signé la lettre ?", "fr"),
    ("¿Quién firmó la carta?", "es"),
    ("Wer hat den Brief unterschrieben?", "de"),
    ("Chi ha firmato la lettera?", "it"),
    ("Quem assinou a carta?", "pt"),
    ("谁签了这封公开信", "zh"),
    ("Hinton签了吗？", "zh"),          # Chinese with a Latin name in it
    ("is stiglitz on the list", "en"),  # a name does not make it German
    ("ok", "en"),                       # too short to tell: English
    ("🔥🔥", "en"),
])
def test_detect_language(text, language):
    assert detect_language(text) == language


# ---- keywords.py ------------------------------------------------------------------------------------------


def test_keyword_tokens_drop_function_words_and_stem():
    assert keyword_tokens("Who signed the letter?") == ["sign", "letter"]
    assert keyword_tokens("signatories", "en") == keyword_tokens("signatory", "en")
    assert keyword_tokens("Chi ha firmato?", "it") == keyword_tokens("l'ha firmata", "it") == ["firm"]
    assert keyword_tokens("Qui a signé ?", "fr") == ["sign"]


def test_function_words_are_per_language_plus_english():
    assert "uno" in function_words("it") and "uno" not in function_words("de")
    assert "the" in function_words("de")


def test_chinese_becomes_characters_and_pairs_in_simplified_form():
    assert to_simplified("簽署") == "签署"
    tokens = keyword_tokens("誰簽了這封信", "zh")
    assert "签" in tokens and "封信" in tokens
    assert "了" not in tokens and "谁" not in tokens  # question particles split the run


def test_stem_folds_accents():
    assert stem("signé", "fr") == stem("signe", "fr")


# ---- glossary.py ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Wer hat das bei der UNO angekündigt?", "de", {"un", "announced", "who"}),
    ("qual è la scadenza?", "it", {"deadline"}),
    ("quem assinou a carta?", "pt", {"sign", "letter", "who"}),
    ("谁签了这封公开信", "zh", {"sign", "letter"}),
    ("¿Dónde se presentó la carta?", "es", {"where", "presented", "letter"}),
])
def test_gloss_gives_the_english_terms(text, language, expected):
    assert expected <= set(gloss(text, language).split())


def test_english_is_not_glossed():
    assert gloss("Who signed the letter?", "en") == ""


@pytest.mark.parametrize(("text", "asked"), [
    ("Where was it launched?", "where"), ("When was it launched?", "when"), ("¿Quién firmó?", "who"),
    ("Wie viele haben unterschrieben?", "how many"), ("为什么是2026年？", "why"), ("What is the deadline?", None),
])
def test_intent(text, asked):
    assert intent(text) == asked


# ---- followup.py ------------------------------------------------------------------------------------------


def test_names_in_another_language_are_also_searched_as_the_corpus_stems_them():
    # The Italian stemmer cuts "Harari" to "harar"; the corpus, in English, holds "harari".
    assert stem("harari", "it") != stem("harari", "en")
    assert "harari" in name_tokens("cosa ha detto Harari della lettera?", "it")
    assert stem("openai", "en") in name_tokens("OpenAI a signé ?", "fr")
    # Only words written with a capital; function words and words stemmed alike add nothing.
    assert name_tokens("cosa ha detto harari?", "it") == []
    # ... unless the corpus holds it as a proper name: then however it is written.
    assert "harari" in name_tokens("cosa ha detto harari?", "it", frozenset({"harari"}))
    assert name_tokens("entro la fine del 2026", "it", frozenset({"harari"})) == []
    assert name_tokens("Hinton", "en") == [] and name_tokens("Hinton签了吗", "zh") == []
    from bot.core.ranking import Query

    assert "harari" in Query.search_text("Harari está entre los firmantes?", "es")[1]


def test_elliptic_follow_ups_take_the_previous_question():
    assert is_elliptic("and who organised it?", "en")
    assert is_elliptic("what about china", "en")
    assert contextualise("and bengio?", ["did geoffrey hinton sign?"], "en") == "and bengio? did geoffrey hinton sign?"


def test_a_question_that_stands_alone_is_searched_alone():
    question = "Which Nobel laureates signed the call for red lines on AI?"
    assert not is_elliptic(question, "en")
    assert contextualise(question, ["when was the call launched?"], "en") == question
    assert contextualise("and bengio?", [], "en") == "and bengio?"


def test_the_glossary_is_built_with_the_resources(config, fake_encoder):
    from bot.core import glossary
    from bot.index.store import build_index
    from bot.serving.resources import build_resources

    build_index(config, fake_encoder)
    glossary._by_first_stem.cache_clear()
    build_resources(config, fake_encoder)
    assert glossary._by_first_stem.cache_info().currsize == 1


@pytest.mark.parametrize(("text", "asked"), [("who and when?", "who"), ("when and who?", "when"),
                                             ("why, and how many?", "why"), ("qui et quand ?", "who"),
                                             ("谁什么时候签的", "who"), ("nothing asked", None)])
def test_the_first_question_word_decides_the_intent(text, asked):
    assert intent(text) == asked
