"""Measuring answer quality on a question set: retrieval hits, facts in answers, citations, refusals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guide.answer.records import Answer
from guide.ask.gate import relevance
from guide.errors import GuideError
from guide.index import LoadedIndex

DEFAULT_SET = Path(__file__).resolve().parents[2] / "eval" / "questions.yaml"
TARGETS = {
    "hit@1": 0.92,
    "hit@3": 0.97,
    "fact_in_answer": 0.92,
    "citations_valid": 1.0,
    "out_of_scope_refused": 0.95,
}
MAX_FALSE_REFUSALS = 0.03


@dataclass(frozen=True)
class Question:
    question: str
    history: tuple[str, ...] = ()
    role: str | None = None
    facts: tuple[str, ...] = ()
    out_of_scope: bool = False


@dataclass
class Outcome:
    item: Question
    rank: int | None = None  # of the first passage from the right guide that contains a fact
    top_score: float = 0.0
    dense: float = 0.0
    coverage: float = 1.0
    answered_fact: bool = False
    refused: bool = False
    confidence: float = 0.0
    named_role: bool = True  # the question names (or inherits) a role of the guides
    # A structured question about a named role is never refused on relevance: not calibrated on.
    exempt: bool = False
    citation_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_yaml_list(path: Path, what: str) -> list[Any]:
    """The list a YAML file holds, or a `GuideError` naming the file and what is wrong."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GuideError(f"Cannot read the {what} {path}: {error.strerror or error}.") from None
    except yaml.YAMLError as error:
        raise GuideError(f"The {what} {path} is not valid YAML: {error}") from None
    if not isinstance(raw, list):
        raise GuideError(f"The {what} {path} must be a list.")
    return raw


def load_question_set(path: Path) -> list[Question]:
    """Read and check a YAML question set."""
    raw = read_yaml_list(path, "question set")
    questions = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
            raise GuideError(f"{path}: item {number} needs a 'question' string.")
        out = bool(entry.get("out_of_scope", False))
        facts = entry.get("facts", [])
        if not out and (not entry.get("role") or not isinstance(facts, list) or not facts):
            raise GuideError(f"{path}: item {number} needs a 'role' and a list of 'facts', or 'out_of_scope: true'.")
        questions.append(
            Question(
                entry["question"], tuple(entry.get("history", []) or ()), entry.get("role"), tuple(map(str, facts)), out
            )
        )
    return questions


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def contains_fact(text: str, facts: Sequence[str]) -> bool:
    return any(_normal(fact) in _normal(text) for fact in facts)


def citation_problems(answer: Answer, index: LoadedIndex) -> list[str]:
    """What is wrong with an answer's citations: unknown or unused numbers, or passages not in the guide."""
    problems = []
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    numbers = [citation.n for citation in answer.citations]
    if len(numbers) != len(set(numbers)):
        problems.append("duplicate citation numbers")
    if missing := used - set(numbers):
        problems.append(f"[{', '.join(map(str, sorted(missing)))}] used without a citation")
    if unused := set(numbers) - used:
        problems.append(f"citation(s) {sorted(unused)} not used in the answer")
    for citation in answer.citations:
        document = index.documents.get(citation.doc_id)
        if document is None or document.text[citation.start : citation.end] != citation.snippet:
            problems.append(f"[{citation.n}] snippet is not the passage at its offsets in {citation.doc_id}")
        elif not all(citation.start <= a < b <= citation.end for a, b in citation.highlights):
            problems.append(f"[{citation.n}] highlights fall outside the passage")
    return problems


