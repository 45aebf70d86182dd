"""Turning the corpus into passages the model takes whole, each with a stable locator.

A document becomes its paragraphs (``¶3``) and their sentences (``¶3.2``); a heading line is not a
passage. An FAQ entry becomes one passage, its answer, embedded several times: the question with the
answer, the question alone and each alternative phrasing, all mapped back to the same passage.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.corpus.reader import Corpus, Document, FaqEntry, split_paragraphs

# all-MiniLM-L6-v2 truncates at 256 word pieces; one word is rarely more than 1.6 pieces in this corpus,
# so a paragraph longer than this many words is indexed by its sentences only.
MAX_WORDS_FOR_WHOLE = 150
SPLITTER_VERSION = "3"  # 3: FAQ passages carry the title of the source they summarise

_SENTENCE_END = re.compile(r"(?<=[.!?»\"”])\s+(?=[A-ZÀ-Ý«\"“])")


@dataclass(frozen=True, slots=True)
class Passage:
    """Something the bot can quote: verbatim text and where it comes from.

    Slotted: a corpus of 100k passages holds 100k of these, and a per-object ``__dict__`` would add ~40 MB.
    """

    id: str
    doc_id: str
    title: str
    kind: str
    language: str
    url: str | None
    locator: str
    text: str
    group: str
    path: str
    line: int | None
    phrasings: tuple[str, ...] = ()
    source_title: str | None = None  # FAQ entries: the title of the source the answer summarises

    def __post_init__(self) -> None:
        # Passages read back from JSON carry lists; keep the dataclass hashable and immutable.
        object.__setattr__(self, "phrasings", tuple(self.phrasings))

    @property
    def keyword_text(self) -> str:
        """What keyword search sees: the quoted text and every phrasing that maps to it."""
        return " ".join((*self.phrasings, self.text))


@dataclass(frozen=True)
class EmbeddingRow:
    """One text that is embedded, and the passage it stands for (by position in the passage list)."""

    passage: int
    text: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph; each is a verbatim substring of it."""
    return [part for part in _SENTENCE_END.split(paragraph) if part.strip()]


def document_passages(document: Document) -> list[Passage]:
    """Paragraph and sentence passages of one document, in reading order."""
    passages = []
    for number, (offset, paragraph) in enumerate(split_paragraphs(document.body), start=1):
        group = f"{document.id}#¶{number}"
        line = document.body_line + offset
        sentences = split_sentences(paragraph)
        if len(paragraph.split()) <= MAX_WORDS_FOR_WHOLE:
            passages.append(_document_passage(document, f"¶{number}", paragraph, group, line))
        if len(sentences) > 1:
            for index, sentence in enumerate(sentences, start=1):
                passages.append(_document_passage(document, f"¶{number}.{index}", sentence, group, line))
    return passages


def _document_passage(document: Document, locator: str, text: str, group: str, line: int) -> Passage:
    return Passage(
        id=f"{document.id}#{locator}", doc_id=document.id, title=document.title, kind=document.kind,
        language=document.language, url=document.url, locator=locator, text=text, group=group,
        path=document.path, line=line, phrasings=document.questions_for(locator),
    )


def faq_passage(entry: FaqEntry) -> Passage:
    """The quotable passage of an FAQ entry: its answer, cited to its first source."""
    return Passage(
        id=f"faq:{entry.id}", doc_id=f"faq:{entry.id}", title=f"FAQ: {entry.question}", kind="faq",
        language=entry.language, url=entry.sources[0].url if entry.sources else None, locator=f"FAQ {entry.id}",
        text=entry.answer, group=f"faq:{entry.id}", path=entry.path, line=entry.line,
        phrasings=(entry.question, *entry.alternatives),
        source_title=entry.sources[0].title if entry.sources else None,
    )


def faq_embedding_texts(entry: FaqEntry) -> list[str]:
    """What is embedded for an FAQ entry: question and answer together, then each phrasing alone."""
    texts = [f"{entry.question} {entry.answer}", entry.question, *entry.alternatives]
    return list(dict.fromkeys(texts))


def corpus_passages(corpus: Corpus) -> tuple[list[Passage], list[EmbeddingRow]]:
    """All passages in a stable order, and the rows to embed for them."""
    passages: list[Passage] = []
    rows: list[EmbeddingRow] = []
    for document in corpus.documents:
        for passage in document_passages(document):
            rows.append(EmbeddingRow(len(passages), passage.text))
            rows.extend(EmbeddingRow(len(passages), q) for q in passage.phrasings)
            passages.append(passage)
    for entry in corpus.faq:
        index = len(passages)
        passages.append(faq_passage(entry))
        rows.extend(EmbeddingRow(index, text) for text in faq_embedding_texts(entry))
    return passages, rows
