"""Role comparisons: one column per role, one row per aspect, each cell an excerpt with its citation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from guide.answer import Answer, CitationList, Comparison, ComparisonRow
from guide.index import LoadedIndex
from guide.query import ASPECTS, Interpretation, content_words, find_terms, role_label

CELL_CHARS = 240
# Added to a sentence's similarity when its section heading names the aspect.
HEADING_BONUS = 0.12


def compose_comparison(
    question: str,
    interpretation: Interpretation,
    index: LoadedIndex,
    embed: Callable[[str], np.ndarray],
    corpus_prefix: str = "",
    notice: str | None = None,
) -> Answer:
    """A table comparing the roles of `interpretation` on its aspects (all aspects when none named)."""
    roles = tuple(role for role in interpretation.roles if any(doc.role == role for doc in index.documents.values()))
    aspects = interpretation.aspects or tuple(ASPECTS)
    cited = CitationList(index, corpus_prefix)
    rows = []
    lines = [f"How {' and '.join(role_label(role) for role in roles)} compare, from their guides:"]
    for aspect in aspects:
        description, _ = ASPECTS[aspect]
        vector = embed(description)
        cells: list[tuple[str, int] | None] = []
        line = []
        for role in roles:
            found = _best_span(index, role, aspect, vector)
            if found is None:
                cells.append(None)
                continue
            span_row, chunk_row = found
            n = cited.cite(chunk_row, span_row)
            excerpt = _shorten(index.spans[span_row].text)
            cells.append((excerpt, n))
            line.append(f"{role_label(role)}: {excerpt} [{n}]")
        rows.append(ComparisonRow(aspect, tuple(cells)))
        if line:
            lines.append(f"{aspect.capitalize()} — " + "; ".join(line))
    comparison = Comparison(roles, tuple(role_label(role) for role in roles), tuple(rows))
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
        notice=notice,
        comparison=comparison,
    )


def _best_span(index: LoadedIndex, role: str, aspect: str, vector: np.ndarray) -> tuple[int, int] | None:
    """The sentence of `role`'s guides that best states `aspect`, and a chunk that contains it."""
    _, patterns = ASPECTS[aspect]
    best: tuple[float, int, int] | None = None
    for chunk_row, chunk in enumerate(index.chunks):
        if chunk.role != role:
            continue
        first, last = index.chunk_spans[chunk_row]
        if first == last:
            continue
        scores = index.span_vectors[first:last] @ vector
        # Only the innermost heading counts: "Skills" under "Qualifications, Experience, and
        # Skills" is about skills, not qualifications.
        if find_terms(patterns, chunk.section.split(" > ")[-1]):
            scores = scores + HEADING_BONUS
        for offset, span in enumerate(index.spans[first:last]):
            # A lead-in ("Core skills include:") or a fragment says nothing on its own.
            if span.text.rstrip().endswith(":") or len(content_words(span.text)) < 4:
                scores[offset] = -np.inf
        offset = int(np.argmax(scores))
        if np.isfinite(scores[offset]) and (best is None or scores[offset] > best[0]):
            best = (float(scores[offset]), first + offset, chunk_row)
    return None if best is None else (best[1], best[2])


def _shorten(text: str, limit: int = CELL_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
