"""The refusal: what the guides cover and their closest sections, when the gate decides not to answer."""

from __future__ import annotations

from collections.abc import Sequence

from guide.answer.records import Answer
from guide.ask.interpret import Interpretation
from guide.ask.library import Library
from guide.ask.retrieval import Hit
from guide.ingest.corpus import without_reference_marks


def refusal(
    question: str,
    interpretation: Interpretation,
    library: Library,
    hits: Sequence[Hit],
    confidence: float,
    reason: str | None = None,
) -> Answer:
    """A plain "not in the guides" answer that names what the guides do cover and the closest sections."""
    index, language = library.index, library.language
    # Titles and headings are quoted without reference marks, which would pass for citations.
    titles = sorted({without_reference_marks(doc.title) for doc in index.documents.values()})
    closest = tuple(
        dict.fromkeys(without_reference_marks(f"{hit.chunk.title} — {hit.chunk.section}") for hit in hits[:3])
    )
    text = (reason or language.NOT_FOUND) + " " + language.GUIDES_COVER.format(titles="; ".join(titles))
    if closest:
        text += " " + language.CLOSEST_SECTIONS.format(sections="; ".join(closest))
    return Answer(
        question,
        interpretation,
        text,
        refused=True,
        confidence=confidence,
        closest=closest,
        kind=interpretation.kind,
    )
