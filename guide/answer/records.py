"""Extractive answers: the retrieved sentences that answer the question, each with its `[n]` citation."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from guide.answer.structured import Point, Structure, as_sentence
from guide.ask.interpret import Interpretation, content_words, stems
from guide.ask.retrieval import Hit, Retrieval
from guide.config import AnswerSettings, Settings
from guide.index import LoadedIndex
from guide.ingest.corpus import without_reference_marks


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

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "path": self.path,
            "snippet": self.snippet,
        }


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


@dataclass(frozen=True)
class Answer:
    question: str
    interpretation: Interpretation
    text: str
    refused: bool
    confidence: float
    citations: tuple[Citation, ...] = ()
    closest: tuple[str, ...] = ()
    notice: str | None = None
    comparison: Comparison | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The kind of question (see guide.query.KINDS) and, for structured kinds, the cited points.
    kind: str = "fact"
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
        if self.points:
            data["lead"] = self.lead
            data["points"] = [
                {"text": point.text, "n": point.n, "group": point.group or None, "facet": point.facet or None}
                for point in self.points
            ]
        if self.comparison is not None:
            data["comparison"] = self.comparison.to_json()
        return data


def confidence_from_score(score: float, settings: AnswerSettings) -> float:
    """Probability-like confidence from the best passage's similarity (logistic, calibrated)."""
    return 1.0 / (1.0 + math.exp(-settings.confidence_slope * (score - settings.refusal_threshold)))


def relevance(found: Retrieval, settings: AnswerSettings) -> float:
    """How close the guides come to the question.

    The best dense similarity among the hits, plus a share of the question's topic words that
    the guides use at all: "How do I become an airline pilot?" is near "how to become a
    lecturer" in meaning, but "airline" and "pilot" appear nowhere in the guides.
    """
    return max((hit.dense for hit in found.hits), default=0.0) + settings.coverage_weight * found.coverage


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


def refusal(
    question: str,
    interpretation: Interpretation,
    index: LoadedIndex,
    hits: Sequence[Hit],
    confidence: float,
    reason: str | None = None,
) -> Answer:
    """A plain "not in the guides" answer that names what the guides do cover and the closest sections."""
    # Titles and headings are quoted without reference marks, which would pass for citations.
    titles = sorted({without_reference_marks(doc.title) for doc in index.documents.values()})
    closest = tuple(
        dict.fromkeys(without_reference_marks(f"{hit.chunk.title} — {hit.chunk.section}") for hit in hits[:3])
    )
    text = (
        (reason or "I could not find an answer to that in the career guides.")
        + " The guides cover: "
        + "; ".join(titles)
        + "."
    )
    if closest:
        text += " The closest sections are: " + "; ".join(closest) + "."
    return Answer(
        question,
        interpretation,
        text,
        refused=True,
        confidence=confidence,
        closest=closest,
        kind=interpretation.kind,
    )


def compose_answer(
    question: str,
    interpretation: Interpretation,
    found: Retrieval,
    index: LoadedIndex,
    settings: Settings,
    confidence: float,
    label: Callable[[str], str] = lambda role: role.replace("-", " "),
    topic_words: frozenset[str] = frozenset(),
) -> Answer:
    """A short answer from the best sentences of the top passages, each with its citation.

    When none of them comes from the guide of a role the question names, the answer opens by
    saying so ("The lecturer guide does not say; the PhD guide does:"), and its confidence is
    at most `answer.other_guide_confidence`.

    Args:
        question: the question as asked.
        interpretation: how it was understood (its preferred roles).
        found: the retrieved chunks and the score of every sentence for the query.
        index: the index they come from.
        settings: answer length, how sentences are chosen, and the role preference.
        confidence: the answer's confidence.
        label: a role's label, to name the guides.
        topic_words: the stems of the question's topic (with its expansions), given when it names roles.
    """
    chosen = select_sentences(interpretation, found, index, settings.answer, settings.retrieval.role_boost)
    chosen = _without_boost_artefacts(chosen, interpretation, index, topic_words)
    cited = CitationList(index)
    parts = [
        f"{as_sentence(index.spans[span_row].answer_text)} [{cited.cite(hit.row, span_row)}]" for span_row, hit in chosen
    ]
    text = " ".join(parts)
    quoted = list(dict.fromkeys(hit.chunk.role for _, hit in chosen))
    if interpretation.roles and quoted and not set(quoted) & set(interpretation.roles):
        # The guide of the role asked about has nothing on it: say so, and whose guide answers.
        asked = _guides(interpretation.labels)
        text = f"{asked[:1].upper()}{asked[1:]} does not say; {_guides(label(role) for role in quoted)} does:\n{text}"
        confidence = min(confidence, settings.answer.other_guide_confidence)
    return Answer(
        question,
        interpretation,
        text,
        refused=False,
        confidence=confidence,
        citations=cited.citations(),
    )


