"""Measuring whether answers are useful: key points present, no boilerplate, honest follow-ups and refusals.

A question set (`eval/usefulness.yaml`) groups questions by kind (broad, duties, trends, …);
each in-scope question lists the key points a good answer holds, each point one or more
alternative strings. Figures are reported per group and for the dev and held-out splits.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guide.errors import GuideError
from guide.quality.evaluation import read_yaml_list

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
DEFAULT_USEFULNESS_SET = EVAL_DIR / "usefulness.yaml"
DEFAULT_BOILERPLATE_LABELS = EVAL_DIR / "boilerplate.yaml"
OFF_TOPIC = "off-topic"
# Groups whose answers must gather several points: broad, trend and cross-role questions.
STRUCTURED_GROUPS = ("broad", "trends", "cross-role")
USEFULNESS_TARGETS = {
    "structured_recall": 0.85,  # key-point recall on broad, trend and cross-role questions
    "structured_median_words": 120,  # at most
    "confidence_recall_r": 0.6,
}


@dataclass(frozen=True)
class UsefulQuestion:
    question: str
    group: str
    split: str = "dev"
    history: tuple[str, ...] = ()
    points: tuple[tuple[str, ...], ...] = ()
    inherits: bool | None = None
    # Items sharing a `wording` id ask the same question in other words.
    wording: str = ""

    @property
    def off_topic(self) -> bool:
        return self.group == OFF_TOPIC


@dataclass
class UsefulOutcome:
    item: UsefulQuestion
    answer: str = ""
    kind: str = ""
    refused: bool = False
    confidence: float = 0.0
    level: str = "low"
    found: tuple[bool, ...] = ()
    words: int = 0
    boilerplate: int = 0
    inherited: bool = False
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.found) / len(self.found) if self.found else 0.0

    @property
    def wrong_inheritance(self) -> bool:
        return self.item.inherits is not None and self.inherited != self.item.inherits


def _points(raw: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not raw:
        raise GuideError(f"{where} needs a list of 'points'.")
    points = []
    for point in raw:
        options = point if isinstance(point, list) else [point]
        if not options or not all(isinstance(option, str | int | float) for option in options):
            raise GuideError(f"{where}: each point is a string or a list of strings.")
        points.append(tuple(str(option) for option in options))
    return tuple(points)


def load_usefulness_set(path: Path) -> list[UsefulQuestion]:
    """Read and check a usefulness question set."""
    raw = read_yaml_list(path, "question set")
    questions = []
    for number, entry in enumerate(raw, start=1):
        where = f"{path}: item {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str) or not entry.get("group"):
            raise GuideError(f"{where} needs a 'question' string and a 'group'.")
        group = str(entry["group"])
        split = str(entry.get("split", "dev"))
        if split not in ("dev", "heldout"):
            raise GuideError(f"{where}: split must be 'dev' or 'heldout', not {split!r}.")
        points = () if group == OFF_TOPIC else _points(entry.get("points"), where)
        inherits = entry.get("inherits")
        questions.append(
            UsefulQuestion(
                question=entry["question"],
                group=group,
                split=split,
                history=tuple(entry.get("history", []) or ()),
                points=points,
                inherits=None if inherits is None else bool(inherits),
                wording=str(entry.get("wording", "") or ""),
            )
        )
    return questions


def load_boilerplate_labels(path: Path = DEFAULT_BOILERPLATE_LABELS) -> list[dict[str, Any]]:
    """The labelled sample: [{"corpus": Path, "split": str, "guides": {file: [opening words, …]}}]."""
    groups = []
    for entry in read_yaml_list(path, "boilerplate labels"):
        if not isinstance(entry, dict) or not isinstance(entry.get("guides"), dict):
            raise GuideError(f"{path}: each entry needs 'corpus' and 'guides'.")
        groups.append(
            {
                "corpus": (path.parent / str(entry["corpus"])).resolve(),
                "split": str(entry.get("split", "dev")),
                "guides": {str(name): [str(text) for text in openings] for name, openings in entry["guides"].items()},
            }
        )
    return groups


def normalise(text: str) -> str:
    """Lower case, dashes folded to '-', whitespace folded: the form key points are matched in."""
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def points_found(text: str, points: Sequence[Sequence[str]]) -> tuple[bool, ...]:
    body = normalise(text)
    return tuple(any(normalise(option) in body for option in options) for options in points)


def evaluate_usefulness(
    engine: Any, questions: Sequence[UsefulQuestion], boilerplate: Iterable[str] = ()
) -> list[UsefulOutcome]:
    """Ask every question (with its history) and judge the answer."""
    openings = [normalise(text) for text in boilerplate]
    outcomes = []
    for item in questions:
        started = time.perf_counter()
        answer = engine.ask(item.question, history=item.history)
        seconds = time.perf_counter() - started
        body = normalise(answer.text)
        outcome = UsefulOutcome(
            item,
            answer=answer.text,
            kind=getattr(answer, "kind", ""),
            # Off topic, an answer from the closest role that says first the guides do not cover
            # what is asked is declined as a refusal is.
            refused=answer.refused or (item.off_topic and bool(getattr(answer, "not_covered", ""))),
            confidence=answer.confidence,
            level=answer.level,
            words=0 if answer.refused else len(re.sub(r"\[\d+\]", "", answer.text).split()),
            boilerplate=0 if answer.refused else sum(opening in body for opening in openings),
            inherited=answer.interpretation.changed,
            seconds=seconds,
        )
        if item.off_topic:
            if not outcome.refused:
                outcome.problems.append(f"answered an off-topic question: {answer.text[:140]!r}")
        else:
            outcome.found = (False,) * len(item.points) if answer.refused else points_found(answer.text, item.points)
            if answer.refused:
                outcome.problems.append("refused an in-scope question")
            elif not all(outcome.found):
                missing = [item.points[i][0] for i, hit in enumerate(outcome.found) if not hit]
                outcome.problems.append(f"missing {missing}")
            if outcome.level == "high" and not any(outcome.found):
                outcome.problems.append("high confidence without any key point")
        if outcome.boilerplate:
            outcome.problems.append(f"{outcome.boilerplate} boilerplate sentence(s) in the answer")
        if outcome.wrong_inheritance:
            expected = "lean on" if item.inherits else "stand apart from"
            outcome.problems.append(f"should {expected} the earlier turn ({answer.interpretation.describe()!r})")
        outcomes.append(outcome)
    return outcomes


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy) if sx and sy else 0.0


def _auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    if not positives or not negatives:
        return 1.0
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _group_figures(outcomes: Sequence[UsefulOutcome]) -> dict[str, Any]:
    inside = [o for o in outcomes if not o.item.off_topic]
    outside = [o for o in outcomes if o.item.off_topic]
    answered = [o for o in inside if not o.refused]
    turns = [o for o in outcomes if o.item.inherits is not None]
    return {
        "questions": len(outcomes),
        "recall": statistics.fmean(o.recall for o in inside) if inside else None,
        "all_points": sum(all(o.found) for o in inside) / len(inside) if inside else None,
        "boilerplate": sum(o.boilerplate for o in outcomes),
        "wrong_inheritance": sum(o.wrong_inheritance for o in turns) if turns else None,
        "false_refusals": sum(o.refused for o in inside) if inside else None,
        "off_topic_answered": sum(not o.refused for o in outside) if outside else None,
        "median_words": statistics.median(o.words for o in answered) if answered else None,
        "high_without_point": sum(o.level == "high" and not any(o.found) for o in inside),
    }


def summarise_usefulness(outcomes: Sequence[UsefulOutcome]) -> dict[str, Any]:
    """Figures per group and overall, with confidence against key-point recall."""
    groups = sorted({o.item.group for o in outcomes}, key=lambda g: (g == OFF_TOPIC, g))
    structured = [o for o in outcomes if o.item.group in STRUCTURED_GROUPS]
    inside = [o for o in outcomes if not o.item.off_topic]
    # Every question counts for confidence: a refusal holds no key point (recall 0).
    scored = [(o.confidence, 0.0 if o.item.off_topic else o.recall) for o in outcomes]
    useful = [c for c, r in scored if r >= 0.5]
    useless = [c for c, r in scored if r < 0.5]
    times = sorted(o.seconds for o in outcomes)
    return {
        "questions": len(outcomes),
        "groups": {group: _group_figures([o for o in outcomes if o.item.group == group]) for group in groups},
        "overall": _group_figures(outcomes),
        "structured_recall": statistics.fmean(o.recall for o in structured) if structured else None,
        "structured_median_words": (
            statistics.median(o.words for o in structured if not o.refused)
            if any(not o.refused for o in structured)
            else None
        ),
        "in_scope_recall": statistics.fmean(o.recall for o in inside) if inside else None,
        "worst_wording_recall": worst_wording_recall(structured),
        "confidence_recall_r": pearson([c for c, _ in scored], [r for _, r in scored]),
        "confidence_recall_r_in_scope": pearson([o.confidence for o in inside], [o.recall for o in inside]),
        "confidence_auroc_useful": _auroc(useful, useless),
        "seconds_per_question": statistics.fmean(times) if times else 0.0,
        "seconds_p50": statistics.median(times) if times else 0.0,
    }


def worst_wording_recall(outcomes: Sequence[UsefulOutcome]) -> float | None:
    """Mean over questions asked in several wordings of the recall of each one's worst wording."""
    wordings: dict[str, list[float]] = {}
    for outcome in outcomes:
        if outcome.item.wording:
            wordings.setdefault(outcome.item.wording, []).append(outcome.recall)
    worst = [min(recalls) for recalls in wordings.values() if len(recalls) > 1]
    return statistics.fmean(worst) if worst else None


