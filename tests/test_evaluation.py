"""The shipped question set meets the quality targets with the default model (and the metrics are right)."""

from __future__ import annotations

import pytest

from guide.answer import Answer, Citation
from guide.evaluation import (
    DEFAULT_SET,
    Outcome,
    Question,
    auroc,
    calibrate,
    citation_problems,
    contains_fact,
    evaluate,
    load_question_set,
    shortfalls,
    summarise,
)
from guide.query import Interpretation


def test_the_shipped_set_has_the_required_shape():
    questions = load_question_set(DEFAULT_SET)
    inside = [q for q in questions if not q.out_of_scope]
    assert len(questions) >= 60
    assert sum(q.out_of_scope for q in questions) >= 8
    assert sum(bool(q.history) for q in inside) >= 6
    assert {q.role for q in inside} == {"assistant-professor", "lecturer", "researcher", "phd", "clinical-professor"}


def test_every_expected_fact_is_in_its_guide():
    from guide.corpus import load_corpus
    from tests.conftest import CORPUS

    documents, _ = load_corpus(CORPUS)
    text = {doc.role: doc.text for doc in documents}
    for question in load_question_set(DEFAULT_SET):
        for fact in question.facts:
            assert contains_fact(text[question.role], [fact]), (question.question, fact)


@pytest.mark.model
def test_quality_targets_are_met_on_the_shipped_set(engine):
    outcomes = evaluate(engine, load_question_set(DEFAULT_SET))
    summary = summarise(outcomes)
    failures = "\n".join(f"{o.item.question}: {o.problems}" for o in outcomes if o.problems)
    assert shortfalls(summary) == [], failures
    # Confidence means something: right answers outrank wrong ones and refusals.
    assert summary["confidence_auroc"] >= 0.7


def _answer(text: str, citations: tuple[Citation, ...]) -> Answer:
    return Answer("q", Interpretation("q", "q", "q"), text, refused=False, confidence=0.9, citations=citations)


class _Index:
    def __init__(self, text: str) -> None:
        self.documents = {"d": type("Doc", (), {"text": text})()}


def test_citation_problems_find_unused_unknown_and_misplaced_citations():
    index = _Index("Alpha beta. Gamma delta.")
    good = Citation(1, "d", "T", "r", "S", "p", "Alpha beta.", 0, 11, ((0, 11),))
    assert citation_problems(_answer("Alpha beta. [1]", (good,)), index) == []
    assert "[2] used without a citation" in citation_problems(_answer("x [1] [2]", (good,)), index)
    assert "citation(s) [1] not used in the answer" in citation_problems(_answer("no marks", (good,)), index)
    moved = Citation(1, "d", "T", "r", "S", "p", "Gamma", 0, 5)
    assert citation_problems(_answer("x [1]", (moved,)), index) == [
        "[1] snippet is not the passage at its offsets in d"
    ]


def test_metrics_on_literal_outcomes():
    right = Outcome(Question("a", role="r", facts=("f",)), rank=1, answered_fact=True, confidence=0.9, dense=0.6)
    second = Outcome(Question("b", role="r", facts=("f",)), rank=2, answered_fact=False, confidence=0.6, dense=0.5)
    refused = Outcome(Question("c", out_of_scope=True), refused=True, confidence=0.1, dense=0.1, coverage=0.0)
    summary = summarise([right, second, refused])
    assert summary["hit@1"] == 0.5 and summary["hit@3"] == 1.0 and summary["mrr"] == 0.75
    assert summary["fact_in_answer"] == 0.5 and summary["out_of_scope_refused"] == 1.0
    assert auroc([0.9], [0.6, 0.1]) == 1.0 and auroc([0.5], [0.5]) == 0.5
    calibration = calibrate([right, second, refused])
    assert 0.1 < calibration["refusal_threshold"] < 0.5 + calibration["coverage_weight"]
    assert "fact_in_answer 0.500 < 0.90" in shortfalls(summary)
