"""The refusal: a short "not in the guides", and the two or three closest topics as questions to try.

A refusal never lists the whole corpus: at hundreds of guides that list would run to pages.
It stays within `MAX_WORDS` whatever the corpus, and its suggestions are questions the app
offers as buttons (`Answer.closest`).
"""

from __future__ import annotations

from collections.abc import Sequence

from guide.answer.records import Answer
from guide.ask.interpret import Interpretation
from guide.ask.library import Library
from guide.ask.retrieval import Hit
from guide.ingest.corpus import without_reference_marks

MAX_WORDS = 60
SUGGESTIONS = 3


def closest_topics(hits: Sequence[Hit], library: Library, limit: int = SUGGESTIONS) -> tuple[str, ...]:
    """Questions to try from the closest passages: one per guide section, at most `limit`."""
    questions: dict[str, None] = {}
    for hit in hits:
        # Headings are quoted without reference marks, which would pass for citations.
        section = without_reference_marks(hit.chunk.section.split(" > ")[-1]).strip()
        label = library.lexicon.label(hit.chunk.role)
        if section and len(questions) < limit:
            questions.setdefault(library.language.SUGGESTION.format(section=section, label=label))
    return tuple(questions)


def within(text: str, limit: int) -> str:
    """`text` cut to at most `limit` words (a reason that echoes a long question stays short)."""
    words = text.split()
    return text if len(words) <= limit else " ".join(words[: limit - 1]) + " …"


def refusal(
    question: str,
    interpretation: Interpretation,
    library: Library,
    hits: Sequence[Hit],
    confidence: float,
    reason: str | None = None,
) -> Answer:
    """A plain "not in the guides" answer with the closest topics, in at most `MAX_WORDS` words."""
    language = library.language
    closest = closest_topics(hits, library)
    text = reason or language.NOT_FOUND
    for count in range(len(closest), 0, -1):
        longer = text + " " + language.CLOSEST_SECTIONS.format(sections="; ".join(closest[:count]))
        if len(longer.split()) <= MAX_WORDS:
            text = longer
            break
    return Answer(
        question,
        interpretation,
        within(text, MAX_WORDS),
        refused=True,
        confidence=confidence,
        closest=closest,
        kind=interpretation.kind,
    )