def usefulness_shortfalls(summary: dict[str, Any]) -> list[str]:
    """The usefulness targets a summary misses, as readable lines."""
    missed = []
    if (recall := summary["structured_recall"]) is not None and recall < USEFULNESS_TARGETS["structured_recall"]:
        missed.append(f"key-point recall on broad, trend and cross-role questions {recall:.3f} < 0.85")
    words = summary["structured_median_words"]
    if words is not None and words > USEFULNESS_TARGETS["structured_median_words"]:
        missed.append(f"median answer to broad, trend and cross-role questions is {words} words > 120")
    if summary["confidence_recall_r"] < USEFULNESS_TARGETS["confidence_recall_r"]:
        missed.append(f"confidence vs key-point recall r = {summary['confidence_recall_r']:.3f} < 0.6")
    overall = summary["overall"]
    for key, label in (
        ("high_without_point", "answers without a key point shown at high confidence"),
        ("boilerplate", "boilerplate sentences in answers"),
        ("wrong_inheritance", "wrong inheritances"),
        ("false_refusals", "in-scope questions refused"),
        ("off_topic_answered", "off-topic questions answered"),
    ):
        if overall.get(key):
            missed.append(f"{overall[key]} {label}")
    return missed


def boilerplate_sample(labels: Sequence[dict[str, Any]], split: str | None = None) -> list[str]:
    """The labelled boilerplate openings (of one split, or all)."""
    return [
        opening
        for group in labels
        if split is None or group["split"] == split
        for openings in group["guides"].values()
        for opening in openings
    ]


