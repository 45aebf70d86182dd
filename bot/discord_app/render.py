"""Answers as Discord messages a member reads at a glance: text and embeds, in the member's language.

An answer is one embed titled with the question. The best excerpt comes first as a real block quote (``> `` opens
every quoted line) with the sentence that answers the question in bold (the words unchanged), then at most two
more excerpts, only those that score within ``CLOSE_SCORE_MARGIN`` of the first. Each excerpt is cited with a
masked link named after its source: "the letter, ¶4", "the project's FAQ, from <its source>", "press: <site>". The
message's own text is the answering sentence, so notifications and reply previews show the answer. No maintainer
data (index version, corpus hash) appears: that is in /about. Declines are short plain text (see ``decline_text``).

Limits (discord.com/developers/docs/resources/message#embed-object-embed-limits): 2,000 characters of message
content, 256 of an embed title, 4,096 of a description, 1,024 of a field, 2,048 of a footer and 6,000 for all
embeds of one message. Text is cut at a sentence boundary (or, failing that, a word boundary), marked with an
ellipsis, never mid-word. Every string a member reads comes from the catalogue (``i18n``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import discord

from bot.core.answer import Answer, DeclineKind, Excerpt
from bot.core.text import clean_question
from bot.discord_app.highlight import best_sentence, lead_sentence, located_sentences
from bot.serving.i18n import chrome_language, language_note, t

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FOOTER_LIMIT = 2048
MESSAGE_EMBEDS_LIMIT = 6000

# A phone screen shows about 900 characters of embed text. The lead excerpt (median 356 characters in the
# corpus, longest 533) is shown whole up to LEAD_BUDGET; the others are cut shorter.
LEAD_BUDGET = 700
EXTRA_BUDGET = 260
PAGE_BUDGET = 1200       # each excerpt of a "More sources" page
TITLE_BUDGET = 120       # the question as a title: two lines on a phone
PREVIEW_BUDGET = 180     # the plain-text first line
MAX_SHOWN = 3
# Further excerpts are shown only when they score this close to the first. Over the question bank the second
# excerpt trails the first by 0.09 (median); 0.05 keeps a second excerpt for about a third of the answers, when
# two sources really say the same thing.
CLOSE_SCORE_MARGIN = 0.05

ANSWER_COLOUR = discord.Colour(0xC0392B)
CLOSEST_COLOUR = discord.Colour(0xE67E22)
DECLINE_COLOUR = discord.Colour(0x7F8C8D)
_SENTENCE_END = re.compile(r"[.!?…»\"”)](?=\s)")
_MASKED_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?[^)>]*>?\s*\)")
_ANGLE_TOKEN = re.compile(r"<(/?[@#:!&a-zA-Z][^<>\n]{0,120})>")
_SCHEME = re.compile(r"(?i)\b(https?|steam|ftp|discord)://")
_INVITE = re.compile(r"(?i)\b(discord(?:app)?\.(?:gg|com/invite))/")


@dataclass(frozen=True)
class Message:
    """What to post: the plain text (first line shown in notifications) and the embeds."""

    content: str | None
    embeds: tuple[discord.Embed, ...] = field(default=())


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at the last sentence end (or space) that fits, with an ellipsis."""
    if len(text) <= limit:
        return text
    window = text[: max(0, limit - 2)]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] > limit // 3:
        return window[: ends[-1]] + " …"
    space = window.rfind(" ")
    if space > 0:
        return window[:space] + " …"
    return "…"


def defang(text: str) -> str:
    """User text made inert: no masked or bare links, no user/role/channel/command mentions, no timestamps,
    no invisible or direction-changing characters, no Markdown; one line."""
    text = clean_question(text)
    text = _MASKED_LINK.sub(lambda m: m.group(1), text)
    text = _ANGLE_TOKEN.sub(lambda m: m.group(1), text)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}:\u2060//", text)
    text = _INVITE.sub(lambda m: f"{m.group(1)}\u2060/", text)
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text, ignore_links=False))
    if text.startswith((">", "#", "-")):
        text = "\\" + text
    return text


def safe_echo(text: str, limit: int) -> str:
    """User text shown back: defanged (see ``defang``), cut cleanly within ``limit``."""
    return shorten(defang(text), limit)


def question_title(question: str, limit: int = TITLE_BUDGET) -> str:
    """The question as an embed title: defanged and cut at a word boundary."""
    return safe_echo(question, min(limit, TITLE_LIMIT))


