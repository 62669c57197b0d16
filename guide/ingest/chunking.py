"""Section-aware chunking: split a guide at its headings, then pack whole sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guide.config import ChunkingSettings
from guide.ingest.corpus import HEADING, Document
from guide.language import DEFAULT, Language

_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+")


@dataclass(frozen=True)
class Section:
    """The text under one heading, without the heading line; `headings` is the path of titles."""

    headings: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """One sentence or list item of a guide: `text == document.text[start:end]`."""

    doc_id: str
    section: str
    start: int
    end: int
    text: str
    # False for navigation, calls to action and page summaries (see guide/material.py).
    material: bool = True
    # The sentence as answers quote it, when that differs from `text`: reference marks such as
    # "[2]" taken out, so every bracketed number in an answer is one of its citations.
    quote: str = ""

    @property
    def answer_text(self) -> str:
        return self.quote or self.text

    def context_text(self) -> str:
        """The text embedded (and searched by BM25) for this sentence: its section heading, then the sentence."""
        return f"{self.section}: {self.text}" if self.section else self.text


@dataclass(frozen=True)
class Chunk:
    """A passage of whole sentences from one section, with its place in the guide."""

    chunk_id: str
    doc_id: str
    title: str
    role: str
    section: str
    start: int
    end: int
    text: str

    def context_text(self) -> str:
        """The text embedded for this chunk: guide title and heading path, then the passage."""
        return f"{self.title} > {self.section}\n{self.text}" if self.section else f"{self.title}\n{self.text}"


def split_sections(text: str) -> list[Section]:
    """Sections of Markdown `text` in order; text before the first heading has an empty path."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start = 0
    position = 0
    in_fence = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(stripped)
        if match:
            sections.append(Section(tuple(title for _, title in stack), start, position))
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip()))
            start = position + len(line)
        position += len(line)
    sections.append(Section(tuple(title for _, title in stack), start, position))
    return [section for section in sections if text[section.start : section.end].strip()]


def split_sentences(
    text: str, start: int = 0, end: int | None = None, language: Language = DEFAULT
) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences and list items in `text[start:end]`, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    position = start
    for line in text[start:end].splitlines(keepends=True):
        line_start = position
        position += len(line)
        marker = _LIST_MARKER.match(line)
        offset = marker.end() if marker else 0
        body = line[offset:].rstrip()
        if not body.strip():
            continue
        cursor = 0
        for boundary in language.SENTENCE_END.finditer(body):
            if _is_abbreviation(body, boundary.start(), language):
                continue
            _add_span(spans, body, cursor, boundary.end(), line_start + offset)
            cursor = boundary.end()
        _add_span(spans, body, cursor, len(body), line_start + offset)
    return spans


_WORD_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")


def _is_abbreviation(body: str, dot: int, language: Language) -> bool:
    """Whether the letters and dots right before `body[dot]` are an abbreviation ("e.g", "Dr").

    Walks back from the dot instead of searching the text before it, so a line of many
    sentences costs linear time (the runs walked are disjoint: a boundary needs whitespace).
    """
    start = dot
    while start > 0 and body[start - 1] in _WORD_CHARACTERS:
        start -= 1
    return start < dot and body[start:dot].lower().rstrip(".") in language.ABBREVIATIONS


def _add_span(spans: list[tuple[int, int]], body: str, start: int, end: int, base: int) -> None:
    piece = body[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((base + start + lead, base + start + lead + len(stripped)))


_LEADING_SYMBOLS = re.compile(r"^[^\w(\[\"'“‘]+", re.UNICODE)


def section_label(headings: tuple[str, ...]) -> str:
    """The heading path shown in citations: without the guide's own top heading or leading emoji."""
    shown = headings[1:] if len(headings) > 1 else headings
    return " > ".join(_LEADING_SYMBOLS.sub("", title) or title for title in shown)


@dataclass(frozen=True)
class Reading:
    """A guide cut once into sections and sentences, for everything the build makes of it."""

    sections: tuple[Section, ...]
    spans: tuple[Span, ...]  # every sentence and list item, in reading order
    section_of: tuple[int, ...]  # per sentence, the position of its section in `sections`


def read_document(document: Document, language: Language = DEFAULT) -> Reading:
    """Every section of a guide and every sentence and list item of each, with the section it sits in."""
    sections = split_sections(document.text)
    spans: list[Span] = []
    section_of: list[int] = []
    for number, section in enumerate(sections):
        label = section_label(section.headings)
        for start, end in split_sentences(document.text, section.start, section.end, language):
            spans.append(Span(document.doc_id, label, start, end, document.text[start:end]))
            section_of.append(number)
    return Reading(tuple(sections), tuple(spans), tuple(section_of))


def document_spans(document: Document, language: Language = DEFAULT) -> list[Span]:
    """Every sentence and list item of a guide, with the section it sits in."""
    return list(read_document(document, language).spans)


def chunk_reading(
    document: Document, reading: Reading, settings: ChunkingSettings | None = None
) -> list[tuple[Chunk, tuple[int, int]]]:
    """Each section's sentences packed into chunks of at most `max_chars` (a longer sentence stands
    alone), each with the rows of its sentences in `reading.spans` (first, last + 1).

    Consecutive chunks of a section share their last `overlap_sentences` sentences.
    """
    settings = settings or ChunkingSettings()
    max_chars = max(settings.max_chars, 1)
    chunks: list[tuple[Chunk, tuple[int, int]]] = []
    first_row = 0
    while first_row < len(reading.spans):
        # One section's sentences: a run of rows with the same section.
        section = reading.section_of[first_row]
        end_row = first_row
        while end_row < len(reading.spans) and reading.section_of[end_row] == section:
            end_row += 1
        rows = reading.spans[first_row:end_row]
        sentences = [(span.start, span.end) for span in rows]
        for first, last in _pack(sentences, max_chars, settings.overlap_sentences):
            start, end = sentences[first][0], sentences[last][1]
            chunk = Chunk(
                chunk_id=f"{document.doc_id}:{len(chunks)}",
                doc_id=document.doc_id,
                title=document.title,
                role=document.role,
                section=rows[0].section,
                start=start,
                end=end,
                text=document.text[start:end],
            )
            chunks.append((chunk, (first_row + first, first_row + last + 1)))
        first_row = end_row
    return chunks


def chunk_document(
    document: Document, settings: ChunkingSettings | None = None, language: Language = DEFAULT
) -> list[Chunk]:
    """The chunks of a guide (see `chunk_reading`)."""
    return [chunk for chunk, _ in chunk_reading(document, read_document(document, language), settings)]


def _pack(sentences: list[tuple[int, int]], max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Index ranges (first, last inclusive) of sentences per chunk."""
    groups: list[tuple[int, int]] = []
    first = 0
    while first < len(sentences):
        last = first
        while last + 1 < len(sentences) and sentences[last + 1][1] - sentences[first][0] <= max_chars:
            last += 1
        groups.append((first, last))
        if last + 1 >= len(sentences):
            break
        following = last + 1
        # Start the next chunk `overlap` sentences back, if that still leaves room to move on.
        first = following
        for back in range(min(overlap, last - groups[-1][0]), 0, -1):
            candidate = following - back
            if sentences[following][1] - sentences[candidate][0] <= max_chars:
                first = candidate
                break
    return groups
