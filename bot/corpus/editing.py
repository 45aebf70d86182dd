"""Changing FAQ entries in the corpus files: add, edit, remove — validated first, one atomic write each.

An added entry goes to the moderators' file (``faq/90-moderators.yaml``); an edited or removed entry is
changed where it lives, by replacing only its own lines, so the rest of a hand-written file (comments
included) stays as it was and the change reads well in a git diff. Nothing is written unless the whole
corpus, with the change, still validates.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.reader import FAQ_DIR, Corpus, FaqEntry, SourceRef, is_valid_url, parse_faq_file
from bot.errors import CorpusProblem, UserFacingError

MODERATORS_FILE = f"{FAQ_DIR}/90-moderators.yaml"
MODERATORS_HEADER = ("# FAQ entries added by moderators from Discord (/faq add). Same format as the other files;\n"
                     "# each change is also in the audit log (redlines-bot report, /faq gaps).\n")


class FaqEditError(UserFacingError):
    """A moderator's change was refused; the message lists every reason."""


@dataclass(frozen=True)
class FaqDraft:
    """What a moderator typed in the modal."""

    id: str
    question: str
    alternatives: tuple[str, ...]
    answer: str
    source_url: str
    source_title: str
    language: str = "en"


@dataclass(frozen=True)
class PlannedWrite:
    """A file's new content, validated, not yet written."""

    path: Path
    relative: str
    before: str | None
    after: str
    entry_before: str | None
    entry_after: str | None


def slugify(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower().encode("ascii", "ignore").decode())
    slug = "-".join(words)[:60].strip("-")
    return slug if len(slug) >= 2 else "entry"


def draft_from_modal(question: str, alternatives: str, answer: str, source_url: str, source_title: str,
                     language: str, entry_id: str | None = None) -> FaqDraft:
    """Normalise modal text: one phrasing per line, the answer as one paragraph."""
    phrasings = tuple(line.strip(" -•\t") for line in alternatives.splitlines() if line.strip(" -•\t"))
    return FaqDraft(
        id=entry_id or slugify(question), question=" ".join(question.split()), alternatives=phrasings,
        answer=" ".join(answer.split()), source_url=source_url.strip(),
        source_title=" ".join(source_title.split()) or "Source", language=language,
    )


def _scalar(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: safe for any text.
    return json.dumps(text, ensure_ascii=False)


def entry_yaml(entry: FaqDraft | FaqEntry) -> str:
    """The canonical text of one entry, in the hand-written files' style (the answer on one line)."""
    if isinstance(entry, FaqEntry):
        sources = entry.sources
        alternatives = entry.alternatives
    else:
        sources = (SourceRef(entry.source_title, entry.source_url),)
        alternatives = entry.alternatives
    lines = [f"- id: {entry.id}", f"  language: {entry.language}", f"  question: {_scalar(entry.question)}",
             "  alternatives:"]
    lines += [f"    - {_scalar(a)}" for a in alternatives]
    lines += ["  answer: >-", f"    {entry.answer}"]
    if isinstance(entry, FaqEntry) and entry.as_of:
        lines.append(f"  as_of: {entry.as_of}")
    lines.append("  sources:")
    for source in sources:
        lines += [f"    - title: {_scalar(source.title)}", f"      url: {source.url}"]
    return "\n".join(lines) + "\n"


def check_draft(draft: FaqDraft) -> list[str]:
    """Reasons a draft cannot be saved, in words a moderator understands (empty when it is fine)."""
    reasons = []
    if not draft.question:
        reasons.append("the question is empty")
    if not draft.answer:
        reasons.append("the answer is empty")
    if not draft.alternatives:
        reasons.append("give at least one alternative phrasing (one per line)")
    if not draft.source_url:
        reasons.append("every entry needs a source url")
    elif not is_valid_url(draft.source_url):
        reasons.append(f"the source url {draft.source_url!r} is not an http(s) address")
    if len(draft.answer) > 1000:
        reasons.append(f"the answer is {len(draft.answer)} characters; the limit is 1,000")
    if len(draft.question) > 300:
        reasons.append(f"the question is {len(draft.question)} characters; the limit is 300")
    if len(draft.alternatives) > 10:
        reasons.append("at most 10 alternative phrasings")
    return reasons


@dataclass(frozen=True)
class _Located:
    """An entry and its file, with the 0-based [start, end) range of its lines."""

    entry: FaqEntry
    path: Path
    before: str
    lines: list[str]
    start: int
    end: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines[self.start : self.end]) + "\n"