def _link_text(text: str) -> str:
    return discord.utils.escape_markdown(text, ignore_links=False).replace("[", "\\[").replace("]", "\\]")


def _safe_url(url: str | None) -> str | None:
    """An http(s) url with the characters that would end a masked link percent-encoded; None otherwise."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._")


def masked_link(name: str, url: str | None) -> str:
    """``[name](<url>)``: the name escaped, the url unable to break out; just the name without a url."""
    safe = _safe_url(url)
    text = _link_text(name)
    return f"[{text}](<{safe}>)" if safe else text


def _site(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def citation(excerpt: Excerpt, language: str) -> str:
    """How an excerpt is cited, as a masked link to its source."""
    source = excerpt.source
    if source.kind == "faq":
        cited = source.cites or _site(source.url)
        if cited:
            return t(language, "cite.faq", source=masked_link(cited, source.url))
        return t(language, "cite.faq_plain")
    if source.kind == "letter":
        return masked_link(t(language, "cite.letter", locator=source.locator), source.url)
    name = _site(source.url) or source.title
    key = "cite.press" if source.kind == "press" else "cite.document"
    return masked_link(t(language, key, source=name, locator=source.locator), source.url)


def _escape(text: str) -> str:
    return discord.utils.escape_markdown(text, ignore_links=False)


def _window(parts: list[str], keep: int | None, budget: int) -> tuple[int, int]:
    """The run of sentences [start, end) to show: from the first, or from ``keep`` when it would not fit."""
    start = 0 if keep is None or len(" ".join(parts[: keep + 1])) <= budget else keep
    end = start
    used = 0
    while end < len(parts) and used + len(parts[end]) + 1 <= budget:
        used += len(parts[end]) + 1
        end += 1
    return start, max(end, start + 1)


def block_quote(excerpt: Excerpt, question: str | None, budget: int, *, bold: bool = True) -> str:
    """The excerpt as a block quote, every line opened by ``> ``, the answering sentence in bold, line breaks kept."""
    text = excerpt.text.strip()
    located = located_sentences(text) or [(0, text)]
    parts = [part for _, part in located]
    keep = best_sentence(question, text, answer_first=excerpt.source.kind == "faq") if bold and question else None
    start, end = _window(parts, keep, budget)
    lines: list[list[str]] = []
    previous_line = located[start][0]
    for index in range(start, end):
        line_number, part = located[index]
        part = _escape(part.strip())
        if len(part) > budget:
            part = shorten(part, budget)
        if not lines or line_number != previous_line:
            lines.extend([] for _ in range(max(0, line_number - previous_line - 1)))  # blank lines in between
            lines.append([])
            previous_line = line_number
        lines[-1].append(f"**{part}**" if index == keep else part)
    rendered = [" ".join(words_of_line) for words_of_line in lines]
    if start > 0:
        rendered[0] = "… " + rendered[0]
    if end < len(parts):
        rendered[-1] += " …"
    return "\n".join(f"> {line}" if line.strip() else ">" for line in rendered)


def cited_quote(excerpt: Excerpt, question: str | None, budget: int, language: str, *, bold: bool) -> str:
    """The quote and, as its last quoted line, its citation ("> — [the letter, ¶4](<url>)"). Inside the quote
    so that it reads the same whether or not a Markdown renderer continues a quote onto the next line (Discord
    does not; CommonMark previews do)."""
    return f"{block_quote(excerpt, question, budget, bold=bold)}\n> — {citation(excerpt, language)}"


def shown_excerpts(answer: Answer) -> tuple[Excerpt, ...]:
    """The excerpts an answer shows: the best, and up to two more that score close to it."""
    if not answer.excerpts:
        return ()
    first = answer.excerpts[0].score
    close = [e for e in answer.excerpts[1:MAX_SHOWN] if first - e.score <= CLOSE_SCORE_MARGIN]
    return (answer.excerpts[0], *close)


def _plain(text: str) -> str:
    return discord.utils.escape_mentions(_escape(" ".join(text.split())))


def _fit_description(blocks: Sequence[str]) -> str:
    kept: list[str] = []
    used = 0
    for block in blocks:
        if used + len(block) + 2 > DESCRIPTION_LIMIT - 50:
            break
        kept.append(block)
        used += len(block) + 2
    return "\n\n".join(kept)


def answer_message(answer: Answer, *, locale: object = None, title: str | None = None) -> Message:
    """An answered question: the answering sentence as text, the question as title, the quotes below."""
    language = chrome_language(answer.language, locale)
    excerpts = shown_excerpts(answer)
    lead = excerpts[0]
    blocks = []
    if answer.closest_match:
        blocks.append(f"***{t(language, 'answer.closest_match')}***")
    for index, excerpt in enumerate(excerpts):
        budget = LEAD_BUDGET if index == 0 else EXTRA_BUDGET
        blocks.append(cited_quote(excerpt, answer.question, budget, language, bold=index == 0))
    embed = discord.Embed(title=title or question_title(answer.question) or t(language, "answer.question_fallback"),
                          description=_fit_description(blocks),
                          colour=CLOSEST_COLOUR if answer.closest_match else ANSWER_COLOUR)
    embed.set_footer(text=t(language, "answer.footer"))
    preview = shorten(_plain(lead_sentence(answer.question, lead.text, answer_first=lead.source.kind == "faq")),
                      PREVIEW_BUDGET)
    note = language_note(answer.language)
    content = f"{preview}\n-# {note}" if note else preview
    return Message(content, (embed,))


def claim_message(answer: Answer, claim: str, *, locale: object = None) -> Message:
    """The passages that bear on a message checked with "Check against the letter"."""
    language = chrome_language(answer.language, locale)
    title = t(language, "answer.claim_title", claim=question_title(claim, 90))
    return answer_message(answer, locale=locale, title=shorten(title, TITLE_LIMIT))


def page_message(answer: Answer, first_number: int, *, locale: object = None) -> Message:
    """One page of "More sources": the next excerpts, each quoted whole (or cut) with its citation."""
    language = chrome_language(answer.language, locale)
    blocks = [cited_quote(e, answer.question, PAGE_BUDGET, language, bold=False) for e in answer.excerpts]
    description = _fit_description(blocks)
    shown = description.count("\n\n") + 1 if description else 0
    embed = discord.Embed(title=t(language, "answer.more_heading", first=first_number,
                                  last=first_number + max(shown, 1) - 1),
                          description=description, colour=ANSWER_COLOUR)
    embed.set_author(name=shorten(" ".join(clean_question(answer.question).split()), 200))
    return Message(None, (embed,))


def decline_text(answer: Answer, *, locale: object = None, claim: bool = False, suggestions: bool = True,
                 moderator: bool = False) -> str:
    """A decline in a few plain lines, different for chit-chat, a near miss, an unknown name, a date after the
    sources and a checked claim; with what the guard may quote, and pointers to the buttons below."""
    language = chrome_language(answer.language, locale)
    kind = answer.decline or DeclineKind.NOT_COVERED
    quote = None
    if kind == DeclineKind.CHITCHAT:
        return t(language, "decline.chitchat")
    if claim:
        lines = [t(language, "decline.claim")]
    elif kind == DeclineKind.UNKNOWN_NAME:
        name = safe_echo(answer.guard_detail, 80) if answer.guard_detail else None
        lines = [t(language, "decline.unknown_name", name=name) if name else t(language, "decline.unknown_name_plain")]
    elif kind == DeclineKind.AFTER_SOURCES:
        date = safe_echo(answer.guard_detail, 40) if answer.guard_detail else None
        lines = [t(language, "decline.after_sources", date=date) if date else t(language, "decline.after_sources_plain")]
        quote = answer.excerpts[0] if answer.excerpts else None
    else:
        lines = [t(language, "decline.not_covered")]
    if quote is not None:
        lines.append(cited_quote(quote, None, EXTRA_BUDGET, language, bold=False))
    if suggestions and answer.suggestions:
        lines.append(t(language, "decline.suggestions"))
    if moderator:
        lines.append(t(language, "decline.moderator"))
    note = language_note(answer.language)
    if note:
        lines.append(f"-# {note}")
    return shorten("\n".join(lines), CONTENT_LIMIT)


def decline_message(answer: Answer, *, locale: object = None, claim: bool = False, suggestions: bool = True,
                    moderator: bool = False) -> Message:
    return Message(decline_text(answer, locale=locale, claim=claim, suggestions=suggestions, moderator=moderator))


def render(answer: Answer, *, locale: object = None) -> Message:
    """The message for an answer or a decline."""
    return answer_message(answer, locale=locale) if answer.answered else decline_message(answer, locale=locale)
