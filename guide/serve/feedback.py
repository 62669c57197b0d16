"""The feedback log: thumbs up or down, refusals and low-confidence answers, and the gaps they show."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from guide.answer.records import Answer
from guide.ask.lexicon import content_words

KINDS = ("refused", "low-confidence", "thumbs-down", "thumbs-up")


def feedback_record(kind: str, answer: Answer) -> dict[str, Any]:
    """One record: what was asked, how it was understood, what was answered and cited."""
    return {
        "id": uuid.uuid4().hex,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kind": kind,
        "question": answer.question,
        "interpreted_as": answer.interpretation.describe(),
        "answer": answer.text,
        "refused": answer.refused,
        "confidence": round(answer.confidence, 4),
        "citations": [citation.to_json() for citation in answer.citations],
    }


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line; a single write call so concurrent sessions never interleave lines."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    with path.open("ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def automatic_kind(answer: Answer) -> str | None:
    """The kind under which an answer is logged without the user asking: refusals and weak answers."""
    if answer.refused and answer.interpretation.query:
        return "refused"
    if not answer.refused and answer.level == "low":
        return "low-confidence"
    return None


def read_lines(path: Path) -> list[dict[str, Any] | None]:
    """A JSON Lines log, one entry per non-blank line: its record, or None when it is unreadable."""
    if not path.exists():
        return []
    entries: list[dict[str, Any] | None] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            entries.append(None)
            continue
        valid = isinstance(record, dict) and isinstance(record.get("question"), str) and record.get("kind") in KINDS
        entries.append(record if valid else None)
    return entries


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The log's records and the number of unreadable lines skipped."""
    entries = read_lines(path)
    records = [entry for entry in entries if entry is not None]
    return records, len(entries) - len(records)


@dataclass
class Gap:
    """Questions about one topic that the guides answered badly or not at all."""

    words: list[str]
    questions: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.kinds.values())


def find_gaps(records: Iterable[dict[str, Any]], overlap: float = 0.5) -> list[Gap]:
    """Group refused, low-confidence and thumbs-down questions by the words they share, biggest group first."""
    gaps: list[tuple[set[str], Gap]] = []
    for record in records:
        if record.get("kind") == "thumbs-up":
            continue
        words = {re.sub(r"s$", "", word) for word in content_words(record["question"])}
        if not words:
            continue
        for key, gap in gaps:  # noqa: B007 (used after the loop)
            if len(words & key) / min(len(words), len(key)) >= overlap:
                break
        else:
            key, gap = set(), Gap(words=[])
            gaps.append((key, gap))
        key |= words
        if record["question"] not in gap.questions:
            gap.questions.append(record["question"])
        gap.kinds[record["kind"]] = gap.kinds.get(record["kind"], 0) + 1
    for key, gap in gaps:
        gap.words = sorted(key)
    return sorted((gap for _, gap in gaps), key=lambda gap: (-gap.count, gap.questions[0]))
