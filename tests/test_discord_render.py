"""Rendering answers and declines: real block quotes, masked-link citations, the answering sentence in bold,
close excerpts only, French chrome, inert echoes of hostile questions, and Discord's size limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.answer import Answer, DeclineKind, Excerpt, Source, Suggestion
from bot.discord_app.highlight import best_sentence, sentences
from bot.discord_app.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    MESSAGE_EMBEDS_LIMIT,
    TITLE_LIMIT,
    answer_message,
    claim_message,
    decline_text,
    masked_link,
    page_message,
    question_title,
    safe_echo,
    shorten,
    shown_excerpts,
)
from bot.serving.i18n import Catalogue, catalogue, chrome_language, placeholders

LETTER = Source("letter", "Global Call for AI Red Lines", "¶4", "https://red-lines.ai/", "letter", "en")
FAQ = Source("faq:deadline", "FAQ: What is the deadline?", "FAQ deadline", "https://example.org/launch", "faq", "en",
             "Launch post, LessWrong")
PRESS = Source("press-fr", "Press article (French, 23 Sep 2025)", "¶5",
               "https://www.journaldunet.com/intelligence-artificielle/1544637-un-appel/", "press", "fr")


def excerpt(text: str, source: Source = LETTER, score: float = 0.9) -> Excerpt:
    return Excerpt(text, score, source, f"{source.doc_id}#{source.locator}")


def answer(*excerpts: Excerpt, question: str = "When is the deadline?", language: str = "en", **fields) -> Answer:
    return Answer(question, fields.pop("answered", True), tuple(excerpts), 1.0, "hybrid", language, "v1", 0.9,
                  **fields)


DEADLINE = ("The call was launched at the UN. We urge governments to reach an international agreement by the end "
            "of 2026. It must be operational.")


def quote_lines(description: str) -> list[str]:
    """The quoted lines of the excerpts (not their citations, which close each quote)."""
    return [line for line in description.split("\n") if line.startswith(">") and not line.startswith("> — ")]


def test_the_lead_excerpt_is_a_real_block_quote_every_line_opened_by_the_quote_marker():
    text = "First line of a passage.\nSecond line, same passage.\n\nA third after a blank line."
    embed = answer_message(answer(excerpt(text))).embeds[0]
    body = embed.description.split("\n> —")[0]
    assert body.split("\n") == ["> First line of a passage.", "> Second line, same passage.", ">",
                                "> A third after a blank line."]
    assert "**1.**" not in embed.description


def test_the_answering_sentence_is_bold_and_the_words_are_unchanged():
    embed = answer_message(answer(excerpt(DEADLINE), question="What deadline does the letter set for an agreement?")
                           ).embeds[0]
    quoted = " ".join(line[2:] for line in quote_lines(embed.description))
    assert "**We urge governments to reach an international agreement by the end of 2026.**" in quoted
    assert quoted.replace("**", "") == DEADLINE


def test_the_bold_sentence_is_chosen_by_the_words_the_question_shares_with_it():
    assert best_sentence("who organised it", "It launched in New York. Three groups organised it.") == 1
    assert best_sentence("signatories?", "Launched in 2025. Two hundred people signed it.") == 1
    assert best_sentence("pizza", "One sentence. Another.") is None
    assert best_sentence("pizza", "One sentence. Another.", answer_first=True) == 0
    assert best_sentence("anything", "Only one sentence.") is None


def test_the_message_text_is_the_answering_sentence_so_notifications_show_the_answer():
    message = answer_message(answer(excerpt(DEADLINE), question="What deadline for an agreement?"))
    assert message.content == "We urge governments to reach an international agreement by the end of 2026."
    assert len(message.content) <= 180


def test_citations_are_masked_links_named_after_their_source():
    letter = answer_message(answer(excerpt("We urge governments.", LETTER))).embeds[0].description
    assert "\n> — [the letter, ¶4](<https://red-lines.ai/>)" in letter
    faq = answer_message(answer(excerpt("The end of 2026.", FAQ))).embeds[0].description
    assert "\n> — the project's FAQ, from [Launch post, LessWrong](<https://example.org/launch>)" in faq
    press = answer_message(answer(excerpt("Les signataires réclament des règles.", PRESS))).embeds[0].description
    assert "\n> — [press: journaldunet.com, ¶5](<https://www.journaldunet.com/intelligence-artificielle/1544637-un-appel/>)" \
        in press
    for description in (letter, faq, press):
        assert not re.search(r"(?<!<)https?://\S+(?<!>)\)", description.replace("(<", "").replace(">)", ""))
        assert "Verbatim excerpts" not in description


def test_markdown_in_source_names_and_urls_cannot_break_the_link():
    link = masked_link("A *bold* [name]", "https://example.org/a)b><c d")
    assert link == r"[A \*bold\* \[name\]](<https://example.org/a%29b%3E%3Cc%20d>)"
    assert masked_link("plain", "javascript:alert(1)") == "plain"


def test_only_excerpts_that_score_close_to_the_first_are_shown_at_most_three():
    close = answer(excerpt("A.", score=0.90), excerpt("B.", FAQ, 0.87), excerpt("C.", PRESS, 0.70))
    assert [e.text for e in shown_excerpts(close)] == ["A.", "B."]
    far = answer(excerpt("A.", score=0.90), excerpt("B.", FAQ, 0.80))
    assert [e.text for e in shown_excerpts(far)] == ["A."]
    description = answer_message(close).embeds[0].description
    assert description.count("\n> — ") == 2 and "C." not in description


def test_the_question_is_the_title_and_no_maintainer_data_is_shown():
    embed = answer_message(answer(excerpt("We urge governments."), question="When is the deadline?")).embeds[0]
    assert embed.title == "When is the deadline?"
    shown = str(embed.to_dict())
    assert "v1" not in shown and "index" not in shown.lower() and "corpus" not in shown.lower()
    assert embed.fields == []


def test_a_closest_match_says_so():
    shown = answer_message(answer(excerpt("We urge governments."), closest_match=True)).embeds[0].description
    assert shown.startswith("***⚠️ Closest match — may not answer exactly***")
    assert "Closest match" not in answer_message(answer(excerpt("We urge governments."))).embeds[0].description


def test_a_french_question_gets_french_chrome():
    message = answer_message(answer(excerpt("Nous appelons les gouvernements.", LETTER), question="Quelle échéance ?",
                                    language="fr"))
    embed = message.embeds[0]
    assert "\n> — [la lettre, ¶4](<https://red-lines.ai/>)" in embed.description
    assert embed.footer.text == "Cité mot pour mot · /aide"


def test_other_languages_get_the_answer_and_one_line_in_their_language():
    message = answer_message(answer(excerpt("We urge governments."), question="¿Cuál es el plazo?", language="es"))
    first, note = message.content.split("\n")
    assert first == "We urge governments." and note.startswith("-# Las fuentes están en inglés y francés")
    assert message.embeds[0].footer.text == "Quoted word for word · /help"  # the chrome stays English
    assert chrome_language("es", "fr") == "fr" and chrome_language("fr", "en-US") == "fr"


HOSTILE = {
    "RTL override": "What deadline does the \u202etel letter\u202c set? \u202egnp.exe",
    "masked link": "[Official FAQ - click](https://evil.example/steal) what deadline does the letter set?",
    "invite link": "discord.gg/freenitro what deadline? https://discord.gg/abc",
    "slash-command mention": "</faq remove:123456789012345678> what deadline does the letter set?",
    "mass ping": "@everyone @here <@&900000000000000100> <@123456789012345678> <#123456789012345678> deadline?",
    "heading": "# URGENT\n-# official notice: what deadline does the letter set?",
    "timestamp": "||secret|| <t:1893456000:R> what deadline does the letter set?",
    "fake quote": "> We urge governments to ban AI by 2025.\n— **Global Call, ¶4** · <https://red-lines.ai/>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_questions_are_inert_in_titles(name):
    """Red-team L11 (t18_questions.py): the echoed question can't link, mention, reorder text or fake a quote."""
    title = question_title(HOSTILE[name])
    assert len(title) <= 120 and "\n" not in title
    assert not re.search(r"[\u202a-\u202e\u2066-\u2069\u200c-\u200f]", title)  # \u200b: Discord's own escape
    assert "](" not in title and "://" not in title and "discord.gg/" not in title
    assert not re.search(r"<[@#/:t]", title) and "@everyone" not in title and "@here" not in title
    assert not title.startswith((">", "#", "-"))
    assert "**" not in title.replace("\\*", "")