def _without_boost_artefacts(
    chosen: list[tuple[int, Hit]], interpretation: Interpretation, index: LoadedIndex, topic_words: frozenset[str]
) -> list[tuple[int, Hit]]:
    """`chosen` without the sentences of the named roles' guides that only the role preference
    brought in: none of them shares a word with the topic, while another guide's sentence does
    ("What GPA do I need for a lecturer?": the lecturer guide says nothing of grades)."""
    if not topic_words or not interpretation.roles:
        return chosen
    roles = set(interpretation.roles)
    own = [(row, hit) for row, hit in chosen if hit.chunk.role in roles]
    other = [(row, hit) for row, hit in chosen if hit.chunk.role not in roles]
    if not own or not other:
        return chosen

    def on_topic(row: int) -> bool:
        return bool(stems(index.spans[row].text) & topic_words)

    if any(on_topic(row) for row, _ in own) or not any(on_topic(row) for row, _ in other):
        return chosen
    return other


def _guides(labels: Iterable[str]) -> str:
    """ "The lecturer guide", "the lecturer and PhD guides"."""
    labels = list(labels)
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"the {names} guide" + ("s" if len(labels) > 1 else "")


def select_sentences(
    interpretation: Interpretation, found: Retrieval, index: LoadedIndex, settings: AnswerSettings, role_boost: float
) -> list[tuple[int, Hit]]:
    """The (sentence row, hit) pairs that best answer the question, in reading order per passage.

    A sentence scores as retrieval scored it (its embedding and BM25), plus `role_boost` when its
    guide is of a role the question names, less how far its passage scores below the top
    passage; only the top `settings.evidence_passages` passages are read.
    """
    hits = found.hits
    passages = settings.evidence_passages
    max_sentences = settings.max_sentences
    best_hit: dict[int, Hit] = {}
    for hit in hits[:passages]:
        first, last = index.chunk_spans[hit.row]
        for span_row in range(first, last):
            best_hit.setdefault(span_row, hit)
    if not best_hit:
        return []
    preferred = set(interpretation.roles)
    top_score = hits[0].score
    scored = []
    for span_row, hit in best_hit.items():
        score = float(found.sentence_scores[span_row]) + settings.passage_rank_weight * (hit.score - top_score)
        if hit.chunk.role in preferred:
            score += role_boost
        scored.append((score, span_row, hit))
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = scored[0][0]
    by_row = {span_row: (score, hit) for score, span_row, hit in scored}
    chosen: list[tuple[int, Hit]] = []
    length = 0

    def take(span_row: int, hit: Hit) -> bool:
        nonlocal length
        text = index.spans[span_row].text
        if any(row == span_row for row, _ in chosen) or len(chosen) >= max_sentences:
            return False
        if chosen and (length + len(text) > settings.max_answer_chars or len(content_words(text)) < 3):
            return False
        chosen.append((span_row, hit))
        length += len(text)
        return True

    for score, span_row, hit in scored:
        if len(chosen) >= max_sentences or score < best - settings.sentence_margin:
            break
        if take(span_row, hit):
            # The sentence after a chosen one often completes it ("… need robust credentials.
            # Required qualifications include …"), so it may join with a looser margin.
            following = by_row.get(span_row + 1)
            if following is not None and following[0] >= best - settings.following_margin:
                take(span_row + 1, following[1])
    chosen.sort(key=lambda pair: (pair[1].rank, pair[0]))
    return chosen


def structured_answer(
    question: str,
    interpretation: Interpretation,
    structure: Structure,
    index: LoadedIndex,
    confidence: float,
) -> Answer:
    """An answer made of a lead and cited points, numbered in the order they are cited."""
    cited = CitationList(index)
    points = tuple(
        Point(p.text, [cited.cite(p.chunk_row, row) for row in p.span_rows][0], p.group, p.facet, p.span_rows, p.chunk_row)
        for p in structure.points
    )
    numbered = Structure(
        structure.kind, structure.lead, points, structure.coverage, structure.grouped, structure.fit
    )
    return Answer(
        question,
        interpretation,
        numbered.text(),
        refused=False,
        confidence=confidence,
        citations=cited.citations(),
        kind=structure.kind,
        lead=structure.lead,
        points=points,
    )
