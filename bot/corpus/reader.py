"""Reading and validating the corpus: Markdown documents with front matter, and FAQ entries in YAML.

The format is documented in ``corpus/README.md``. Every problem is reported with its file and line,
and all problems are collected before failing, so a moderator can fix a file in one pass.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.corpus.limits import (
    MAX_ALTERNATIVES,
    MAX_ALTERNATIVES_TEXT_CHARS,
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    MAX_URL_CHARS,
    alternatives_text,
)
from bot.corpus.yaml_lines import YamlProblem, line_of, load_with_lines, shorten, yaml_line_number
from bot.errors import CorpusError, CorpusProblem

DOCUMENTS_DIR = "documents"
FAQ_DIR = "faq"
DOCUMENT_KINDS = ("letter", "press", "article", "statement", "other")
LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "zh")  # the languages an FAQ entry or a document may be written in
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_FILE_BYTES = 2_000_000
# A url may hold only these characters: RFC 3986's, less the ones Markdown uses to build links and
# emphasis (brackets, parentheses, `*`). Anything else is percent-encoded (%28 for "(").
URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#!$&'+,;=%]+$")
# Control characters (NUL and friends) have no place in quotable text, and YAML refuses them anyway.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HOST_PATTERN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\.?$")

DOCUMENT_KEYS = {"id": True, "title": True, "kind": True, "language": True, "url": False, "date": True,
                 "provenance": False, "questions": False}
LOCATOR_PATTERN = re.compile(r"^¶[1-9][0-9]*$")
FAQ_KEYS = {"id": True, "question": True, "alternatives": True, "answer": True, "sources": True,
            "language": True, "as_of": False}
SOURCE_KEYS = {"title": True, "url": True}


@dataclass(frozen=True)
class Document:
    """A Markdown document: the letter, a press article. ``body`` is verbatim text after front matter."""

    id: str
    title: str
    kind: str
    language: str
    url: str | None
    date: str
    provenance: str | None
    body: str
    body_line: int
    path: str
    questions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def questions_for(self, locator: str) -> tuple[str, ...]:
        """Phrasings of questions that paragraph ``locator`` answers (front matter ``questions``)."""
        return next((phrasings for key, phrasings in self.questions if key == locator), ())


@dataclass(frozen=True)
class SourceRef:
    """Where an FAQ entry's facts come from."""

    title: str
    url: str


@dataclass(frozen=True)
class FaqEntry:
    """One question with its alternative phrasings, its answer and its sources."""

    id: str
    question: str
    alternatives: tuple[str, ...]
    answer: str
    sources: tuple[SourceRef, ...]
    language: str
    as_of: str | None
    path: str
    line: int | None


@dataclass(frozen=True)
class Corpus:
    """Everything the bot may quote, with a hash of the files it came from."""

    documents: tuple[Document, ...]
    faq: tuple[FaqEntry, ...]
    content_hash: str
    root: Path

    def faq_entry(self, entry_id: str) -> FaqEntry | None:
        return next((entry for entry in self.faq if entry.id == entry_id), None)


def corpus_files(root: Path) -> list[Path]:
    """The files that make up the corpus, in a stable order."""
    documents = sorted((root / DOCUMENTS_DIR).glob("*.md"))
    faq = sorted([*(root / FAQ_DIR).glob("*.yaml"), *(root / FAQ_DIR).glob("*.yml")])
    return [*documents, *faq]


def content_hash(root: Path) -> str:
    """A hash of every corpus file's path and bytes: it changes when any file changes."""
    digest = hashlib.sha256()
    for path in corpus_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_corpus(root: Path) -> Corpus:
    """Read and validate the whole corpus, raising ``CorpusError`` with every problem found."""
    problems: list[CorpusProblem] = []
    if not root.is_dir():
        raise CorpusError([CorpusProblem(str(root), None, "corpus folder not found")])
    documents: list[Document] = []
    faq: list[FaqEntry] = []
    for path in corpus_files(root):
        relative = path.relative_to(root).as_posix()
        text = _read_text(path, relative, problems)
        if text is None:
            continue
        if path.suffix == ".md":
            document = parse_document(text, relative, problems)
            if document:
                documents.append(document)
        else:
            faq.extend(parse_faq_file(text, relative, problems))
    if not documents and not faq:
        problems.append(CorpusProblem(str(root), None, f"no documents in {DOCUMENTS_DIR}/ and no FAQ in {FAQ_DIR}/"))
    _check_unique_ids(documents, faq, problems)
    if problems:
        raise CorpusError(problems)
    return Corpus(tuple(documents), tuple(faq), content_hash(root), root)


