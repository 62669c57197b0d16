"""The feedback store on both databases: the embedded SQLite file and a real PostgreSQL server.

The PostgreSQL tests start a private cluster of Debian's `postgresql` on a loopback port
(`guide.cluster.PostgresServer`, the one `guide serve` runs) and stop it by PID at the end.
"""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from guide.cli import main
from guide.serve.cluster import PostgresServer
from guide.serve.feedback_store import FeedbackStore, FeedbackUnavailable, FeedbackWriter, Spool, safe_url

pytestmark = pytest.mark.postgres


def _record(question: str, kind: str = "refused", number: int = 0) -> dict:
    return {
        "id": f"{kind}-{number}-{abs(hash(question)) % 10**8}",
        "time": "2026-11-24T10:00:00+00:00",
        "kind": kind,
        "question": question,
        "interpreted_as": question,
        "answer": "",
        "refused": kind == "refused",
        "confidence": 0.1,
        "citations": [{"n": 1, "doc_id": "phd", "title": "PhD", "section": "S", "path": "phd.md", "snippet": "x"}],
    }


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path, postgres):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.db'}"
    # A fresh schema per test: drop what an earlier test created.
    store = FeedbackStore(postgres.url)
    with store._connection() as connection:
        store._metadata.drop_all(connection)
    store.close()
    return postgres.url


def test_records_are_stored_once_with_every_field(url):
    store = FeedbackStore(url, origin="replica-a")
    first = _record("How do I become a pilot?")
    store.add([first, _record("Visa rules?", "thumbs-down", 1)])
    store.add([first])  # a retry of a stored record changes nothing
    records = FeedbackStore(url).records()
    assert [r["question"] for r in records] == ["How do I become a pilot?", "Visa rules?"]
    assert records[0]["citations"] == first["citations"] and records[0]["refused"] is True
    assert records[0]["origin"] == "replica-a" and records[0]["id"] == first["id"]
    store.close()


def test_an_older_log_is_imported_once_and_its_new_lines_later(url, tmp_path):
    log = tmp_path / "feedback.jsonl"
    log.write_text(
        "\n".join(json.dumps({k: v for k, v in _record(f"old {n}", number=n).items() if k != "id"}) for n in range(3))
        + "\nnot json\n"
    )
    store = FeedbackStore(url)
    assert store.import_log(log) == 3
    assert store.import_log(log) == 0
    with log.open("a") as handle:
        handle.write(json.dumps(_record("newer", number=9)) + "\n")
    assert store.import_log(log) == 1
    assert [r["question"] for r in store.records()] == ["old 0", "old 1", "old 2", "newer"]
    store.close()


def test_gaps_read_the_database_named_by_the_environment(url, tmp_path):
    store = FeedbackStore(url)
    store.add([_record("How do I become a pilot?", number=1), _record("pilot training cost", "thumbs-down", 2)])
    store.close()
    env = {"GUIDE_FEEDBACK_URL": url, "GUIDE_FEEDBACK_FILE": str(tmp_path / "none.jsonl")}
    result = CliRunner().invoke(main, ["gaps", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["records"] == 2 and data["groups"][0]["count"] == 2 and "pilot" in data["groups"][0]["words"]
    assert data["source"] == safe_url(url)


def test_a_database_that_cannot_be_reached_is_a_clear_error(tmp_path):
    dead = "postgresql://guide:secret@127.0.0.1:1/guide"
    result = CliRunner().invoke(main, ["gaps"], env={"GUIDE_FEEDBACK_URL": dead})
    assert result.exit_code == 2 and "The feedback database" in result.stderr and "Traceback" not in result.output
    assert "secret" not in result.stderr and "***" in safe_url(dead)
    bad = CliRunner().invoke(main, ["gaps"], env={"GUIDE_FEEDBACK_URL": "nosuch://x"})
    assert bad.exit_code == 2 and "not a database URL" in bad.stderr


def test_while_the_database_is_down_records_wait_and_none_is_lost(postgres, tmp_path):
    store = FeedbackStore(postgres.url)
    with store._connection() as connection:
        store._metadata.drop_all(connection)
    writer = FeedbackWriter(FeedbackStore(postgres.url, origin="r1"), tmp_path / "spool.jsonl", retry_seconds=0.2)
    writer.submit(_record("before the outage", number=0))
    assert writer.flush(10)
    postgres.stop()
    try:
        for number in range(1, 6):
            writer.submit(_record(f"during the outage {number}", number=number))
        time.sleep(1.0)
        assert len(Spool(tmp_path / "spool.jsonl").pending()) == 5
        assert writer.last_error and "cannot be used" in writer.last_error
        with pytest.raises(FeedbackUnavailable):
            store.records()
    finally:
        postgres.start()
    assert writer.flush(20), writer.last_error
    questions = [r["question"] for r in store.records()]
    assert questions == ["before the outage"] + [f"during the outage {n}" for n in range(1, 6)]
    store.close()


def test_a_spool_left_by_a_killed_app_is_stored_by_the_next_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(_record("left behind", number=1))
    with spool.path.open("a") as handle:
        handle.write('{"kind": "refused", "quest')  # a line cut short by the kill
    writer = FeedbackWriter(FeedbackStore(url), spool.path, retry_seconds=0.2)
    assert writer.flush(10)
    assert [r["question"] for r in FeedbackStore(url).records()] == ["left behind"]


def test_a_hung_database_times_out_and_an_odd_old_line_is_set_aside(postgres, tmp_path, monkeypatch):
    """PostgreSQL stopped by SIGSTOP: connecting gives up after the timeout, and answers never wait."""
    import os
    import signal
    import threading

    from guide.serve import feedback_store

    legacy = tmp_path / "feedback.jsonl"
    legacy.write_text(json.dumps({**_record("too long an id"), "id": "x" * 65}) + "\n" + json.dumps(_record("fine")) + "\n")
    store = FeedbackStore(postgres.url)
    with store._connection() as connection:
        store._metadata.drop_all(connection)
    store.close()
    store = FeedbackStore(postgres.url)
    assert store.import_log(legacy) == 1
    assert [r["question"] for r in store.records()] == ["fine"]
    assert "too long an id" in (tmp_path / "feedback.jsonl.rejected").read_text()
    store.close()

    monkeypatch.setattr(feedback_store, "CONNECT_SECONDS", 2)
    writer = FeedbackWriter(FeedbackStore(postgres.url), tmp_path / "spool.jsonl", retry_seconds=0.2)
    outcome: list[object] = []
    os.kill(postgres.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        for number in range(5):
            writer.submit(_record(f"while hung {number}", number=number))
        submitted = time.monotonic() - started

        def add() -> None:
            try:
                FeedbackStore(postgres.url).add([_record("direct")])
                outcome.append("stored")
            except FeedbackUnavailable as error:
                outcome.append(str(error))

        thread = threading.Thread(target=add, daemon=True)
        thread.start()
        thread.join(10)
    finally:
        os.kill(postgres.pid, signal.SIGCONT)
    assert submitted < 1.0
    assert outcome and "cannot be used" in str(outcome[0]), outcome
    assert writer.flush(30), writer.last_error
