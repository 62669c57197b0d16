"""Two answerers side by side on the same questions: the one `answer.backend` names and the extractive one.

For each: key points found (the facts of a fact set count as one point each), boilerplate
sentences, wrong inheritance, in-scope refusals and off-topic answers, citation precision (share
of cited sentences that their cited passage supports) and recall (share of all answer
sentences that carry such a citation), sentences replaced, numbers shown that no cited passage
holds, words, and the time to the first text shown and to the whole answer. Support is judged
by the writer's checks (`guide.answer.verify`) against the cited passages.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from guide.answer.base import Final, Text
from guide.answer.records import Answer
from guide.answer.verify import Verifier, numbers_in, split_citations
from guide.ask.retrieval import Hit
from guide.quality.evaluation import Question
from guide.quality.usefulness import OFF_TOPIC, UsefulQuestion, normalise, points_found

# A sentence of an answer line: text up to its citation marks (or the end of the line).
_SENTENCE = re.compile(r"[^\[]+?(?:(?:\s*\[\d+\])+[.]?|$)")


@dataclass
class Measured:
    """One answer's figures."""

    points: int = 0
    found: int = 0
    boilerplate: int = 0
    wrong_inheritance: bool = False
    refused_in_scope: bool = False
    answered_off_topic: bool = False
    sentences: int = 0
    cited: int = 0
    cited_supported: int = 0
    replaced: int = 0
    fallback: str = ""
    unsupported_numbers: list[str] = field(default_factory=list)
    words: int = 0
    first_text: float = 0.0
    seconds: float = 0.0


def as_useful(questions: Iterable[Question]) -> list[UsefulQuestion]:
    """A fact set's questions as usefulness questions: each expected fact is a key point."""
    return [
        UsefulQuestion(q.question, OFF_TOPIC if q.out_of_scope else "fact", history=q.history,
                       points=() if q.out_of_scope else (tuple(q.facts),))
        for q in questions
    ]


def streamed(engine: Any, item: UsefulQuestion, k: int) -> tuple[Answer, float, float]:
    """The answer, the seconds to its first text (a piece, or the whole answer) and to the end."""
    started = time.perf_counter()
    first, answer = None, None
    for event in engine.stream(item.question, history=item.history, k=k):
        if isinstance(event, Text | Final) and first is None:
            first = time.perf_counter() - started
        if isinstance(event, Final):
            answer = event.answer
    return answer, first or 0.0, time.perf_counter() - started


def citation_figures(answer: Answer, engine: Any, measured: Measured) -> None:
    """Count the answer's sentences, those cited, those their citation supports, and numbers no cited passage holds."""
    index = engine.index
    rows = {(chunk.doc_id, chunk.start, chunk.end): row for row, chunk in enumerate(index.chunks)}
    numbered = {c.n: rows.get((c.doc_id, c.start, c.end)) for c in answer.citations}
    passages = [row for row in numbered.values() if row is not None]
    hits = [Hit(rank=i + 1, score=0.0, dense=0.0, lexical=0.0, row=row, chunk=index.chunks[row])
            for i, row in enumerate(passages)]
    place = {n: passages.index(row) for n, row in numbered.items() if row is not None}
    verifier = Verifier(index, hits, engine.embed_many, engine.settings.writer)
    for line in answer.text.split("\n"):
        if not re.search(r"\[\d+\]", line):
            continue  # a lead, a notice or a note, not a claim of the guides
        for sentence in _SENTENCE.findall(line):
            claim, numbers = split_citations(sentence)
            if len(re.findall(r"\w+", claim)) < 2:
                continue
            measured.sentences += 1
            cited = [place[n] for n in numbers if n in place]
            sources = cited or list(range(len(hits)))
            held = set().union(*(numbers_in(hits[i].chunk.context_text()) for i in sources)) if sources else set()
            measured.unsupported_numbers += sorted(numbers_in(claim) - held)
            if cited:
                measured.cited += 1
                # A quoted point may hold several of the guide's sentences: each must be supported.
                parts = [part for part in re.split(r"(?<=[.!?])\s+(?=[A-Z])", claim) if part]
                measured.cited_supported += all(
                    any(verifier.support(part, verifier.embed(part), i).holds(engine.settings.writer) for i in cited)
                    for part in parts
                )