def format_usefulness(summary: dict[str, Any], title: str) -> list[str]:
    """A per-group table of a usefulness summary, as lines of text."""

    def cell(value: Any, digits: int = 2) -> str:
        if value is None:
            return "–"
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    header = f"  {'group':<13}{'n':>4}{'recall':>8}{'all pts':>8}{'boiler':>8}{'inherit✗':>9}{'refused✗':>9}{'off✗':>6}{'words':>7}"
    lines = [title, header]
    rows = [*summary["groups"].items(), ("all", summary["overall"])]
    for group, figures in rows:
        lines.append(
            f"  {group:<13}{figures['questions']:>4}{cell(figures['recall']):>8}{cell(figures['all_points']):>8}"
            f"{figures['boilerplate']:>8}{cell(figures['wrong_inheritance']):>9}{cell(figures['false_refusals']):>9}"
            f"{cell(figures['off_topic_answered']):>6}{cell(figures['median_words'], 0):>7}"
        )
    lines.append(
        f"  broad+trends+cross-role recall {cell(summary['structured_recall'], 3)}, median words "
        f"{cell(summary['structured_median_words'], 0)}"
        + (
            f", worst wording {summary['worst_wording_recall']:.3f}"
            if summary.get("worst_wording_recall") is not None
            else ""
        )
        + f"; confidence vs recall r = {summary['confidence_recall_r']:.3f} "
        f"(in scope {summary['confidence_recall_r_in_scope']:.3f}), AUROC useful/useless "
        f"{summary['confidence_auroc_useful']:.3f}; high confidence without a key point: "
        f"{summary['overall']['high_without_point']}; {summary['seconds_per_question'] * 1000:.0f} ms per question"
    )
    return lines


def boilerplate_figures(labels: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Precision and recall of the answer-material filter on the labelled sample, per split.

    A sentence is labelled boilerplate when it starts with one of its guide's labelled openings;
    the filter's verdict is the one `guide build` stores.
    """
    from guide.ingest.corpus import read_guide
    from guide.ingest.material import mark_material

    figures: dict[str, dict[str, Any]] = {}
    for group in labels:
        counts = figures.setdefault(group["split"], {"tp": 0, "fp": 0, "fn": 0, "sentences": 0, "missed": [], "wrong": []})
        for name, openings in group["guides"].items():
            document = read_guide(group["corpus"] / name)
            wanted = [normalise(opening) for opening in openings]
            for span in mark_material(document):
                labelled = any(normalise(span.text).startswith(opening) for opening in wanted)
                flagged = not span.material
                counts["sentences"] += 1
                counts["tp"] += labelled and flagged
                counts["fp"] += flagged and not labelled
                counts["fn"] += labelled and not flagged
                if labelled != flagged:
                    counts["missed" if labelled else "wrong"].append(f"{name}: {span.text[:90]}")
    for counts in figures.values():
        found = counts["tp"] + counts["fp"]
        actual = counts["tp"] + counts["fn"]
        counts["precision"] = counts["tp"] / found if found else 1.0
        counts["recall"] = counts["tp"] / actual if actual else 1.0
    return figures
