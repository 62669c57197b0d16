"""Feedback under trouble, on the embedded SQLite database: a hung database, a full disk, bad old lines."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from guide.serve.feedback_store import FeedbackStore, FeedbackWriter, Spool


def _record(question: str, number: int = 0, **changes: object) -> dict:
    record = {
        "id": f"r-{number}",
        "time": "2026-11-24T10:00:00+00:00",
        "kind": "refused",
        "question": question,
        "interpreted_as": question,
        "answer": "",
        "refused": True,
        "confidence": 0.1,
        "citations": [],
    }
    return {**record, **changes}


class HungStore:
    """A database that hangs on every insert until released (like PostgreSQL stopped by SIGSTOP)."""

    def __init__(self) -> None:
        self.inserting = threading.Event()
        self.release = threading.Event()
        self.stored: list[dict] = []

    def add(self, records):
        self.inserting.set()
        self.release.wait(30)
        self.stored += records
        return []

    def import_log(self, path: Path) -> int:
        return 0


def test_an_answer_never_waits_for_a_hung_database(tmp_path):
    store = HungStore()
    writer = FeedbackWriter(store, tmp_path / "spool.jsonl", retry_seconds=0.1)
    try:
        writer.submit(_record("first", 1))
        assert store.inserting.wait(5)  # the writer is stuck inside the database now
        took = []

        def submit() -> None:
            started = time.monotonic()
            writer.submit(_record("second", 2))
            took.append(time.monotonic() - started)

        thread = threading.Thread(target=submit, daemon=True)
        thread.start()
        thread.join(3)
        assert took and took[0] < 1.0, "submit waited for the database"
        assert [r["question"] for r in Spool(tmp_path / "spool.jsonl").pending()] == ["first", "second"]
    finally:
        store.release.set()
    assert writer.flush(10)
    assert [r["question"] for r in store.stored] == ["first", "second"]
    assert Spool(tmp_path / "spool.jsonl").pending() == []


def test_a_fragment_left_by_a_failed_write_does_not_swallow_the_next_record(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(_record("before", 1))
    with spool.path.open("ab") as handle:
        handle.write(json.dumps(_record("cut short", 2)).encode()[:40])  # what a full disk left
    spool.append(_record("after", 3))
    assert [r["question"] for r in spool.pending()] == ["before", "after"]
    store = FeedbackStore(url)
    assert spool.drain(store) == 2
    assert [r["question"] for r in store.records()] == ["before", "after"]
    assert spool.path.read_text() == "" and '\\"r-2\\"' in (tmp_path / "spool.jsonl.rejected").read_text()


FULL_DISK = """
import resource, signal, sys
from guide.errors import GuideError
from guide.serve.spool import Spool
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
spool = Spool(__import__("pathlib").Path(sys.argv[1]))
record = {"id": "x", "kind": "refused", "question": "q" * 300}
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
appended = failed = 0
for number in range(6):
    try:
        spool.append({**record, "id": str(number)})
        appended += 1
    except GuideError as error:
        failed += 1
        message = str(error)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
spool.append({**record, "id": "later"})
print(__import__("json").dumps([appended, failed, [r["id"] for r in spool.pending()], message]))
"""


def test_a_write_on_a_full_disk_is_reported_and_undone(tmp_path):
    """The file size limit cuts a write short mid-way, as a full disk does."""
    spool = tmp_path / "spool.jsonl"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(spool)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    appended, failed, ids, message = json.loads(result.stdout)
    assert (appended, failed, ids) == (2, 4, ["0", "1", "later"])
    assert "could not be written" in message
    assert all(json.loads(line) for line in spool.read_text().splitlines())


def test_bad_lines_of_an_older_log_are_set_aside_and_the_rest_flows(tmp_path):
    legacy = tmp_path / "feedback.jsonl"
    lines = [
        _record("good old one", 1),
        _record("confidence as a word", 2, confidence="high"),
        _record("citations as a number", 3, citations=5),
        _record("an id too long", 4, id="x" * 65),
        _record("refused as a word", 5, refused="no"),
        _record("another good one", 6),
    ]
    legacy.write_text("".join(json.dumps(line) + "\n" for line in lines))
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    writer = FeedbackWriter(FeedbackStore(url), tmp_path / "spool.jsonl", retry_seconds=0.1, legacy=legacy)
    writer.submit(_record("new after the import", 9))
    assert writer.flush(10), writer.last_error
    stored = [r["question"] for r in FeedbackStore(url).records()]
    assert stored == ["good old one", "another good one", "new after the import"]
    rejected = [json.loads(line) for line in (tmp_path / "feedback.jsonl.rejected").read_text().splitlines()]
    assert [r["record"]["question"] for r in rejected] == [line["question"] for line in lines[1:5]]
    assert "confidence" in rejected[0]["reason"] and "64" in rejected[2]["reason"]
    # Imported once: a second writer finds nothing new and sets nothing aside again.
    assert FeedbackStore(url).import_log(legacy) == 0
    assert len((tmp_path / "feedback.jsonl.rejected").read_text().splitlines()) == 4


def test_a_bad_record_in_the_spool_does_not_stop_the_others(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(_record("fine", 1))
    spool.append(_record("hand-edited", 2, confidence=[1]))
    spool.append(_record("also fine", 3))
    assert spool.drain(FeedbackStore(url)) == 2
    assert [r["question"] for r in FeedbackStore(url).records()] == ["fine", "also fine"]
    assert spool.pending() == [] and "hand-edited" in (tmp_path / "spool.jsonl.rejected").read_text()