def _read_text(path: Path, relative: str, problems: list[CorpusProblem]) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(CorpusProblem(relative, None, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"))
            return None
        data = path.read_bytes()
    except OSError as exc:
        problems.append(CorpusProblem(relative, None, f"cannot read the file ({exc.strerror})"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(CorpusProblem(relative, line, f"not UTF-8 text (bad byte at offset {exc.start})"))
        return None
    control = CONTROL_CHARACTER.search(text)
    if control:
        problems.append(CorpusProblem(relative, yaml_line_number(text, control.start()),
                                      f"the control character U+{ord(control.group()):04X} is not allowed; remove it"))
        return None
    return text


def parse_document(text: str, relative: str, problems: list[CorpusProblem]) -> Document | None:
    """Parse one Markdown document with YAML front matter between ``---`` lines."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        problems.append(CorpusProblem(relative, 1, "a document must start with YAML front matter between '---' lines"))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problems.append(CorpusProblem(relative, 1, "the front matter is not closed by a '---' line"))
        return None
    meta = _load_yaml("\n".join(lines[1:end]), relative, problems, line_offset=1)
    if meta is _INVALID:
        return None
    if not isinstance(meta, dict):
        problems.append(CorpusProblem(relative, 2, "the front matter must be a mapping of keys to values"))
        return None
    before = len(problems)
    _check_keys(meta, DOCUMENT_KEYS, relative, problems, line_offset=1, what="front matter")
    # Any: the checks below make the required values non-empty text, or add a problem (and nothing is built).
    values: dict[str, Any] = {key: meta.get(key) for key in DOCUMENT_KEYS}
    for key in ("id", "title", "kind", "language", "date", "provenance"):
        _check_text(meta, key, relative, problems, line_offset=1, required=DOCUMENT_KEYS[key])
    _check_choice(meta, "kind", DOCUMENT_KINDS, relative, problems, 1)
    _check_choice(meta, "language", LANGUAGES, relative, problems, 1)
    _check_id(meta, relative, problems, 1)
    _check_date(meta, "date", relative, problems, 1)
    if values["url"] is not None:
        _check_url(meta, "url", relative, problems, 1)
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        problems.append(CorpusProblem(relative, end + 2, "the document has no text after its front matter"))
    questions = _check_paragraph_questions(meta, relative, problems)
    paragraph_count = len(split_paragraphs(body))
    for locator, _ in questions:
        if int(locator[1:]) > paragraph_count:
            problems.append(CorpusProblem(relative, _line(meta, "questions", 1),
                                          f"questions name {locator}, but the document has {paragraph_count} paragraphs"))
    if len(problems) > before:
        return None
    return Document(
        id=values["id"], title=values["title"].strip(), kind=values["kind"], language=values["language"],
        url=values["url"], date=values["date"], provenance=values["provenance"], body=body,
        body_line=end + 2, path=relative, questions=questions,
    )


def split_paragraphs(body: str) -> list[tuple[int, str]]:
    """The paragraphs of a Markdown body with their line offsets, headings left out."""
    paragraphs: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for offset, line in enumerate(body.split("\n")):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if current:
                paragraphs.append((start, " ".join(current)))
                current = []
            continue
        if not current:
            start = offset
        current.append(stripped)
    if current:
        paragraphs.append((start, " ".join(current)))
    return paragraphs


def _check_paragraph_questions(meta: dict, relative: str, problems: list[CorpusProblem]
                               ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``questions`` maps a paragraph locator (¶4) to phrasings of questions that paragraph answers."""
    value = meta.get("questions")
    if value is None:
        return ()
    line = _line(meta, "questions", 1)
    if not isinstance(value, dict):
        problems.append(CorpusProblem(relative, line, "'questions' must map paragraph locators like ¶4 to lists of questions"))
        return ()
    result = []
    for locator, phrasings in value.items():
        where = _line(value, str(locator), 1) or line
        if not isinstance(locator, str) or not LOCATOR_PATTERN.match(locator):
            problems.append(CorpusProblem(relative, where, f"'{locator}' is not a paragraph locator like ¶4"))
            continue
        if (not isinstance(phrasings, list) or not phrasings
                or not all(isinstance(p, str) and p.strip() and len(p) <= MAX_QUESTION_CHARS for p in phrasings)):
            problems.append(CorpusProblem(relative, where, f"questions for {locator} must be a list of short questions"))
            continue
        result.append((locator, tuple(p.strip() for p in phrasings)))
    return tuple(result)


def parse_faq_file(text: str, relative: str, problems: list[CorpusProblem]) -> list[FaqEntry]:
    """Parse an FAQ file: a YAML list of entries."""
    data = _load_yaml(text, relative, problems)
    if data is _INVALID:
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(CorpusProblem(relative, 1, "an FAQ file must be a YAML list of entries ('- id: ...')"))
        return []
    entries = []
    for position, raw in enumerate(data, start=1):
        entry = parse_faq_entry(raw, relative, problems, position)
        if entry:
            entries.append(entry)
    return entries


def parse_faq_entry(raw: Any, relative: str, problems: list[CorpusProblem], position: int = 1) -> FaqEntry | None:
    """Validate one FAQ entry mapping; append its problems and return ``None`` if it has any."""
    if not isinstance(raw, dict):
        problems.append(CorpusProblem(relative, None, f"entry {position} must be a mapping with id, question, ..."))
        return None
    before = len(problems)
    _check_keys(raw, FAQ_KEYS, relative, problems, what="FAQ entry")
    for key in ("id", "question", "answer", "language", "as_of"):
        _check_text(raw, key, relative, problems, required=FAQ_KEYS[key])
    _check_id(raw, relative, problems)
    _check_choice(raw, "language", LANGUAGES, relative, problems)
    _check_date(raw, "as_of", relative, problems)
    _check_length(raw, "question", MAX_QUESTION_CHARS, relative, problems)
    _check_length(raw, "answer", MAX_ANSWER_CHARS, relative, problems)
    alternatives = _check_alternatives(raw, relative, problems)
    sources = _check_sources(raw, relative, problems)
    if len(problems) > before:
        return None
    return FaqEntry(
        id=raw["id"], question=raw["question"].strip(), alternatives=alternatives, answer=raw["answer"].strip(),
        sources=sources, language=raw["language"], as_of=raw.get("as_of"), path=relative, line=line_of(raw),
    )


_INVALID = object()


def _load_yaml(text: str, relative: str, problems: list[CorpusProblem], line_offset: int = 0) -> Any:
    try:
        return load_with_lines(text)
    except YamlProblem as exc:
        problems.append(CorpusProblem(relative, exc.line + line_offset if exc.line else None, exc.reason))
        return _INVALID


def shown(value: Any, limit: int = 80) -> str:
    """A value as quoted in a problem message: short whatever its size (never the repr of a huge value)."""
    if isinstance(value, str):
        return repr(shorten(value, limit))
    return f"a {type(value).__name__}" if isinstance(value, (dict, list)) else shorten(repr(value), limit)


def _line(raw: Any, key: str | None, offset: int) -> int | None:
    line = line_of(raw, key)
    return line + offset if line else None


def _check_keys(raw: dict, spec: dict[str, bool], relative: str, problems: list[CorpusProblem],
                line_offset: int = 0, what: str = "entry") -> None:
    for key in raw:
        if key not in spec:
            known = ", ".join(spec)
            problems.append(CorpusProblem(relative, _line(raw, str(key), line_offset),
                                          f"unknown key {shown(key, 40)} in {what} (known keys: {known})"))
    for key, required in spec.items():
        if required and key not in raw:
            problems.append(CorpusProblem(relative, _line(raw, None, line_offset), f"{what} is missing '{key}'"))


def _check_text(raw: dict, key: str, relative: str, problems: list[CorpusProblem], line_offset: int = 0,
                required: bool = True) -> None:
    if key not in raw:
        return
    value = raw[key]
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        problems.append(CorpusProblem(relative, _line(raw, key, line_offset), f"'{key}' must be non-empty text"))


def _check_choice(raw: dict, key: str, choices: tuple[str, ...], relative: str, problems: list[CorpusProblem],
                  line_offset: int = 0) -> None:
    value = raw.get(key)
    if isinstance(value, str) and value not in choices:
        problems.append(CorpusProblem(relative, _line(raw, key, line_offset),
                                      f"'{key}' is {shown(value, 40)}; it must be one of {', '.join(choices)}"))


def _check_id(raw: dict, relative: str, problems: list[CorpusProblem], line_offset: int = 0) -> None:
    value = raw.get("id")
    if isinstance(value, str) and not ID_PATTERN.match(value):
        problems.append(CorpusProblem(relative, _line(raw, "id", line_offset),
                                      f"id {shown(value, 70)} must be 2-64 lower-case letters, digits and hyphens"))


def _check_date(raw: dict, key: str, relative: str, problems: list[CorpusProblem], line_offset: int = 0) -> None:
    value = raw.get(key)
    if isinstance(value, str) and not DATE_PATTERN.match(value):
        problems.append(CorpusProblem(relative, _line(raw, key, line_offset), f"'{key}' must be a date like 2025-09-22"))


def _check_length(raw: dict, key: str, limit: int, relative: str, problems: list[CorpusProblem]) -> None:
    value = raw.get(key)
    if isinstance(value, str) and len(value.strip()) > limit:
        problems.append(CorpusProblem(relative, _line(raw, key, 0),
                                      f"'{key}' is {len(value.strip())} characters; the limit is {limit}"))


def url_problem(value: Any) -> str | None:
    """Why ``value`` is not an acceptable source address (None when it is one).

    Strict on purpose: a url is shown in every citation, so one that carried spaces, brackets or
    parentheses could close the link and smuggle a masked link (``[text](https://elsewhere)``) into answers.
    """
    if not isinstance(value, str) or not value:
        return "must be an http(s) address"
    if len(value) > MAX_URL_CHARS:
        return f"is {len(value)} characters; the limit is {MAX_URL_CHARS}"
    if not value.lower().startswith(("https://", "http://")):
        return "must be an http(s) address starting with https://"
    if not URL_CHARACTERS.match(value):
        return ("may hold only letters, digits and - . _ ~ : / ? # ! $ & ' + , ; = %: no spaces, brackets, "
                "parentheses, quotes or Markdown (percent-encode them, e.g. %28 for '(')")
    if re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return "has a '%' that is not followed by two hexadecimal digits"
    parsed = urlparse(value)
    if "@" in parsed.netloc:
        return "must not have a user name before the host (user@host hides the real host)"
    host, colon, port = parsed.netloc.partition(":")
    if not HOST_PATTERN.match(host.lower()) or (colon and not port.isdigit()):
        return f"has no valid host name ({shown(parsed.netloc, 60)})"
    return None


def is_valid_url(value: Any) -> bool:
    """True for an acceptable http(s) source address (see ``url_problem``)."""
    return url_problem(value) is None


def _check_url(raw: dict, key: str, relative: str, problems: list[CorpusProblem], line_offset: int = 0) -> None:
    reason = url_problem(raw.get(key))
    if reason:
        problems.append(CorpusProblem(relative, _line(raw, key, line_offset),
                                      f"'{key}' {reason}, not {shown(raw.get(key))}"))


def _check_alternatives(raw: dict, relative: str, problems: list[CorpusProblem]) -> tuple[str, ...]:
    value = raw.get("alternatives")
    if "alternatives" not in raw:
        return ()
    line = _line(raw, "alternatives", 0)
    if not isinstance(value, list) or not value:
        problems.append(CorpusProblem(relative, line, "'alternatives' must be a list of at least one phrasing"))
        return ()
    if len(value) > MAX_ALTERNATIVES:
        problems.append(CorpusProblem(relative, line, f"'alternatives' has {len(value)} phrasings; the limit is {MAX_ALTERNATIVES}"))
    bad = [item for item in value if not isinstance(item, str) or not item.strip() or len(item) > MAX_QUESTION_CHARS]
    if bad:
        problems.append(CorpusProblem(relative, line, f"every alternative phrasing must be text of 1-{MAX_QUESTION_CHARS} characters"))
        return ()
    phrasings = tuple(item.strip() for item in value)
    if len(alternatives_text(phrasings)) > MAX_ALTERNATIVES_TEXT_CHARS:
        problems.append(CorpusProblem(relative, line, f"the alternative phrasings total {len(alternatives_text(phrasings))} "
                                      f"characters (one per line); the limit is {MAX_ALTERNATIVES_TEXT_CHARS}, what "
                                      "the editing form can hold"))
    return phrasings


def _check_sources(raw: dict, relative: str, problems: list[CorpusProblem]) -> tuple[SourceRef, ...]:
    if "sources" not in raw:
        return ()
    value = raw.get("sources")
    if not isinstance(value, list) or not value:
        problems.append(CorpusProblem(relative, _line(raw, "sources", 0), "'sources' must list at least one source with title and url"))
        return ()
    sources = []
    for item in value:
        if not isinstance(item, dict):
            problems.append(CorpusProblem(relative, _line(raw, "sources", 0), "each source must be a mapping with title and url"))
            continue
        before = len(problems)
        _check_keys(item, SOURCE_KEYS, relative, problems, what="source")
        _check_text(item, "title", relative, problems)
        _check_length(item, "title", MAX_SOURCE_TITLE_CHARS, relative, problems)
        if "url" in item:
            _check_url(item, "url", relative, problems)
        if len(problems) == before:
            sources.append(SourceRef(item["title"].strip(), item["url"]))
    return tuple(sources)


def _check_unique_ids(documents: list[Document], faq: list[FaqEntry], problems: list[CorpusProblem]) -> None:
    seen: dict[str, str] = {}
    for document in documents:
        _note_id(document.id, f"{document.path}:2", seen, document.path, 2, problems)
    for entry in faq:
        _note_id(entry.id, f"{entry.path}:{entry.line}", seen, entry.path, entry.line, problems)


def _note_id(item_id: str, where: str, seen: dict[str, str], path: str, line: int | None,
             problems: list[CorpusProblem]) -> None:
    if item_id in seen:
        problems.append(CorpusProblem(path, line, f"duplicate id '{item_id}' (first used at {seen[item_id]})"))
    else:
        seen[item_id] = where
