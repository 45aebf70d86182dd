"""Changing FAQ entries in the corpus files: add, edit, remove — validated first, one atomic write each.

An added entry goes to the moderators' file (``faq/90-moderators.yaml``); an edited or removed entry is
changed where it lives, by replacing only its own text, so the rest of a hand-written file stays byte for
byte as it was (comments, blank lines, CRLF line endings, a byte-order mark) and the change reads well in
a git diff. An entry is found by the positions PyYAML reports, never by counting lines, so line breaks
that YAML counts and editors don't (a lone CR, U+0085, U+2028) cannot shift it. After planning, the new
file is parsed again and every other entry must be exactly as before, and the changed one exactly as
intended; otherwise nothing is written.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.limits import (
    MAX_ALTERNATIVES,
    MAX_ALTERNATIVES_TEXT_CHARS,
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    alternatives_text,
)
from bot.corpus.reader import FAQ_DIR, LANGUAGES, Corpus, FaqEntry, SourceRef, parse_faq_file, shown, url_problem
from bot.corpus.yaml_lines import (
    YAML_LINE_BREAKS,
    YamlProblem,
    compose,
    last_content_index,
    line_end,
    line_start,
    tokens,
)
from bot.errors import CorpusProblem, StorageError, UserFacingError

MODERATORS_FILE = f"{FAQ_DIR}/90-moderators.yaml"
MODERATORS_HEADER = ("# FAQ entries added by moderators from Discord (/faq add). Same format as the other files;\n"
                     "# each change is also in the audit log (redlines-bot report, /faq gaps).\n")
SHOWN_VERSION_CHARS = 700  # each version shown in a conflict message (Discord messages hold 2,000)


class FaqEditError(UserFacingError):
    """A moderator's change was refused; the message lists every reason."""


class FaqEditConflict(FaqEditError):
    """The entry changed after the moderator's form was filled: saving would overwrite that change."""

    def __init__(self, entry_id: str, current: FaqEntry | None, yours: FaqEntry | FaqDraft) -> None:
        self.entry_id = entry_id
        self.current: str | None = None
        self.yours = entry_yaml(yours)
        if current is None:
            now = "It has been removed since."
        else:
            self.current = current_text = entry_yaml(current)
            differ = [name for name in ("question", "alternatives", "answer", "sources", "language")
                      if getattr(current, name) != getattr(yours, name)]
            now = (f"Your version and the current one differ in: {', '.join(differ) or 'nothing'}.\n"
                   f"**Now:**\n{_code_block(current_text)}")
        super().__init__(
            f"Not saved: `{entry_id}` was changed after you opened the form (by another moderator or by hand), "
            f"and saving would overwrite that change. Open `/faq edit {entry_id}` again to start from the current "
            f"version; yours is below to copy from.\n{now}\n**Yours:**\n{_code_block(self.yours)}")


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
    # The fingerprint of the entry the form was filled from (``entry_fingerprint``): an edit is refused if
    # the entry has changed since, instead of silently overwriting the other change. None for a new entry.
    based_on: str | None = None


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
                     language: str, entry_id: str | None = None, based_on: str | None = None) -> FaqDraft:
    """Normalise modal text: one phrasing per line, the answer as one paragraph."""
    phrasings = tuple(line.strip(" -•\t") for line in alternatives.splitlines() if line.strip(" -•\t"))
    return FaqDraft(
        id=entry_id or slugify(question), question=" ".join(question.split()), alternatives=phrasings,
        answer=" ".join(answer.split()), source_url=source_url.strip(),
        source_title=" ".join(source_title.split()) or "Source", language=language, based_on=based_on,
    )


