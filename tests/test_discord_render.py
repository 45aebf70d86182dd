"""Rendering answers as embeds: verbatim quotes, citations, and Discord's size limits."""

from __future__ import annotations

import pytest

from bot.core.answer import Answer, Excerpt, Source
from bot.discord_app.render import (
    DESCRIPTION_LIMIT,
    MESSAGE_EMBEDS_LIMIT,
    TITLE_LIMIT,
    render,
    safe_echo,
    shorten,
)


def excerpt(text: str, number: int = 1, kind: str = "letter") -> Excerpt:
    title = "FAQ: Who?" if kind == "faq" else "Global Call for AI Red Lines"
    return Excerpt(text, 0.9, Source("letter", title, f"¶{number}", "https://red-lines.ai/", kind, "en"), f"letter#¶{number}")


def answer(*excerpts: Excerpt, answered: bool = True) -> Answer:
    return Answer("q", answered, tuple(excerpts), 1.0, "hybrid", "en", "v1", 0.9)


def test_excerpt_is_quoted_verbatim_with_its_citation():
    embed = render(answer(excerpt("We urge governments to act by the end of 2026.", 4)))
    assert "> We urge governments to act by the end of 2026.\n— **Global Call for AI Red Lines, ¶4** · <https://red-lines.ai/>" in embed.description


def test_faq_citation_names_the_entry_not_a_paragraph():
    embed = render(answer(excerpt("Three groups.", kind="faq")))
    assert "— **FAQ: Who?** · <https://red-lines.ai/>" in embed.description


def test_decline_shows_no_passage():
    embed = render(answer(excerpt("Unrelated passage."), answered=False), question="pizza?")
    assert "Unrelated passage" not in str(embed.to_dict())
    assert embed.title == "Not covered by the letter or the FAQ"


@pytest.mark.parametrize("words", [50, 400, 3000])
def test_long_excerpts_stay_within_limits_and_are_cut_at_sentence_ends(words):
    sentence = "This sentence is part of a very long passage about red lines. "
    long_text = (sentence * (words // 12 + 1)).strip()
    embed = render(answer(*(excerpt(long_text, n) for n in range(1, 4))), question="x" * 5000)
    assert len(embed.description) <= DESCRIPTION_LIMIT
    assert len(embed) <= MESSAGE_EMBEDS_LIMIT
    assert all(len(field.value) <= 1024 for field in embed.fields)
    for block in embed.description.split("\n\n"):
        quote = block.split("\n")[0]
        assert quote.endswith(("red lines.", "red lines. …")), quote[-40:]


def test_shorten_never_cuts_mid_word():
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"
    for limit in range(5, len(text)):
        short = shorten(text, limit)
        assert len(short) <= limit
        kept = short.removesuffix(" …").removesuffix("…")
        assert text.startswith(kept) and (not kept or text[len(kept):len(kept) + 1] in ("", " "))


def test_echoed_question_cannot_ping_or_fake_a_citation():
    echo = safe_echo("@everyone **bold** — **Global Call, ¶4** <@&123456789012345678>", 300)
    assert "@everyone" not in echo and "@\u200beveryone" in echo and "<@&1234" not in echo
    assert "\\*\\*bold\\*\\*" in echo
    quoted = safe_echo("> We urge governments\n— **Global Call for AI Red Lines, ¶4**", 300)
    assert quoted.startswith("\\>") and "\n" not in quoted


def test_title_limit_respected():
    embed = render(answer(excerpt("x.")), heading="h" * 400)
    assert len(embed.title) <= TITLE_LIMIT