def evaluate(engine: Any, questions: Sequence[Question], k: int = 5) -> list[Outcome]:
    """Run every question through search and ask (with its conversation history)."""
    outcomes = []
    for item in questions:
        outcome = Outcome(item)
        interpretation = engine.interpret(item.question, item.history)
        found = engine.retrieve(interpretation, k=k)
        hits = found.hits
        outcome.dense = max((hit.dense for hit in hits), default=0.0)
        outcome.coverage = found.coverage
        outcome.top_score = relevance(found, engine.settings.answer)
        outcome.named_role = bool(interpretation.roles)
        outcome.exempt = _exempt(engine, interpretation)
        answer = engine.ask(item.question, history=item.history, k=k)
        # An out-of-scope question answered from the closest role, saying first that the guides do
        # not cover what it asks and unsure, is declined as a refusal is.
        outcome.refused = answer.refused or (item.out_of_scope and bool(answer.not_covered))
        outcome.confidence = answer.confidence
        outcome.citation_problems = citation_problems(answer, engine.index)
        if item.out_of_scope:
            if not outcome.refused:
                outcome.problems.append(f"answered instead of refusing: {answer.text[:120]!r}")
        else:
            for hit in hits:
                if hit.chunk.role == item.role and contains_fact(hit.chunk.text, item.facts):
                    outcome.rank = hit.rank
                    break
            outcome.answered_fact = not answer.refused and contains_fact(answer.text, item.facts)
            if outcome.rank != 1:
                top = hits[0].chunk if hits else None
                where = f"{top.doc_id} / {top.section}" if top else "nothing"
                outcome.problems.append(f"top passage is {where}; right passage at rank {outcome.rank or f'>{k}'}")
            if answer.refused:
                outcome.problems.append(f"refused (best similarity {outcome.top_score:.3f})")
            elif not outcome.answered_fact:
                outcome.problems.append(f"answer lacks {item.facts[0]!r}: {answer.text[:160]!r}")
        outcome.problems.extend(f"citation: {problem}" for problem in outcome.citation_problems)
        outcomes.append(outcome)
    return outcomes


def _exempt(engine: Any, interpretation: Any) -> bool:
    """Whether relevance does not decide a refusal: a structured question about a named role is
    always answered, a question about a job the guides never mention always refused."""
    gate = engine.gate
    return gate.always_answered(interpretation) or gate.unknown_subject(engine.library, interpretation) is not None


