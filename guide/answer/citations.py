"""Citation numbers: passages numbered in the order an answer first cites them, with the sentences it uses."""

from __future__ import annotations

from collections.abc import Sequence

from guide.answer.records import Citation
from guide.index import LoadedIndex


def make_citation(index: LoadedIndex, row: int, n: int, highlights: Sequence[tuple[int, int]]) -> Citation:
    """The citation of a passage; its path is the guide's file name within the corpus folder."""
    chunk = index.chunks[row]
    document = index.documents[chunk.doc_id]
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=chunk.title,
        role=chunk.role,
        section=chunk.section,
        path=document.path,
        snippet=chunk.text,
        start=chunk.start,
        end=chunk.end,
        highlights=tuple(sorted(highlights)),
        also_at=document.also_at,
    )


class CitationList:
    """Numbers passages in the order an answer first cites them, collecting the cited sentences."""

    def __init__(self, index: LoadedIndex) -> None:
        self._index = index
        self._numbers: dict[int, int] = {}
        self._highlights: dict[int, list[tuple[int, int]]] = {}

    def cite(self, chunk_row: int, span_row: int) -> int:
        """The citation number for a sentence of a passage."""
        span = self._index.spans[span_row]
        self._highlights.setdefault(chunk_row, []).append((span.start, span.end))
        return self._numbers.setdefault(chunk_row, len(self._numbers) + 1)

    def citations(self) -> tuple[Citation, ...]:
        return tuple(
            make_citation(self._index, row, n, self._highlights[row]) for row, n in self._numbers.items()
        )