def _scalar(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: safe for any text. Line breaks that JSON leaves
    # raw but YAML would fold into a space are escaped too, so the text round-trips exactly.
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.replace("\x85", "\\x85").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


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


def entry_content(entry: FaqEntry) -> tuple:
    """What an entry says, without where it is: two entries with equal content answer the same."""
    return (entry.id, entry.question, entry.alternatives, entry.answer, entry.sources, entry.language, entry.as_of)


def entry_fingerprint(entry: FaqEntry) -> str:
    """A short hash of an entry's content: a form carries it to detect that the entry changed meanwhile."""
    content = entry_content(entry)
    text = json.dumps([*content[:4], [[s.title, s.url] for s in entry.sources], *content[5:]], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_draft(draft: FaqDraft) -> list[str]:
    """Reasons a draft cannot be saved, in words a moderator understands (empty when it is fine)."""
    reasons = []
    if not draft.question:
        reasons.append("the question is empty")
    elif len(draft.question) > MAX_QUESTION_CHARS:
        reasons.append(f"the question is {len(draft.question)} characters; the limit is {MAX_QUESTION_CHARS:,}")
    if not draft.answer:
        reasons.append("the answer is empty")
    elif len(draft.answer) > MAX_ANSWER_CHARS:
        reasons.append(f"the answer is {len(draft.answer)} characters; the limit is {MAX_ANSWER_CHARS:,}")
    if not draft.alternatives:
        reasons.append("give at least one alternative phrasing (one per line)")
    elif len(draft.alternatives) > MAX_ALTERNATIVES:
        reasons.append(f"at most {MAX_ALTERNATIVES} alternative phrasings")
    elif any(len(a) > MAX_QUESTION_CHARS for a in draft.alternatives):
        reasons.append(f"each alternative phrasing must be at most {MAX_QUESTION_CHARS:,} characters")
    elif len(alternatives_text(draft.alternatives)) > MAX_ALTERNATIVES_TEXT_CHARS:
        reasons.append(f"the alternative phrasings total more than {MAX_ALTERNATIVES_TEXT_CHARS:,} characters")
    if not draft.source_url:
        reasons.append("every entry needs a source url")
    else:
        problem = url_problem(draft.source_url)
        if problem:
            reasons.append(f"the source url {shown(draft.source_url)} {problem}")
    if len(draft.source_title) > MAX_SOURCE_TITLE_CHARS:
        reasons.append(f"the source title is {len(draft.source_title)} characters; the limit is {MAX_SOURCE_TITLE_CHARS}")
    if draft.language not in LANGUAGES:
        reasons.append(f"the language must be one of {', '.join(LANGUAGES)}")
    return reasons


# ---- finding an entry's text in its file ------------------------------------------------------------------

@dataclass(frozen=True)
class _Located:
    """An entry in its file: the character range [start, end) of its lines, and what surrounds it."""

    entry: FaqEntry
    entries: tuple[FaqEntry, ...]  # every entry of the file, in order, as the file is now
    path: Path
    before: str
    start: int
    end: int
    indent: int
    comments: tuple[str, ...]  # comments written inside the entry, kept by an edit

    @property
    def text(self) -> str:
        return self.before[self.start : self.end]


def _read(path: Path) -> str:
    # Bytes, decoded: read_text() would turn CRLF into LF, and the file would be written back changed.
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise StorageError(path, exc) from exc
    except UnicodeDecodeError:
        raise FaqEditError(f"{path.name} is not UTF-8 text; fix it by hand first (redlines-bot corpus check).") from None


def newline_of(text: str) -> str:
    """The line ending a file mostly uses, so new lines match the old ones."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _parsed(text: str, relative: str) -> tuple[FaqEntry, ...]:
    problems: list[CorpusProblem] = []
    entries = parse_faq_file(text, relative, problems)
    if problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise FaqEditError(f"Not saved: {relative} has problems; fix them by hand first: {listed}")
    return tuple(entries)


def _cannot(relative: str, why: str) -> FaqEditError:
    return FaqEditError(f"Not saved: {why} in {relative}, so it can't be changed safely from Discord. Edit the file "
                        "by hand, then use /reload.")


def _locate(corpus: Corpus, entry_id: str) -> _Located:
    entry = corpus.faq_entry(entry_id)
    if entry is None:
        raise FaqEditError(f"There is no FAQ entry with id '{entry_id}'.")
    path = corpus.root / entry.path
    before = _read(path)
    entries = _parsed(before, entry.path)
    position = next((i for i, e in enumerate(entries) if e.id == entry_id), None)
    if position is None:
        raise FaqEditError(f"There is no FAQ entry with id '{entry_id}' in {entry.path} any more.")
    try:
        root = compose(before)
        found_tokens = tokens(before)
    except YamlProblem as exc:  # parsed a moment ago; only a concurrent hand edit gets here
        raise FaqEditError(f"Not saved: {entry.path} is not valid YAML: {exc.reason}") from None
    if root is None or getattr(root, "flow_style", False) or len(root.value) != len(entries):
        raise _cannot(entry.path, "the entries are written in flow style ([{...}, {...}])")
    dashes = [t.start_mark.index for t in found_tokens if t.id == "-"]

    def dash_of(index: int) -> int | None:
        node_start = root.value[index].start_mark.index
        return max((d for d in dashes if d < node_start), default=None)

    dash = dash_of(position)
    if dash is None:
        raise _cannot(entry.path, f"'{entry_id}' is not written as a '- id: ...' list item")
    start = line_start(before, dash)
    if start == 0 and before.startswith("\ufeff"):
        start = 1  # the byte-order mark belongs to the file, not to the first entry
    prefix = before[start:dash]
    if prefix.strip(" "):
        raise _cannot(entry.path, f"'{entry_id}' shares its first line with something else")
    end = line_end(before, last_content_index(root.value[position], before))
    following = dash_of(position + 1) if position + 1 < len(entries) else None
    if following is not None and following < end:
        raise _cannot(entry.path, f"'{entry_id}' shares its last line with the next entry")
    if position > 0 and last_content_index(root.value[position - 1], before) >= start:
        raise _cannot(entry.path, f"'{entry_id}' shares its first line with the previous entry")
    return _Located(entries[position], entries, path, before, start, end, len(prefix),
                    _comments(before, start, end, found_tokens))


def _comments(text: str, start: int, end: int, found_tokens: list) -> tuple[str, ...]:
    """The comments between ``start`` and ``end``: a '#' that no token covers, after a space or at a line start."""
    spans = sorted((t.start_mark.index, t.end_mark.index) for t in found_tokens)
    starts = [s for s, _ in spans]
    comments = []
    index = text.find("#", start, end)
    while index != -1:
        covering = bisect.bisect_right(starts, index) - 1
        inside_token = covering >= 0 and spans[covering][0] <= index < spans[covering][1]
        after_space = index == 0 or text[index - 1] in f" \t{YAML_LINE_BREAKS}"
        if not inside_token and after_space:
            stop = index
            while stop < end and text[stop] not in YAML_LINE_BREAKS:
                stop += 1
            comments.append(text[index:stop].rstrip())
            index = text.find("#", stop, end)
        else:
            index = text.find("#", index + 1, end)
    return tuple(comments)


def _block(text: str, indent: int, newline: str, ends_with_break: bool = True) -> str:
    """Entry text indented to the file's list column, with the file's line ending."""
    lines = [" " * indent + line if line else line for line in text.rstrip("\n").split("\n")]
    return newline.join(lines) + (newline if ends_with_break else "")


# ---- planning a change ------------------------------------------------------------------------------------

def _check_result(corpus: Corpus, relative: str, after: str, expected: list[FaqEntry] | tuple[FaqEntry, ...]) -> None:
    """The new file validates, ids stay unique across the corpus, and its entries are exactly ``expected``."""
    problems: list[CorpusProblem] = []
    entries = parse_faq_file(after, relative, problems)
    others = {e.id for e in corpus.faq if e.path != relative} | {d.id for d in corpus.documents}
    seen: set[str] = set()
    for entry in entries:
        if entry.id in others or entry.id in seen:
            problems.append(CorpusProblem(relative, entry.line, f"duplicate id '{entry.id}'"))
        seen.add(entry.id)
    if problems:
        raise FaqEditError("the change would make the corpus invalid: " + "; ".join(str(p) for p in problems[:5]))
    if [entry_content(e) for e in entries] != [entry_content(e) for e in expected]:
        raise _cannot(relative, "the file's layout would make the change touch other entries")


def plan_add(corpus: Corpus, draft: FaqDraft) -> PlannedWrite:
    reasons = check_draft(draft)
    if corpus.faq_entry(draft.id) or any(d.id == draft.id for d in corpus.documents):
        reasons.append(f"an entry with id '{draft.id}' already exists (edit it with /faq edit {draft.id})")
    if reasons:
        raise FaqEditError("Not saved: " + "; ".join(reasons) + ".")
    path = corpus.root / MODERATORS_FILE
    before = _read(path) if path.exists() else None
    base = before if before is not None else MODERATORS_HEADER
    existing = _parsed(base, MODERATORS_FILE)
    newline = newline_of(base)
    text = _block(entry_yaml(draft), 0, newline)
    after = base.rstrip(YAML_LINE_BREAKS) + newline * 2 + text
    _check_result(corpus, MODERATORS_FILE, after, [*existing, _as_entry(draft, None)])
    return PlannedWrite(path, MODERATORS_FILE, before, after, None, text)


def _as_entry(draft: FaqDraft, like: FaqEntry | None) -> FaqEntry:
    if like is None:
        return FaqEntry(id=draft.id, question=draft.question, alternatives=draft.alternatives, answer=draft.answer,
                        sources=(SourceRef(draft.source_title, draft.source_url),), language=draft.language,
                        as_of=None, path=MODERATORS_FILE, line=None)
    # The modal edits the first source; any further sources and the as-of date are kept.
    return dataclasses.replace(
        like, question=draft.question, alternatives=draft.alternatives, answer=draft.answer, language=draft.language,
        sources=(SourceRef(draft.source_title, draft.source_url), *like.sources[1:]))


def plan_edit(corpus: Corpus, entry_id: str, draft: FaqDraft) -> PlannedWrite:
    """Replace one entry's text. If the draft was filled from the entry (``draft.based_on``) and the entry has
    changed since, the edit is refused with both versions instead of overwriting the other change."""
    expected = draft.based_on
    if expected is not None and corpus.faq_entry(entry_id) is None:
        raise FaqEditConflict(entry_id, None, dataclasses.replace(draft, id=entry_id))
    found = _locate(corpus, entry_id)
    updated = _as_entry(draft, found.entry)
    if expected is not None and entry_fingerprint(found.entry) != expected:
        raise FaqEditConflict(entry_id, found.entry, updated)
    reasons = check_draft(draft)
    if reasons:
        raise FaqEditError("Not saved: " + "; ".join(reasons) + ".")
    if entry_content(updated) == entry_content(found.entry):
        raise FaqEditError(f"Nothing to save: the form is the same as the stored entry `{entry_id}`.")
    before = found.before
    ends_with_break = before[found.end - 1 : found.end] in tuple(YAML_LINE_BREAKS)
    # Comments written inside the entry are kept, above it, so an edit never loses a maintainer's note.
    kept = "".join(f"{c}\n" for c in found.comments)
    block = _block(kept + entry_yaml(updated), found.indent, newline_of(before), ends_with_break)
    after = before[: found.start] + block + before[found.end :]
    expected_entries = [updated if e.id == entry_id else e for e in found.entries]
    _check_result(corpus, found.entry.path, after, expected_entries)
    return PlannedWrite(found.path, found.entry.path, before, after, found.text, block)


def plan_remove(corpus: Corpus, entry_id: str) -> PlannedWrite:
    found = _locate(corpus, entry_id)
    before = found.before
    after = before[: found.start] + before[found.end :]
    # Don't leave a doubled blank line where the entry was.
    blank_before = found.start <= 1 or _blank_line_ends_at(before, found.start)
    if blank_before and found.start < len(after):
        next_end = line_end(after, found.start)
        if not after[found.start : next_end].strip():
            after = after[: found.start] + after[next_end:]
    _check_result(corpus, found.entry.path, after, [e for e in found.entries if e.id != entry_id])
    return PlannedWrite(found.path, found.entry.path, before, after, found.text, None)


def _blank_line_ends_at(text: str, index: int) -> bool:
    """True when the line just before ``index`` (a line start) is blank."""
    stop = index - 2 if text[max(index - 2, 0) : index] == "\r\n" else index - 1
    return not text[line_start(text, max(stop, 0)) : max(stop, 0)].strip()


def draft_of(entry: FaqEntry) -> FaqDraft:
    """An existing entry as a draft, to prefill the edit modal."""
    source = entry.sources[0]
    return FaqDraft(entry.id, entry.question, entry.alternatives, entry.answer, source.url, source.title,
                    entry.language, based_on=entry_fingerprint(entry))


def _code_block(text: str) -> str:
    body = text if len(text) <= SHOWN_VERSION_CHARS else text[: SHOWN_VERSION_CHARS - 1] + "…"
    return "```yaml\n" + body.replace("```", "`\u200b``").rstrip("\n") + "\n```"
