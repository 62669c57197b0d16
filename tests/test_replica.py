"""One replica (`python -m guide.serve.replica`) as a load balancer sees it: ready only when it can
answer, and on SIGTERM not ready at once but finishing the answer in progress before it stops.

The replicas here use the `fake` model, so they start in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from guide.cli import main
from guide.serve.cluster import free_port, wait_for
from tests.helpers import ROOT, write_small_corpus


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _start(folder: Path, module: str = "guide.serve.replica", **env: str) -> tuple[subprocess.Popen, int, int]:
    port, health = free_port(), free_port()
    environment = {
        **os.environ,
        "GUIDE_CORPUS_DIR": str(folder / "corpus"),
        "GUIDE_INDEX_DIR": str(folder / "index"),
        "GUIDE_MODEL": "fake",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{folder / 'feedback.db'}",
        "GUIDE_FEEDBACK_SPOOL": str(folder / "spool.jsonl"),
        "GUIDE_ALLOW_REBUILD": "false",
        **env,
    }
    command = [sys.executable, "-m", module, "--port", str(port), "--health-port", str(health)]
    with (folder / "replica.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    return process, port, health


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_replica_without_an_index_stays_not_ready_with_its_port_closed_until_one_is_published(tmp_path):
    write_small_corpus(tmp_path / "corpus")
    process, port, health = _start(tmp_path)
    try:
        assert wait_for(f"http://127.0.0.1:{health}/live", 60, process)
        assert _until(lambda: "guide build" in _health(health)[1].get("reason", ""), 60)
        status, body = _health(health)
        assert status == 503 and body["ready"] is False
        assert not _open(port)  # a load balancer cannot send anybody there
        time.sleep(1)
        assert _health(health)[0] == 503 and not _open(port)

        built = CliRunner().invoke(
            main, ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"), "build"],
            env={"GUIDE_MODEL": "fake"},
        )
        assert built.exit_code == 0, built.output
        assert _until(lambda: _health(health)[0] == 200, 30), (tmp_path / "replica.log").read_text()
        status, body = _health(health)
        assert body["ready"] is True and body["index"].startswith("gen-")
        assert wait_for(f"http://127.0.0.1:{port}/_stcore/health", 10)
    finally:
        _stop(process)


@pytest.mark.browser
def test_sigterm_makes_a_replica_not_ready_and_lets_the_answer_in_progress_finish(tmp_path, browser):
    corpus = write_small_corpus(tmp_path / "corpus")
    built = CliRunner().invoke(
        main, ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "build"], env={"GUIDE_MODEL": "fake"}
    )
    assert built.exit_code == 0, built.output
    (tmp_path / "guide.yaml").write_text("answer:\n  backend: slow\n", encoding="utf-8")
    process, port, health = _start(
        tmp_path, "tests.slow_replica", GUIDE_CONFIG=str(tmp_path / "guide.yaml"), GUIDE_TEST_ANSWER_SECONDS="4"
    )
    try:
        assert wait_for(f"http://127.0.0.1:{health}/ready", 60, process), (tmp_path / "replica.log").read_text()
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("What GPA do PhD admits usually have?")
        box.press("Enter")
        assert _until(lambda: _health(health)[1].get("answering") == 1, 20)
        process.send_signal(signal.SIGTERM)
        assert _until(lambda: _health(health) == (503, {"ready": False, "reason": "stopping"}), 5)
        assert process.poll() is None  # still finishing the answer
        answer = page.get_by_test_id("stChatMessage").nth(1)
        answer.get_by_test_id("stFeedback").wait_for(timeout=20_000)
        assert "GPA above 3.5" in answer.inner_text() and "[1]" in answer.inner_text()
        assert process.wait(timeout=30) == 0
        page.close()
    finally:
        _stop(process)


def test_a_message_too_large_for_any_question_closes_that_visitors_connection_only(tmp_path):
    corpus = write_small_corpus(tmp_path / "corpus")
    built = CliRunner().invoke(
        main, ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "build"], env={"GUIDE_MODEL": "fake"}
    )
    assert built.exit_code == 0, built.output
    process, port, health = _start(tmp_path)
    try:
        assert wait_for(f"http://127.0.0.1:{health}/ready", 60, process), (tmp_path / "replica.log").read_text()
        stream = f"ws://127.0.0.1:{port}/_stcore/stream"
        origin = f"http://127.0.0.1:{port}"
        with connect(stream, origin=origin, max_size=None) as visitor, connect(stream, origin=origin) as other:
            # 3 MB in one message: Streamlit's own limit (25 MB) would read and parse it.
            visitor.send(b"\x00" * 3_000_000)
            with pytest.raises(ConnectionClosed) as closed:
                visitor.recv(timeout=20)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
            # Another visitor's connection and the replica itself are unaffected.
            other.ping().wait(timeout=5)
            assert _health(health)[0] == 200
    finally:
        _stop(process)