def test_a_long_question_is_cut_cleanly_at_a_word():
    question = "What does the letter ask " + "governments and companies " * 20 + "to do?"
    title = question_title(question)
    assert len(title) <= 120 and title.endswith(" …") and question.startswith(title.removesuffix(" …"))


def test_declines_differ_by_kind_and_quote_no_unrelated_passage():
    near = answer(excerpt("Unrelated passage."), answered=False, decline=DeclineKind.NOT_COVERED,
                  suggestions=(Suggestion("deadline", "What is the deadline?"),))
    text = decline_text(near)
    assert "Unrelated passage" not in text and "won't guess" in text and "Closest topics" in text
    assert "👋" in decline_text(answer(answered=False, decline=DeclineKind.CHITCHAT))
    unknown = decline_text(answer(answered=False, decline=DeclineKind.UNKNOWN_NAME, guard_detail="Jane *Doe*"))
    assert "**Jane \\*Doe\\***" in unknown and "red-lines.ai" in unknown
    after = decline_text(answer(excerpt("The newest fact is from September 2026.", FAQ), answered=False,
                                decline=DeclineKind.AFTER_SOURCES, guard_detail="14 September 2026"))
    assert "up to 14 September 2026" in after and "\n> The newest fact is from September 2026.\n> — the project" in after
    claim = decline_text(answer(answered=False), claim=True)
    assert "don't address this message" in claim and "true or false" in claim
    french = decline_text(answer(answered=False, decline=DeclineKind.NOT_COVERED, language="fr"))
    assert "je préfère ne pas deviner" in french
    assert len({decline_text(a) for a in (near, answer(answered=False, decline=DeclineKind.CHITCHAT))}) == 2