def measure(engine: Any, items: Sequence[UsefulQuestion], boilerplate: Iterable[str], k: int) -> tuple[
    list[Measured], dict[tuple[str, tuple[str, ...]], Answer]
]:
    """Every question's figures, and the answers by (question, history)."""
    openings = [normalise(text) for text in boilerplate]
    results, answers = [], {}
    for item in items:
        answer, first, seconds = streamed(engine, item, k)
        answers[(item.question, tuple(item.history))] = answer
        body = normalise(answer.text)
        measured = Measured(first_text=first, seconds=seconds)
        writer = answer.extra.get("writer", {})
        measured.replaced = writer.get("replaced", 0) + writer.get("left_out", 0)
        measured.fallback = writer.get("fallback", "")
        measured.wrong_inheritance = item.inherits is not None and answer.interpretation.changed != item.inherits
        if item.off_topic:
            measured.answered_off_topic = not answer.refused
        else:
            measured.points = len(item.points)
            measured.refused_in_scope = answer.refused
            measured.found = 0 if answer.refused else sum(points_found(answer.text, item.points))
        if not answer.refused:
            measured.boilerplate = sum(opening in body for opening in openings)
            measured.words = len(re.sub(r"\[\d+\]", "", answer.text).split())
            citation_figures(answer, engine, measured)
        results.append(measured)
    return results, answers


def summary(results: Sequence[Measured]) -> dict[str, Any]:
    """The figures of one answerer over a question set."""
    answered = [r for r in results if r.words]
    cited = sum(r.cited for r in results)
    sentences = sum(r.sentences for r in results)
    firsts = sorted(r.first_text for r in results)
    return {
        "key_points": f"{sum(r.found for r in results)}/{sum(r.points for r in results)}",
        "boilerplate_sentences": sum(r.boilerplate for r in results),
        "wrong_inheritance": sum(r.wrong_inheritance for r in results),
        "in_scope_refused": sum(r.refused_in_scope for r in results),
        "off_topic_answered": sum(r.answered_off_topic for r in results),
        "citation_precision": round(sum(r.cited_supported for r in results) / cited, 3) if cited else 1.0,
        "citation_recall": round(sum(r.cited_supported for r in results) / sentences, 3) if sentences else 1.0,
        "sentences_replaced": sum(r.replaced for r in results),
        "fallbacks": sum(bool(r.fallback) and r.fallback != "kind" for r in results),
        "unsupported_numbers": sum(len(r.unsupported_numbers) for r in results),
        "median_words": statistics.median(r.words for r in answered) if answered else 0,
        "first_text_median_s": round(statistics.median(firsts), 3) if firsts else 0.0,
        "first_text_p90_s": round(firsts[int(0.9 * (len(firsts) - 1))], 3) if firsts else 0.0,
        "total_median_s": round(statistics.median(r.seconds for r in results), 3) if results else 0.0,
    }


class RecordingEngine:
    """An engine whose `ask` returns the answers already written for these questions (so the
    evaluation that follows does not ask a slow model twice); everything else is the engine's."""

    def __init__(self, engine: Any, answers: dict[tuple[str, tuple[str, ...]], Answer]) -> None:
        self._engine = engine
        self._answers = answers

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = ()) -> Answer:
        known = self._answers.get((question, tuple(history)))
        return known if known is not None and not roles else self._engine.ask(question, history, k, roles)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def side_by_side(
    engine: Any, sets: dict[str, Sequence[UsefulQuestion]], boilerplate: Sequence[str], k: int
) -> tuple[dict[str, dict[str, dict[str, Any]]], RecordingEngine]:
    """{set: {answerer: figures}} for `engine`'s answerer and the extractive one, and `engine`
    recording its answers."""
    from guide.engine import Engine

    settings = engine.settings
    plain = Engine(dataclasses.replace(settings, answer=dataclasses.replace(settings.answer, backend="extractive")),
                   engine.embedder, engine.index)
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    answers: dict[tuple[str, tuple[str, ...]], Answer] = {}
    for name, items in sets.items():
        written, recorded = measure(engine, items, boilerplate, k)
        answers.update(recorded)
        quoted, _ = measure(plain, items, boilerplate, k)
        figures[name] = {settings.answer.backend: summary(written), "extractive": summary(quoted)}
    return figures, RecordingEngine(engine, answers)


def format_side_by_side(figures: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The figures as a table per question set."""
    lines = []
    for name, by_answerer in figures.items():
        names = list(by_answerer)
        lines.append(f"{name}: " + " vs ".join(names))
        for key in next(iter(by_answerer.values())):
            lines.append(f"  {key:<26} " + "  ".join(f"{str(by_answerer[n][key]):>10}" for n in names))
    return lines
