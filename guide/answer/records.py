"""The records an answer is made of: citations, points, comparison tables and the answer itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from guide.ask import kinds
from guide.ask.interpret import Interpretation
from guide.config import AnswerSettings


def as_sentence(text: str) -> str:
    """`text` ending as a sentence does (a full stop added when it has no closing mark)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":", ")")) else text + "."


def capitalised(text: str) -> str:
    """`text` with its first letter upper case and the rest as written ("PhD" stays "PhD")."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Citation:
    """A numbered source: the passage (chunk) and the sentences of it that the answer uses."""

    n: int
    doc_id: str
    title: str
    role: str
    section: str
    path: str
    snippet: str
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...] = ()
    # Other files of the corpus with (nearly) the same text, which are not indexed themselves.
    also_at: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "path": self.path,
            "snippet": self.snippet,
        }
        if self.also_at:
            data["also_at"] = list(self.also_at)
        return data


@dataclass(frozen=True)
class ComparisonRow:
    aspect: str
    # One cell per role: the excerpt and its citation number, or None when the guide is silent.
    cells: tuple[tuple[str, int] | None, ...]


@dataclass(frozen=True)
class Comparison:
    roles: tuple[str, ...]
    labels: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": list(self.roles),
            "columns": list(self.labels),
            "rows": [
                {
                    "aspect": row.aspect,
                    "cells": [None if cell is None else {"text": cell[0], "n": cell[1]} for cell in row.cells],
                }
                for row in self.rows
            ],
        }


# A text opening with a short label of its own: a few words, then a colon ("Soft skills: …").
_LABELLED = re.compile(r"^\w[^:.!?\n]{0,30}:\s")


@dataclass(frozen=True)
class Point:
    """One cited point of a structured answer."""

    text: str
    n: int
    group: str = ""  # the guide's role label, when points are grouped by guide
    facet: str = ""  # what the point is about, shown before it ("Qualifications: …")
    span_rows: tuple[int, ...] = ()  # the sentences quoted, in order
    chunk_row: int = -1

    def line(self) -> str:
        # A sentence with a label of its own ("Soft skills: …") is not labelled twice.
        label = f"{capitalised(self.facet)}: " if self.facet and not _LABELLED.match(self.text) else ""
        return f"- {label}{as_sentence(self.text)} [{self.n}]"


@dataclass(frozen=True)
class Answer:
    question: str
    interpretation: Interpretation
    text: str
    refused: bool
    confidence: float
    citations: tuple[Citation, ...] = ()
    closest: tuple[str, ...] = ()
    # What the question asks about that the guides do not cover, when it is answered from the
    # closest role instead ("the job of data scientist").
    not_covered: str = ""
    notice: str | None = None
    comparison: Comparison | None = None
    # What an answerer reports of how it wrote the answer (the writer: sentences kept, replaced).
    extra: dict[str, Any] = field(default_factory=dict)
    # The kind of question (see `guide.ask.kinds`) and, for structured kinds, the cited points.
    kind: str = kinds.FACT
    lead: str = ""
    points: tuple[Point, ...] = ()
    # The confidence from which it is shown as medium, and as high (set by the engine from
    # `answer.medium_confidence` and `answer.high_confidence`).
    cutoffs: tuple[float, float] = (AnswerSettings.medium_confidence, AnswerSettings.high_confidence)

    @property
    def level(self) -> str:
        """High, medium or low, from the calibrated confidence."""
        medium, high = self.cutoffs
        if self.refused or self.confidence < medium:
            return "low"
        return "high" if self.confidence >= high else "medium"

    def to_json(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "confidence": round(self.confidence, 4),
            "citations": [citation.to_json() for citation in self.citations],
            "kind": self.kind,
        }
        if self.refused:
            data["suggestions"] = list(self.closest)
        if self.not_covered:
            data["not_covered"] = self.not_covered
        if self.points:
            data["lead"] = self.lead
            data["points"] = [
                {"text": point.text, "n": point.n, "group": point.group or None, "facet": point.facet or None}
                for point in self.points
            ]
        if self.comparison is not None:
            data["comparison"] = self.comparison.to_json()
        return data