def _locate(corpus: Corpus, entry_id: str) -> _Located:
    """Find an entry's lines in its file: from its line to the next entry's (trailing blank lines excluded)."""
    entry = corpus.faq_entry(entry_id)
    if entry is None:
        raise FaqEditError(f"There is no FAQ entry with id '{entry_id}'.")
    path = corpus.root / entry.path
    before = path.read_text(encoding="utf-8")
    lines = before.split("\n")
    start = (entry.line or 1) - 1
    later = sorted(e.line for e in corpus.faq if e.path == entry.path and e.line and e.line > (entry.line or 0))
    end = (later[0] - 1) if later else len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    return _Located(entry, path, before, lines, start, end)


def _validate_planned(corpus: Corpus, relative: str, new_text: str) -> None:
    """The file parses and validates, and ids stay unique across the corpus."""
    problems: list[CorpusProblem] = []
    entries = parse_faq_file(new_text, relative, problems)
    others = {e.id for e in corpus.faq if e.path != relative} | {d.id for d in corpus.documents}
    seen: set[str] = set()
    for entry in entries:
        if entry.id in others or entry.id in seen:
            problems.append(CorpusProblem(relative, entry.line, f"duplicate id '{entry.id}'"))
        seen.add(entry.id)
    if problems:
        raise FaqEditError("the change would make the corpus invalid: " + "; ".join(str(p) for p in problems))


def plan_add(corpus: Corpus, draft: FaqDraft) -> PlannedWrite:
    reasons = check_draft(draft)
    if corpus.faq_entry(draft.id) or any(d.id == draft.id for d in corpus.documents):
        reasons.append(f"an entry with id '{draft.id}' already exists (edit it with /faq edit {draft.id})")
    if reasons:
        raise FaqEditError("Not saved: " + "; ".join(reasons) + ".")
    path = corpus.root / MODERATORS_FILE
    before = path.read_text(encoding="utf-8") if path.exists() else None
    base = before if before is not None else MODERATORS_HEADER
    text = entry_yaml(draft)
    after = base.rstrip("\n") + "\n\n" + text
    _validate_planned(corpus, MODERATORS_FILE, after)
    return PlannedWrite(path, MODERATORS_FILE, before, after, None, text)


def plan_edit(corpus: Corpus, entry_id: str, draft: FaqDraft) -> PlannedWrite:
    found = _locate(corpus, entry_id)
    entry = found.entry
    reasons = check_draft(draft)
    if reasons:
        raise FaqEditError("Not saved: " + "; ".join(reasons) + ".")
    # The modal edits the first source; any further sources and the as-of date are kept.
    updated = dataclasses.replace(
        entry, question=draft.question, alternatives=draft.alternatives, answer=draft.answer, language=draft.language,
        sources=(SourceRef(draft.source_title, draft.source_url), *entry.sources[1:]))
    new_text = entry_yaml(updated)
    lines = found.lines
    after = "\n".join([*lines[: found.start], new_text.rstrip("\n"), *lines[found.end :]])
    _validate_planned(corpus, entry.path, after)
    return PlannedWrite(found.path, entry.path, found.before, after, found.text, new_text)


def plan_remove(corpus: Corpus, entry_id: str) -> PlannedWrite:
    found = _locate(corpus, entry_id)
    start = found.start
    remaining = found.lines[:start] + found.lines[found.end :]
    # Drop a doubled blank line left where the entry was.
    if start < len(remaining) and start > 0 and not remaining[start].strip() and not remaining[start - 1].strip():
        del remaining[start]
    after = "\n".join(remaining)
    _validate_planned(corpus, found.entry.path, after)
    return PlannedWrite(found.path, found.entry.path, found.before, after, found.text, None)


def draft_of(entry: FaqEntry) -> FaqDraft:
    """An existing entry as a draft, to prefill the edit modal."""
    source = entry.sources[0]
    return FaqDraft(entry.id, entry.question, entry.alternatives, entry.answer, source.url, source.title,
                    entry.language)

