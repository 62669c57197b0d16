"""Answer material: which sentences of a guide may be quoted in an answer, decided at build time.

Career pages carry text that is about the page, not about the career: navigation ("Browse
openings…"), calls to action ("Ready to…?", "post a job"), pointers to other pages ("read
how to…", "details here") and the page summary repeated under the title. Such sentences stay
in the guide (the guide view shows everything) but never become answer sentences.

The decision adds up general signals of web-page boilerplate, each worth a point; two points
mark a sentence as boilerplate, and echoing the page summary or opening the page with a
fragment about the page marks it outright. None of the signals names a guide or a sentence.
"""

from __future__ import annotations

import re
from dataclasses import replace

from guide.ingest.chunking import Reading, Span, read_document
from guide.ingest.corpus import Document, without_reference_marks
from guide.language import DEFAULT, Language

_WORDS = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def _echoes(text: str, summary: str) -> bool:
    """Whether a sentence repeats (most of) the page summary."""
    words = _words(text)
    if len(words) < 4 or not summary:
        return False
    for piece in re.split(r"(?<=[.!?])\s+", summary):
        other = _words(piece)
        if other and len(words & other) / len(words | other) >= 0.6:
            return True
    return False


def boilerplate_score(text: str, *, closing_section: bool = False, language: Language = DEFAULT) -> int:
    """How many boilerplate signals a sentence shows (two or more make it boilerplate)."""
    stripped = text.strip().lstrip("-*• ").strip()
    return (
        bool(language.NAVIGATION_START.search(stripped))
        + bool(language.SITE_OBJECTS.search(stripped))
        + bool(language.POINTERS.search(stripped))
        + bool(language.SUMMARY_OPENING.search(stripped))
        + bool(language.TEASER_CLAIM.search(stripped))
        + bool(language.RHETORICAL.search(stripped))
        + closing_section
    )


def is_boilerplate(
    text: str, *, summary: str = "", lead: bool = False, closing_section: bool = False, language: Language = DEFAULT
) -> bool:
    """Whether a sentence is navigation, a call to action or the page summary (not answer material).

    Args:
        text: the sentence or list item.
        summary: the guide's one-line summary, which pages repeat under their title.
        lead: the sentence opens the page, before its first section.
        closing_section: its section's heading is a call to action or a summary.
    """
    stripped = text.strip()
    if _echoes(stripped, summary):
        return True
    if lead and (language.ABOUT_THE_PAGE.search(stripped) or language.WH_FRAGMENT.search(stripped) or language.NAVIGATION_START.search(stripped)):
        return True
    return boilerplate_score(stripped, closing_section=closing_section, language=language) >= 2


def mark_material(document: Document, reading: Reading | None = None, language: Language = DEFAULT) -> list[Span]:
    """The sentences of one guide with `material` set (False for navigation, calls to action and
    summaries) and `quote` set where reference marks had to be taken out.

    Args:
        document: the guide.
        reading: the guide cut into sections and sentences (`read_document`; cut here when None).
        language: the guide's language.
    """
    reading = reading or read_document(document, language)
    sections = reading.sections
    marked = []
    for span, number in zip(reading.spans, reading.section_of, strict=True):
        headings = sections[number].headings
        lead = number == 0 and len(headings) <= 1
        innermost = re.sub(r"^[^\w]+", "", headings[-1]) if headings else ""
        closing = len(headings) > 1 and bool(language.CALL_TO_ACTION_HEADING.search(innermost))
        summary = len(headings) > 1 and bool(language.SUMMARY_HEADING.search(innermost))
        boilerplate = summary or is_boilerplate(
            span.text, summary=document.summary, lead=lead, closing_section=closing, language=language
        )
        # Marks would pass for citations; a pointer to another page ("details here") reads as debris.
        quote = language.POINTER_FRAGMENT.sub("", without_reference_marks(span.text))
        marked.append(replace(span, material=not boilerplate, quote=quote if quote != span.text else ""))
    return marked
