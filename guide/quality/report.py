"""`guide eval`: both question sets scored on one engine, optionally on a grown corpus, as figures and lines."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guide.config import Settings
from guide.quality.evaluation import (
    DEFAULT_SET,
    Question,
    evaluate,
    load_question_set,
    relevance_outcomes,
    shortfalls,
    summarise,
)
from guide.quality.evaluation import calibrate as calibrate_outcomes
from guide.quality.growth import GrowthReport, combined_corpus, growth_figures
from guide.quality.usefulness import (
    DEFAULT_USEFULNESS_SET,
    UsefulQuestion,
    boilerplate_figures,
    boilerplate_sample,
    evaluate_usefulness,
    format_usefulness,
    load_boilerplate_labels,
    load_usefulness_set,
    summarise_usefulness,
    usefulness_shortfalls,
)


@dataclass
class EvaluationReport:
    """What `guide eval` found: `data` is its JSON form."""

    data: dict[str, Any]
    missed: list[str]
    growth: GrowthReport | None
    questions: int
    useful: int
    split: str


def run_evaluation(
    settings: Settings,
    load_engine: Callable[[], Any],
    question_set: Path | None,
    useful_sets: Sequence[Path],
    split: str,
    extra_corpus: Path | None,
    k: int,
    calibrate: bool,
) -> EvaluationReport:
    """Score the retrieval set and the usefulness sets (the question sets are read before the engine loads)."""
    questions = load_question_set(question_set or DEFAULT_SET)
    useful = _useful_questions(useful_sets, split)
    labels = load_boilerplate_labels()
    engine = load_engine()
    answerers = None
    if settings.answer.backend != "extractive":
        # The answerer set side by side with the extractive one; its answers are then reused.
        from guide.quality.answerers import as_useful, side_by_side

        sets = {"facts": as_useful(questions), "usefulness": useful}
        answerers, engine = side_by_side(engine, sets, boilerplate_sample(labels), k)
    outcomes = evaluate(engine, questions, k=k)
    summary = summarise(outcomes)
    useful_outcomes = evaluate_usefulness(engine, useful, boilerplate_sample(labels))
    useful_summary = summarise_usefulness(useful_outcomes)
    material = boilerplate_figures(labels)
    failures = [
        {"question": o.item.question, "history": list(o.item.history), "problems": o.problems}
        for o in [*outcomes, *useful_outcomes]
        if o.problems
    ]
    missed = shortfalls(summary) + usefulness_shortfalls(useful_summary)
    as_questions = [Question(u.question, u.history, None, (), u.off_topic) for u in useful]
    growth, grown_outcomes = (
        _growth(settings, engine, extra_corpus, questions, useful, calibrate, k) if extra_corpus else (None, [])
    )
    data: dict[str, Any] = {
        "summary": summary,
        "usefulness": useful_summary,
        "answer_material": {
            split_name: {key: value for key, value in figures.items() if key not in ("missed", "wrong")}
            for split_name, figures in material.items()
        },
        "failures": failures,
        "missed_targets": missed,
    }
    if growth is not None:
        data["growth"] = {"base": growth.base, "grown": growth.grown}
    if answerers is not None:
        data["answerers"] = answerers
    if calibrate:
        data["calibration"] = calibrate_outcomes(
            outcomes + relevance_outcomes(engine, as_questions, k=k) + grown_outcomes
        )
    return EvaluationReport(data, missed, growth, len(questions), len(useful), split)


def _useful_questions(useful_sets: Sequence[Path], split: str) -> list[UsefulQuestion]:
    """The questions of the usefulness sets (the shipped one when none is named) in `split`."""
    return [
        item
        for path in (useful_sets or (DEFAULT_USEFULNESS_SET,))
        for item in load_usefulness_set(path)
        if split == "all" or item.split == split
    ]


def evaluation_lines(report: EvaluationReport, extra_corpus: Path | None) -> list[str]:
    """The report as `guide eval` prints it."""
    data, summary = report.data, report.data["summary"]
    lines = [
        f"{summary['questions']} questions: {summary['in_scope']} in scope ({summary['follow_ups']} follow-ups), {summary['out_of_scope']} out of scope"
    ]
    rows = [
        ("hit@1", summary["hit@1"]),
        ("hit@3", summary["hit@3"]),
        ("MRR", summary["mrr"]),
        ("expected fact in answer", summary["fact_in_answer"]),
        ("citations valid", summary["citations_valid"]),
        ("out-of-scope refused", summary["out_of_scope_refused"]),
        ("in-scope wrongly refused", summary["in_scope_refused"]),
        ("confidence, right answers (mean)", summary["confidence_right_mean"]),
        ("confidence, wrong answers (mean)", summary["confidence_wrong_mean"]),
        ("confidence AUROC right vs wrong", summary["confidence_auroc"]),
    ]
    lines += [f"  {name:<34} {value:.3f}" for name, value in rows]
    lines.append("")
    lines += format_usefulness(data["usefulness"], f"Usefulness: {report.useful} questions ({report.split})")
    lines.append("\nAnswer material (boilerplate found by the build, on the labelled sample):")
    for split_name, figures in data["answer_material"].items():
        lines.append(
            f"  {split_name:<8} precision {figures['precision']:.3f}, recall {figures['recall']:.3f} "
            f"({figures['tp'] + figures['fn']} boilerplate of {figures['sentences']} sentences)"
        )
    if report.growth is not None:
        lines.append(f"\nWith the guides of {extra_corpus} added:")
        lines += [f"  {label:<34} {before:.3f} -> {after:.3f}" for label, before, after in report.growth.rows()]
    for failure in data["failures"]:
        turn = f"{' / '.join(failure['history'])} -> " if failure["history"] else ""
        lines.append(f"\nFAIL {turn}{failure['question']}")
        lines += [f"  - {problem}" for problem in failure["problems"]]
    if "calibration" in data:
        lines.append("\nCalibration: " + ", ".join(f"{k}={v}" for k, v in data["calibration"].items()))
    if "answerers" in data:
        from guide.quality.answerers import format_side_by_side

        lines.append("\nAnswerers side by side:\n" + "\n".join(format_side_by_side(data["answerers"])))
    lines.append("\nAll targets met." if not report.missed else "\nMissed targets: " + "; ".join(report.missed))
    return lines


def _growth(
    settings: Settings, engine: Any, extra: Path, questions: Any, useful: Any, calibrate: bool, k: int
) -> tuple[Any, list[Any]]:
    """The figures of `growth_figures` from the corpus alone and with the guides of `extra` beside it,
    and (for calibrating) the relevance outcomes of every question on the grown corpus."""
    from guide.engine import Engine
    from guide.index import build_index

    extra_questions = extra / "questions.yaml"
    grown_useful = [*useful, *(load_usefulness_set(extra_questions) if extra_questions.is_file() else [])]
    with tempfile.TemporaryDirectory(prefix="guide-grow-") as folder:
        corpus = combined_corpus(settings.corpus_dir, extra, Path(folder) / "corpus")
        grown_settings = dataclasses.replace(settings, corpus_dir=corpus, index_dir=Path(folder) / "index")
        build_index(grown_settings, engine.embedder)
        grown = Engine.load(grown_settings, engine.embedder)
        grown.ask("warm up")
        report = GrowthReport(
            growth_figures(engine, questions, useful, useful), growth_figures(grown, questions, grown_useful, useful)
        )
        outcomes = []
        if calibrate:
            outcomes = evaluate(grown, questions, k=k) + relevance_outcomes(
                grown, [Question(u.question, u.history, None, (), u.off_topic) for u in grown_useful], k=k
            )
        return report, outcomes
