"""Growth: the same questions answered from the shipped guides alone and with more guides beside them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guide.quality.usefulness import UsefulQuestion, evaluate_usefulness


@dataclass
class GrowthReport:
    """The same questions answered from the shipped guides alone and with more guides beside them."""

    base: dict[str, Any]
    grown: dict[str, Any]

    def rows(self) -> list[tuple[str, float, float]]:
        keys = (
            ("hit@1 on the original questions", "hit@1"),
            ("key-point recall", "recall"),
            ("off-topic refused", "off_topic_refused"),
            ("seconds per question", "seconds"),
        )
        return [(label, self.base[key], self.grown[key]) for label, key in keys]


def seconds_per_question(engine: Any, questions: Sequence[UsefulQuestion]) -> float:
    """Mean time to answer each question once, embeddings not yet cached."""
    engine.clear_cache()
    started = time.perf_counter()
    for item in questions:
        engine.ask(item.question, history=item.history)
    return (time.perf_counter() - started) / max(len(questions), 1)


def growth_figures(
    engine: Any,
    retrieval_questions: Sequence[Any],
    useful_questions: Sequence[UsefulQuestion],
    timed: Sequence[UsefulQuestion],
) -> dict[str, Any]:
    """hit@1 on the retrieval set, key-point recall, off-topic refusals, and time per `timed` question."""
    from guide.quality.evaluation import evaluate, summarise

    seconds = seconds_per_question(engine, timed)
    outcomes = evaluate(engine, retrieval_questions)
    summary = summarise(outcomes)
    useful = evaluate_usefulness(engine, useful_questions)
    inside = [o for o in useful if not o.item.off_topic]
    off = [o for o in useful if o.item.off_topic] + [o for o in outcomes if o.item.out_of_scope]
    return {
        "hit@1": summary["hit@1"],
        "recall": statistics.fmean(o.recall for o in inside) if inside else 0.0,
        "off_topic_refused": sum(o.refused for o in off) / len(off) if off else 1.0,
        "seconds": seconds,
    }


def combined_corpus(base: Path, extra: Path, target: Path) -> Path:
    """A corpus folder holding the guides (and collection file) of `base` and the guides of `extra`."""
    import shutil

    from guide.ingest.collection import COLLECTION_FILE
    from guide.ingest.corpus import guide_files

    target.mkdir(parents=True, exist_ok=True)
    for path in [*guide_files(base), *guide_files(extra)]:
        shutil.copy2(path, target / path.name)
    if (base / COLLECTION_FILE).is_file():
        shutil.copy2(base / COLLECTION_FILE, target / COLLECTION_FILE)
    return target
