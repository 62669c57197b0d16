"""The chat as a visitor sees it in Chromium at 1280x900 and 390x844, served by `guide chat`:
the status at once, the first visitor as fast as the tenth, conversations kept through a reload
and a second tab, deleted from the database, shared read-only, every [n] opening its passage in
view, nothing clipped on a phone, captions readable, answers announced.

Each timing is printed; the targets fail the test: first status <= 0.5 s after Enter (median
over the questions, none over 1.5 s), the first visitor's first answer within 1.5x the later
visitors' (the median of the second to the tenth).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from guide.serve.conversations import ConversationStore
from tests.helpers import CHROMIUM, SHIPPED_FACTS
from tests.helpers import free_port as _free_port

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs"
pytestmark = [pytest.mark.model, pytest.mark.browser]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
STATUS_TARGET = 0.5
FIRST_VISITOR_FACTOR = 1.5


@pytest.fixture(scope="module")
def chat_server(shipped_index, tmp_path_factory):
    """`guide chat` over the shipped guides (model and index loaded before its port opens)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install chromium).")
    folder = tmp_path_factory.mktemp("chat")
    database = folder / "guide.db"
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GUIDE_CORPUS_DIR": "corpus",
        "GUIDE_INDEX_DIR": "index",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{database}",
        "GUIDE_FEEDBACK_SPOOL": str(folder / "spool.jsonl"),
    }
    log = (folder / "server.log").open("w")
    command = [sys.executable, "-m", "guide.cli", "chat", "--port", str(port)]
    process = subprocess.Popen(command, cwd=shipped_index.index_dir.parent, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("guide chat exited: " + (folder / "server.log").read_text())
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("guide chat did not open its port within 180 s")
    yield url, database, time.monotonic()
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


# Marks, in the page, the moment Enter is pressed, the moment the new answer's status shows and
# the moment the whole answer is drawn (its feedback buttons come last).
WATCH = """(before) => {
    const t = window.__timing = {};
    document.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !t.enter) t.enter = performance.now(); },
                              {capture: true});
    const check = () => {
        const message = document.querySelectorAll('[data-testid=stChatMessage]')[before + 1];
        if (!message) return;
        const status = message.querySelector('[data-testid=stExpander] summary');
        if (!t.status && status && status.getBoundingClientRect().height > 0) t.status = performance.now();
        if (!t.answer && message.querySelector('[data-testid=stFeedback], [class*=st-key-answer-][class*=-try-]'))
            t.answer = performance.now();
    };
    new MutationObserver(check).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""


def timed_ask(page, question: str, before: int) -> tuple[float, float]:
    """Ask in the page; seconds from Enter to the first visible status, and to the whole answer."""
    page.evaluate(WATCH, before)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("() => window.__timing.answer", timeout=90_000)
    timing = page.evaluate("() => window.__timing")
    page.wait_for_timeout(300)
    return (timing["status"] - timing["enter"]) / 1000, (timing["answer"] - timing["enter"]) / 1000


def open_page(browser, url: str, size: str, context=None):
    context = context or browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)
    return page


def test_the_first_visitor_after_ready_waits_no_longer_than_the_tenth(chat_server, browser):
    url, _, ready = chat_server
    question = SHIPPED_FACTS[0][0]
    waits = []
    since_ready = time.monotonic() - ready
    for _ in range(10):
        started = time.monotonic()
        page = open_page(browser, url, "desktop")
        timed_ask(page, question, 0)
        waits.append(time.monotonic() - started)
        page.context.close()
    print(f"\nvisitor 1 arrived {since_ready:.1f} s after ready; page open -> first answer: visitor 1 {waits[0]:.2f} s, "
          f"visitor 10 {waits[-1]:.2f} s; all {[round(w, 2) for w in waits]}")
    # The tenth visitor's wait, as the median of the second to the tenth (one page load on a
    # shared machine varies by a second or more).
    later = statistics.median(waits[1:])
    print(f"visitor 1 {waits[0]:.2f} s against {later:.2f} s for visitors 2-10 ({waits[0] / later:.2f}x)")
    assert waits[0] <= FIRST_VISITOR_FACTOR * later, waits


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_status_shows_at_once_and_the_answer_follows(chat_server, browser, size):
    url, _, _ = chat_server
    page = open_page(browser, url, size)
    questions = [question for question, _ in SHIPPED_FACTS] + [
        "How do I become a machine learning lecturer?",
        "Compare a lecturer and an assistant professor",
        "What are the trends in machine learning academic jobs?",
    ]
    statuses, answers = [], []
    for number, question in enumerate(questions):
        status, answer = timed_ask(page, question, 2 * number)
        statuses.append(status)
        answers.append(answer)
    print(f"\n{size}: Enter -> status median {statistics.median(statuses):.2f} s (max {max(statuses):.2f}); "
          f"-> whole answer median {statistics.median(answers):.2f} s (max {max(answers):.2f})")
    assert statistics.median(statuses) <= STATUS_TARGET and max(statuses) <= 3 * STATUS_TARGET, statuses
    # The status is an element of its own, before the answer: it shows no later than the answer.
    assert all(status <= answer for status, answer in zip(statuses, answers, strict=True))
    page.context.close()


def _questions(page) -> list[str]:
    messages = page.get_by_test_id("stChatMessage")
    return [messages.nth(i).get_by_test_id("stMarkdownContainer").first.inner_text().strip()
            for i in range(0, messages.count(), 2)]


def test_a_conversation_survives_a_reload_and_a_second_tab_and_is_deleted_from_the_database(chat_server, browser):
    url, database, _ = chat_server
    page = open_page(browser, url, "desktop")
    timed_ask(page, "How long is the tenure track for an assistant professor?", 0)
    timed_ask(page, "And for a lecturer?", 2)
    address = page.url
    assert "?c=" in address
    page.reload()
    page.get_by_test_id("stChatMessage").nth(3).get_by_test_id("stFeedback").wait_for(timeout=30_000)
    assert _questions(page) == ["How long is the tenure track for an assistant professor?", "And for a lecturer?"]
    assert "5-7 years" in page.get_by_test_id("stChatMessage").nth(1).inner_text()
    second = page.context.new_page()  # a second tab of the same browser
    second.goto(address)
    second.get_by_test_id("stChatMessage").nth(3).get_by_test_id("stFeedback").wait_for(timeout=30_000)
    timed_ask(second, "What GPA do PhD admits have?", 4)
    page.reload()
    page.get_by_test_id("stChatMessage").nth(5).get_by_test_id("stFeedback").wait_for(timeout=30_000)
    assert len(_questions(page)) == 3
    # Listed in the sidebar of this browser; deleted there, gone from the database.
    store = ConversationStore(f"sqlite:///{database}")
    conversation = address.split("?c=")[1]
    assert conversation in {summary.id for summary in store.list(store.owner(conversation))}
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Delete").first.click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and store.turns(conversation):
        page.wait_for_timeout(200)
    assert store.turns(conversation) == [] and store.share_token(conversation) is None
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=10_000)
    assert page.get_by_test_id("stChatMessage").count() == 0 and "?c=" not in page.url
    page.context.close()


def test_a_share_link_opens_the_conversation_read_only(chat_server, browser):
    url, _, _ = chat_server
    page = open_page(browser, url, "desktop")
    timed_ask(page, "What GPA do PhD admits have?", 0)
    link = page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()
    assert "?share=" in link
    reader = browser.new_context(viewport=SIZES["phone"]).new_page()  # another browser, on a phone
    reader.goto(link)
    reader.get_by_text("A shared conversation, read-only.").wait_for(timeout=60_000)
    assert "3.5/4.0" in reader.get_by_test_id("stChatMessage").nth(1).inner_text()
    assert reader.get_by_test_id("stChatInput").count() == 0 and reader.get_by_test_id("stFeedback").count() == 0
    reader.context.close()
    page.context.close()


def _cited_sentences(engine, question: str) -> dict[int, str]:
    answer = engine.ask(question)
    sentences = {}
    for citation in answer.citations:
        text = engine.index.documents[citation.doc_id].text
        start, end = (citation.highlights or ((citation.start, citation.end),))[0]
        sentences[citation.n] = " ".join(text[start:end].split())
    return sentences


IN_VIEW = """() => {
    const dialog = document.querySelector('[role=dialog]');
    const marks = [...dialog.querySelectorAll('.st-key-cited-guide span[style*=background]')];
    return marks.map((mark) => {
        const r = mark.getBoundingClientRect();
        return {text: mark.textContent.replace(/\\s+/g, ' ').trim(), top: r.top, bottom: r.bottom, height: innerHeight};
    });
}"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_citation_opens_its_own_passage_highlighted_and_in_view(chat_server, browser, engine, size):
    url, _, _ = chat_server
    page = open_page(browser, url, size)
    question = "Compare a lecturer and an assistant professor"
    timed_ask(page, question, 0)
    expected = _cited_sentences(engine, question)
    assert len(expected) >= 5
    answer = page.get_by_test_id("stChatMessage").nth(1)
    for n, sentence in expected.items():
        answer.get_by_role("button", name=re.compile(rf"^\[{n}\] ")).click()
        page.get_by_role("dialog").wait_for(timeout=15_000)
        page.wait_for_function("() => document.querySelector('[role=dialog] .st-key-cited-guide span[style*=background]')")
        page.wait_for_timeout(400)
        marks = page.evaluate(IN_VIEW)
        first = marks[0]
        assert sentence.startswith(first["text"][:40]) or first["text"].startswith(sentence[:40]), (n, first, sentence)
        assert 0 <= first["top"] and first["bottom"] <= first["height"], (n, first)
        if n == 1:
            page.screenshot(path=str(SCREENSHOTS / f"screenshot-source-{size}.png"))
        page.keyboard.press("Escape")
        page.get_by_role("dialog").wait_for(state="detached", timeout=10_000)
    page.context.close()


CLIPPED = """() => {
    const width = document.documentElement.clientWidth;
    const clipped = [];
    const scrolls = (el) => { for (let e = el.parentElement; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && e.getBoundingClientRect().right <= width + 1) return true;
    } return false; };
    const main = document.querySelector('[data-testid=stMainBlockContainer]');
    for (const el of main.querySelectorAll('p, li, td, th, h1, h2, h3, button, [data-testid=stChatInput], [data-testid=stCaptionContainer]')) {
        const r = el.getBoundingClientRect();
        if (r.width && (r.right > width + 1 || r.left < -1) && !scrolls(el)) clipped.push(el.tagName + ' ' + el.textContent.slice(0, 40));
    }
    return {clipped, page: document.documentElement.scrollWidth, width};
}"""


def test_nothing_is_clipped_or_covered_on_a_phone(chat_server, browser):
    url, _, _ = chat_server
    page = open_page(browser, url, "phone")
    sidebar = page.get_by_test_id("stSidebar")
    # The starters are in the main column; a tap asks, and nothing covers the answer.
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Compare a lecturer and an assistant professor").click()
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.get_by_test_id("stFeedback").wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    assert sidebar.get_attribute("aria-expanded") == "false" or sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 1
    found = page.evaluate(CLIPPED)
    assert found["clipped"] == [] and found["page"] <= found["width"], found
    table = answer.get_by_test_id("stTable")
    # The table keeps readable columns and scrolls sideways inside its own box.
    boxes = table.evaluate("""(t) => { const out = [];
        for (let e = t.querySelector('table').parentElement; e && e !== t.parentElement; e = e.parentElement)
            out.push([e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX]); return out; }""")
    assert any(kind == "auto" and wide > shown for wide, shown, kind in boxes), boxes
    title = page.locator("h1").bounding_box()
    assert title["height"] <= 0.15 * SIZES["phone"]["height"], title
    page.screenshot(path=str(SCREENSHOTS / "screenshot-phone.png"))
    page.context.close()


CONTRAST = """() => {
    const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
        const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
    const background = (el) => { for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0.5) return c; } return [255, 255, 255, 1]; };
    const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
    const lum = (c) => { const ch = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]; };
    return [...document.querySelectorAll('[data-testid=stCaptionContainer]')].filter((el) => el.getBoundingClientRect().height > 0).map((el) => {
        const text = el.querySelector('p') || el;
        const fg = parse(getComputedStyle(text).color), bg = background(el), a = fg[3] * opacity(text);
        const seen = fg.slice(0, 3).map((v, i) => a * v + (1 - a) * bg[i]);
        const [hi, lo] = [lum(seen), lum(bg)].sort((x, y) => y - x);
        return {text: el.textContent.slice(0, 50), ratio: (hi + 0.05) / (lo + 0.05)};
    });
}"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_captions_are_readable_and_answers_are_announced(chat_server, browser, size):
    url, _, _ = chat_server
    page = open_page(browser, url, size)
    timed_ask(page, "How much postdoc experience does an assistant professor need?", 0)
    timed_ask(page, "And for a lecturer?", 2)
    captions = page.evaluate(CONTRAST)
    assert any(c["text"].startswith("Interpreted as") for c in captions) and len(captions) >= 3
    low = [c for c in captions if c["ratio"] < 4.5]
    print(f"\n{size}: lowest caption contrast {min(c['ratio'] for c in captions):.2f}:1 over {len(captions)} captions")
    assert low == [], low
    # The conversation is a live region; the new answer is inside it, labelled as an answer.
    live = page.evaluate("""() => { const m = [...document.querySelectorAll('[data-testid=stChatMessage]')].pop();
        const log = m.closest('[aria-live]'); return [log && log.getAttribute('aria-live'), log && log.getAttribute('role'),
        m.getAttribute('aria-label')]; }""")
    assert live == ["polite", "log", "Answer"], live
    if size == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "screenshot-desktop.png"), full_page=True)
    page.context.close()
