"""The app with the writer set through the environment, in Chromium: the checked written answer, then its sources.

The model is the scripted OpenAI-compatible server of `tests/llm_server.py`, on loopback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, ask_in_page
from tests.llm_server import ScriptedServer, sentence_with

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.model, pytest.mark.browser]
PREFER = "Many positions prefer postdoctoral experience lasting 1-3 years"


def script(passages: dict[int, str]) -> str:
    """A right sentence, then one with an invented number (which must be replaced)."""
    n, sentence = sentence_with(passages, "1-3 years")
    m, other = sentence_with(passages, "PhD in computer science")
    return f"{other} [{m}] Lecturer posts ask for 9-11 years of postdoc [{n}]. {sentence} [{n}]"


@pytest.fixture(scope="module")
def app(shipped_index, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install chromium).")
    model = ScriptedServer(script=script).start()
    from tests.helpers import free_port as _free_port

    port = _free_port()
    feedback = tmp_path_factory.mktemp("writer-feedback") / "feedback.db"
    config = feedback.with_name("guide.yaml")
    config.write_text("writer:\n  min_coverage: 0.0\n")
    env = {
        **os.environ,
        "GUIDE_CORPUS_DIR": "corpus",
        "GUIDE_INDEX_DIR": "index",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{feedback}",
        "GUIDE_FEEDBACK_SPOOL": str(feedback.with_name("spool.jsonl")),
        # The written answer is shown even when it covers less than the extractive one.
        "GUIDE_CONFIG": str(config),
        "GUIDE_ANSWER_BACKEND": "writer",
        "GUIDE_WRITER_URL": model.url,
    }
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=shipped_index.index_dir.parent, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("streamlit did not start: " + (process.stdout.read().decode(errors="replace")
                                                               if process.poll() is not None else "90 s passed"))
                time.sleep(0.5)
        yield url, model
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        model.stop()


def test_the_app_shows_the_checked_written_answer_then_its_sources(app, browser):
    url, model = app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    ask_in_page(page, "How many years of postdoc do machine learning lecturer posts prefer?", 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    shown = answer.inner_text()
    assert len(model.requests) == 1
    assert PREFER in shown and "9-11" not in shown
    assert "not supported by the passages" in shown
    # The checked sentences were shown as they came, in the status above the answer.
    status = answer.get_by_test_id("stExpander").first
    status.locator("summary").click()
    assert PREFER in status.inner_text()
    # Then its sources: the first opens its passage.
    answer.get_by_role("button", name=re.compile(r"^\[1\] ")).click()
    page.get_by_role("dialog").wait_for(timeout=15_000)
    page.get_by_role("dialog").locator("span", has_text="PhD in computer science").first.wait_for(timeout=10_000)
    page.close()
