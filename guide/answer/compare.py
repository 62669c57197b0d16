"""Role comparisons: one column per role, one row per aspect, each cell an excerpt with its citation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from guide.answer.records import Answer, CitationList, Comparison, ComparisonRow
from guide.ask.interpret import Interpretation, content_words
from guide.config import CompareSettings
from guide.index import LoadedIndex
from guide.ingest.collection import Facet


def compose_comparison(
    question: str,
    interpretation: Interpretation,
    index: LoadedIndex,
    embed: Callable[[str], np.ndarray],
    facets: Sequence[Facet],
    label: Callable[[str], str],
    settings: CompareSettings,
) -> Answer:
    """A table comparing the roles of `interpretation` on its aspects (all of `facets` when none named)."""
    roles = tuple(role for role in interpretation.roles if any(doc.role == role for doc in index.documents.values()))
    by_name = {facet.name: facet for facet in facets}
    aspects = [by_name[name] for name in interpretation.aspects if name in by_name] or list(facets)
    cited = CitationList(index)
    rows = []
    lines = [f"How {' and '.join(label(role) for role in roles)} compare, from their guides:"]
    for facet in aspects:
        aspect = facet.name
        vector = embed(facet.description)
        cells: list[tuple[str, int] | None] = []
        line = []
        for role in roles:
            found = _best_span(index, role, facet, vector, settings.heading_bonus)
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
            lines.append(f"{aspect.capitalize()} — " + "; ".join(line))
    comparison = Comparison(roles, tuple(label(role) for role in roles), tuple(rows))
    # Confidence of a table: the share of its cells the guides could fill.
    cells = [cell for row in rows for cell in row.cells]
    filled = sum(cell is not None for cell in cells) / len(cells) if cells else 0.0
    return Answer(
        question,
        interpretation,
        "\n".join(lines),
        refused=False,
        confidence=filled,
        citations=cited.citations(),
        comparison=comparison,
        kind="compare",
    )


def _best_span(
    index: LoadedIndex, role: str, facet: Facet, vector: np.ndarray, heading_bonus: float
) -> tuple[int, int] | None:
    """The sentence of `role`'s guides that best states `facet`, and a chunk that contains it."""
    best: tuple[float, int, int] | None = None
    for chunk_row, chunk in enumerate(index.chunks):
        if chunk.role != role:
            continue
        first, last = index.chunk_spans[chunk_row]
        if first == last:
            continue
        scores = index.span_store.similarities(vector, range(first, last))[:, 0]
        # Only the innermost heading counts: "Skills" under "Qualifications, Experience, and
        # Skills" is about skills, not qualifications.
        if facet.named_in(chunk.section.split(" > ")[-1]):
            scores = scores + heading_bonus
        for offset, span in enumerate(index.spans[first:last]):
            # A lead-in ("Core skills include:"), a fragment or boilerplate says nothing on its own.
            if not span.material or span.text.rstrip().endswith(":") or len(content_words(span.text)) < 4:
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