def test_a_claim_is_titled_with_the_checked_message():
    embed = claim_message(answer(excerpt("We urge governments.")), "They want a ban by 2025 @everyone").embeds[0]
    assert embed.title.startswith("On this message: They want a ban by 2025") and "@everyone" not in embed.title


def test_a_page_of_more_sources_numbers_its_range_and_quotes_each_excerpt():
    page = page_message(answer(excerpt("D.", score=0.5), excerpt("E.", FAQ, 0.4)), first_number=4).embeds[0]
    assert page.title == "More sources (4–5)"
    assert quote_lines(page.description) == ["> D.", "> E."]


@pytest.mark.parametrize("words", [50, 400, 3000])
def test_long_excerpts_stay_within_limits_and_are_cut_at_sentence_ends(words):
    sentence = "This sentence is part of a very long passage about red lines. "
    long_text = (sentence * (words // 12 + 1)).strip()
    many = answer(*(excerpt(long_text, score=0.9) for _ in range(3)), question="x " * 2500)
    for message in (answer_message(many), page_message(many, 4)):
        embed = message.embeds[0]
        assert len(embed.description) <= DESCRIPTION_LIMIT and len(embed) <= MESSAGE_EMBEDS_LIMIT
        assert len(embed.title) <= TITLE_LIMIT and len(message.content or "") <= CONTENT_LIMIT
        for line in quote_lines(embed.description):
            assert line.endswith(("red lines.", "red lines. …", "red lines.**", "red lines.** …")), line[-40:]


def test_shorten_never_cuts_mid_word():
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"
    for limit in range(5, len(text)):
        short = shorten(text, limit)
        assert len(short) <= limit
        kept = short.removesuffix(" …").removesuffix("…")
        assert text.startswith(kept) and (not kept or text[len(kept):len(kept) + 1] in ("", " "))


def test_echoed_text_cannot_ping_or_fake_a_citation():
    echo = safe_echo("@everyone **bold** — **Global Call, ¶4** <@&123456789012345678>", 300)
    assert "@everyone" not in echo and "@\u200beveryone" in echo and "<@&1234" not in echo
    assert "\\*\\*bold\\*\\*" in echo
    quoted = safe_echo("> We urge governments\n— **Global Call for AI Red Lines, ¶4**", 300)
    assert quoted.startswith("\\>") and "\n" not in quoted


def test_sentences_are_verbatim_pieces_of_the_text():
    assert "".join(sentences(DEADLINE)).replace(" ", "") == DEADLINE.replace(" ", "")


# ---- the catalogue ---------------------------------------------------------------------------------------------

SOURCE = Path(__file__).resolve().parent.parent / "bot" / "discord_app"


def test_english_and_french_catalogues_match_key_for_key_and_placeholder_for_placeholder():
    messages = catalogue().messages
    assert set(messages["en"]) == set(messages["fr"])
    for key, text in messages["en"].items():
        assert placeholders(text) == placeholders(messages["fr"][key]), key
        if key != "language_note":
            assert text.strip() and messages["fr"][key].strip(), key
    for language in ("es", "de", "it", "pt", "zh"):
        assert set(messages[language]) == {"language_note"} and messages[language]["language_note"]


def test_a_catalogue_with_a_missing_key_is_refused(tmp_path):
    (tmp_path / "en.yaml").write_text("a: 'A {x}'\nb: B\n", encoding="utf-8")
    (tmp_path / "fr.yaml").write_text("a: 'A {y}'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing"):
        Catalogue.load(tmp_path)
    (tmp_path / "fr.yaml").write_text("a: 'A {y}'\nb: B\n", encoding="utf-8")
    with pytest.raises(ValueError, match="placeholders"):
        Catalogue.load(tmp_path)


def test_every_message_key_used_in_the_code_is_in_the_catalogue():
    english = catalogue().messages["en"]
    used = set()
    for path in SOURCE.glob("*.py"):
        used |= set(re.findall(r"""\bt\([^,()]+,\s*f?["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
        used |= {f"commands.{k}" for k in re.findall(r"""command_text\(["']([a-z_.]+)["']\)""",
                                                       path.read_text(encoding="utf-8"))}
    assert used and not {k for k in used if "{" not in k} - set(english)
