"""Role comparisons: one column per role, one row per aspect, each cell an excerpt with its citation."""

from __future__ import annotations

import numpy as np

from guide.answer.base import Request
from guide.answer.citations import CitationList
from guide.answer.records import Answer, Comparison, ComparisonRow, capitalised
from guide.answer.sentences import says_something
from guide.ask import kinds
from guide.index import LoadedIndex
from guide.ingest.collection import Facet
from guide.language import Language


def compose_comparison(request: Request) -> Answer:
    """A table comparing the roles of the question on its aspects; its confidence is the share of
    cells the guides could fill.

    The aspects are those the question names ("on qualifications"), else one row for what it
    asks when it asks something beyond its roles ("funding track record for faculty vs
    lecturer"), else every comparison facet of the collection. A cell is the sentence of the
    role's guides that best states its aspect and, weighted by `compare.question_weight`, what
    the question asks ("postdoc length": the experience sentences that give years of postdoc).
    """
    interpretation, library, settings = request.interpretation, request.library, request.settings.compare
    index, label, language = library.index, library.lexicon.label, library.language
    roles = tuple(role for role in interpretation.roles if any(doc.role == role for doc in index.documents.values()))
    facets = index.collection.facets_for(kinds.COMPARE, roles)
    by_name = {facet.name: facet for facet in facets}
    asked = _asked(request)
    named = [by_name[name] for name in interpretation.aspects if name in by_name]
    aspects: list[Facet | None] = list(named) or ([None] if asked is not None else list(facets))
    cited = CitationList(index)
    rows = []
    lines = [language.COMPARISON_LEAD.format(roles=language.join(label(role) for role in roles))]
    weight = settings.question_weight if asked is not None else 0.0
    for facet in aspects:
        aspect = facet.name if facet is not None else language.ASKED_ASPECT
        vector = request.embed_many([facet.description])[0] if facet is not None else None
        cells: list[tuple[str, int] | None] = []
        line = []
        for role in roles:
            found = _best_span(index, role, (facet, vector), (asked, weight), settings.heading_bonus, language)
            if found is None:
                cells.append(None)
                continue
            span_row, chunk_row = found
            n = cited.cite(chunk_row, span_row)
            excerpt = _shorten(index.spans[span_row].answer_text, settings.cell_chars)
            cells.append((excerpt, n))
            line.append(f"{label(role)}: {excerpt} [{n}]")
        rows.append(ComparisonRow(aspect, tuple(cells)))
        if line:
            lines.append(f"{capitalised(aspect)} — " + "; ".join(line))
    comparison = Comparison(roles, tuple(label(role) for role in roles), tuple(rows))
    # Confidence of a table: the share of its cells the guides could fill.
    cells = [cell for row in rows for cell in row.cells]
    filled = sum(cell is not None for cell in cells) / len(cells) if cells else 0.0
    return Answer(
        request.question,
        interpretation,
        "\n".join(lines),
        refused=False,
        confidence=filled,
        citations=cited.citations(),
        comparison=comparison,
        kind=kinds.COMPARE,
    )


def _asked(request: Request) -> np.ndarray | None:
    """Every sentence's score for what a comparison asks beyond its roles and the words of
    comparing ("postdoc length"), or None when it asks nothing more ("What's the difference?")."""
    library = request.library
    topic = library.lexicon.without_field(library.language.COMPARE.sub(" ", request.interpretation.topic))
    if not library.topic_stems(topic) - library.lexicon.stems(library.language.COMPARE_WORDS):
        return None
    vector = request.embed_many([topic])[0]
    return library.retriever.sentence_scores(vector, topic)


def _best_span(
    index: LoadedIndex,
    role: str,
    aspect: tuple[Facet | None, np.ndarray | None],
    asked: tuple[np.ndarray | None, float],
    heading_bonus: float,
    language: Language,
) -> tuple[int, int] | None:
    """The sentence of `role`'s guides that best states the aspect (a facet and its embedded
    description, or None for the question alone) and, by the weight, what the question asks
    (every sentence's score for it); and a chunk that contains it."""
    (facet, vector), (question, weight) = aspect, asked
    best: tuple[float, int, int] | None = None
    for chunk_row, chunk in enumerate(index.chunks):
        if chunk.role != role:
            continue
        first, last = index.chunk_spans[chunk_row]
        if first == last:
            continue
        if facet is None or vector is None:
            scores = np.zeros(last - first, dtype=np.float32)
        else:
            scores = index.span_store.similarities(vector, range(first, last))[:, 0]
            # Only the innermost heading counts: "Skills" under "Qualifications, Experience, and
            # Skills" is about skills, not qualifications.
            if facet.named_in(chunk.section.split(" > ")[-1]):
                scores = scores + heading_bonus
        if question is not None:
            scores = scores + (weight if facet is not None else 1.0) * question[first:last]
        for offset, span in enumerate(index.spans[first:last]):
            # A lead-in ("Core skills include:"), a fragment or boilerplate says nothing on its own.
            if not span.material or not says_something(span.text, language):
                scores[offset] = -np.inf
        offset = int(np.argmax(scores))
        if np.isfinite(scores[offset]) and (best is None or scores[offset] > best[0]):
            best = (float(scores[offset]), first + offset, chunk_row)
    return None if best is None else (best[1], best[2])


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