def relevance_outcomes(engine: Any, questions: Sequence[Question], k: int = 5) -> list[Outcome]:
    """Relevance inputs only (dense similarity, word coverage, role named) for calibrating refusals."""
    outcomes = []
    for item in questions:
        interpretation = engine.interpret(item.question, item.history)
        found = engine.retrieve(interpretation, k=k)
        outcome = Outcome(item, dense=max((hit.dense for hit in found.hits), default=0.0), coverage=found.coverage)
        outcome.named_role = bool(interpretation.roles)
        outcome.exempt = _exempt(engine, interpretation)
        outcomes.append(outcome)
    return outcomes


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The headline figures of an evaluation."""
    inside = [o for o in outcomes if not o.item.out_of_scope]
    outside = [o for o in outcomes if o.item.out_of_scope]
    answered = [o for o in outcomes if not o.refused]

    def share(values: Sequence[bool]) -> float:
        return sum(values) / len(values) if values else 0.0

    right = [o.confidence for o in inside if o.answered_fact]
    wrong = [
        o.confidence
        for o in outcomes
        if (o.item.out_of_scope and not o.refused) or (not o.item.out_of_scope and not o.answered_fact)
    ]
    return {
        "questions": len(outcomes),
        "in_scope": len(inside),
        "out_of_scope": len(outside),
        "follow_ups": sum(bool(o.item.history) for o in outcomes),
        "hit@1": share([o.rank == 1 for o in inside]),
        "hit@3": share([o.rank is not None and o.rank <= 3 for o in inside]),
        "mrr": sum(1 / o.rank for o in inside if o.rank) / len(inside) if inside else 0.0,
        "fact_in_answer": share([o.answered_fact for o in inside]),
        "citations_valid": share([not o.citation_problems for o in answered]),
        "out_of_scope_refused": share([o.refused for o in outside]),
        "in_scope_refused": share([o.refused for o in inside]),
        "confidence_right_mean": sum(right) / len(right) if right else 0.0,
        "confidence_wrong_mean": sum(wrong) / len(wrong) if wrong else 0.0,
        "confidence_auroc": auroc(
            right,
            [o.confidence for o in outcomes if o.item.out_of_scope]
            + [o.confidence for o in inside if not o.answered_fact],
        ),
    }


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return 1.0
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def shortfalls(summary: dict[str, Any]) -> list[str]:
    """The targets a summary misses, as readable lines."""
    missed = [
        f"{name} {summary[name]:.3f} < {target:.2f}" for name, target in TARGETS.items() if summary[name] < target
    ]
    if summary["in_scope_refused"] > MAX_FALSE_REFUSALS:
        missed.append(f"in_scope_refused {summary['in_scope_refused']:.3f} > {MAX_FALSE_REFUSALS:.2f}")
    return missed


def calibrate(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The relevance settings that the data support.

    For each coverage weight on a grid, relevance = dense similarity + weight x word coverage;
    the weight that best separates in-scope from out-of-scope questions wins (widest margin
    when they separate, else fewest misjudged), and the refusal threshold sits midway in that
    margin. The confidence slope then maximises the likelihood of "the answer holds the
    expected fact" under the logistic confidence.
    """

    outcomes = [o for o in outcomes if not o.exempt]

    def split(weight: float) -> tuple[list[float], list[float]]:
        inside = sorted(o.dense + weight * o.coverage for o in outcomes if not o.item.out_of_scope)
        outside = sorted(o.dense + weight * o.coverage for o in outcomes if o.item.out_of_scope)
        return inside, outside

    def quality(weight: float) -> tuple[int, float]:
        inside, outside = split(weight)
        if not inside or not outside:
            return (0, 0.0)
        errors = min(sum(s >= t for s in outside) + sum(s < t for s in inside) for t in inside + outside)
        return (-errors, inside[0] - outside[-1])

    weight = max((w / 20 for w in range(0, 21)), key=quality)
    inside, outside = split(weight)
    if inside and outside and outside[-1] < inside[0]:
        threshold = (outside[-1] + inside[0]) / 2
    else:
        candidates = sorted(set(inside + outside))
        threshold = (
            min(candidates, key=lambda t: sum(s >= t for s in outside) + sum(s < t for s in inside))
            if candidates
            else 0.3
        )
    slope = _confidence_slope([(o.dense + weight * o.coverage, o.answered_fact) for o in outcomes], threshold)
    # Questions that name no role get their own threshold, midway between the highest
    # out-of-scope and the lowest in-scope relevance among them.
    unnamed_in = sorted(o.dense + weight * o.coverage for o in outcomes if not o.item.out_of_scope and not o.named_role)
    unnamed_out = sorted(o.dense + weight * o.coverage for o in outcomes if o.item.out_of_scope and not o.named_role)
    no_role = (
        (unnamed_in[0] + unnamed_out[-1]) / 2
        if unnamed_in and unnamed_out and unnamed_out[-1] < unnamed_in[0]
        else max(threshold, unnamed_out[-1] + 0.01 if unnamed_out else threshold)
    )
    return {
        "coverage_weight": weight,
        "refusal_threshold": round(threshold, 4),
        "refusal_threshold_no_role": round(no_role, 4),
        "confidence_slope": slope,
        "lowest_in_scope": round(inside[0], 4) if inside else 0.0,
        "highest_out_of_scope": round(outside[-1], 4) if outside else 0.0,
    }


def _confidence_slope(labelled: Sequence[tuple[float, bool]], threshold: float) -> float:
    """The slope of the logistic confidence around `threshold` under which the (relevance,
    answer holds the fact) pairs are likeliest."""
    import math

    def log_likelihood(slope: float) -> float:
        total = 0.0
        for score, right in labelled:
            p = 1 / (1 + math.exp(-slope * (score - threshold)))
            p = min(max(p, 1e-9), 1 - 1e-9)
            total += math.log(p if right else 1 - p)
        return total

    return max((s / 2 for s in range(2, 121)), key=log_likelihood)
