"""The app in a real browser: Debian's headless Chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "docs"
pytestmark = [pytest.mark.model, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(shipped_index, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed; `make test` installs it (apt-get install chromium chromium-driver)."
        )
    port = _free_port()
    env = {
        **os.environ,
        # Relative folders, run from the fixture's folder, so citations show `corpus/...` paths.
        "GUIDE_CORPUS_DIR": "corpus",
        "GUIDE_INDEX_DIR": "index",
        "GUIDE_FEEDBACK_FILE": str(tmp_path_factory.mktemp("feedback") / "feedback.jsonl"),
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    process = subprocess.Popen(
        command, cwd=shipped_index.index_dir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("streamlit exited: " + process.stdout.read().decode(errors="replace"))
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start within 90 s")
    yield url, env["GUIDE_FEEDBACK_FILE"]
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


def _ask(page, question: str, answers_before: int) -> None:
    """Type a question and wait until its answer is fully drawn (the feedback buttons come last)."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(answers_before + 1)
    answer.get_by_test_id("stFeedback").wait_for(timeout=90_000)
    page.wait_for_timeout(300)


def test_a_new_user_asks_opens_a_source_and_follows_up(server, browser):
    url, feedback_file = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)

    _ask(page, "How long is the tenure track for an assistant professor?", 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    assert "5-7 years" in answer.inner_text()
    assert "[1]" in answer.inner_text()
    source = answer.get_by_test_id("stExpander").first
    assert "Assistant Professor Jobs in Machine Learning" in source.inner_text()
    source.locator("summary").click()
    highlighted = source.locator("span", has_text="typically held for 5-7 years").first
    highlighted.wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "screenshot-answer.png"), full_page=True)

    source.get_by_role("button", name="Open in guide").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("typically held for 5-7 years").first.wait_for(timeout=20_000)
    assert "Definitions" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=10_000)

    _ask(page, "And for a lecturer?", 2)
    follow_up = page.get_by_test_id("stChatMessage").nth(3)
    assert "Interpreted as:" in follow_up.inner_text() and "lecturer" in follow_up.inner_text().lower()

    follow_up.get_by_role("radio", name="Thumbs up").click()
    log = Path(feedback_file)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (log.exists() and "thumbs-up" in log.read_text()):
        page.wait_for_timeout(250)
    assert log.exists() and "thumbs-up" in log.read_text()
    page.close()


def test_broad_questions_get_a_lead_and_cited_points_and_trends_are_grouped_by_guide(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)

    _ask(page, "How do I become a machine learning lecturer?", 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    text = answer.inner_text()
    assert "What it takes, from the lecturer guide:" in text
    points = answer.locator("li")
    assert points.count() >= 4
    items = [points.nth(i).inner_text() for i in range(points.count())]
    assert items[0].startswith("Qualifications:") and "PhD" in items[0] and items[0].rstrip().endswith("]")
    assert any("1-3 years" in item for item in items) and any("5+ peer-reviewed" in item for item in items)
    # Facet labels are bold, point text is plain text (escaped), and no boilerplate is quoted.
    assert answer.locator("li strong").first.inner_text() == "Qualifications:"
    assert "Discover the role" not in text and "post a job" not in text
    assert "High confidence" in text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "screenshot-structured.png"), full_page=True)

    _ask(page, "What are the trends in machine learning academic jobs?", 2)
    trends = page.get_by_test_id("stChatMessage").nth(3)
    groups = [trends.locator("p strong").nth(i).inner_text() for i in range(trends.locator("p strong").count())]
    assert len(groups) >= 3 and "Lecturer" in groups and "Clinical professor" in groups
    assert "Interpreted as" not in trends.inner_text()
    trends.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "screenshot-trends.png"), full_page=True)
    page.close()


def test_script_in_a_question_shows_as_text_and_a_comparison_renders_a_table(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1700})
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    _ask(page, "<script>alert('x')</script><b>bold</b>", 0)
    question = page.get_by_test_id("stChatMessage").nth(0)
    assert "<script>alert('x')</script><b>bold</b>" in question.inner_text()
    assert question.locator("script").count() == 0 and question.locator("b").count() == 0
    assert alerts == []

    _ask(page, "Compare a lecturer and an assistant professor", 2)
    table = page.get_by_test_id("stChatMessage").nth(3).get_by_test_id("stTable")
    text = table.inner_text()
    assert "Qualifications" in text and "Lecturer" in text and "Assistant professor" in text and "[1]" in text
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "screenshot-comparison.png"), full_page=True)
    page.close()


def test_chromium_is_debians():
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()
