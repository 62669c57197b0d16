"""Conversations in the app (AppTest, model `fake`): kept under the address's id, listed per
browser, deleted, shared read-only; refusals offer questions; the export reads cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from guide.render import escape_markdown
from guide.serve.conversations import ConversationStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def start(fake_shipped_index, monkeypatch, tmp_path):
    """Start the app as a visitor would, with query parameters and a browser cookie of their own."""
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(fake_shipped_index.corpus_dir))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(fake_shipped_index.index_dir))
    monkeypatch.setenv("GUIDE_MODEL", "fake")
    monkeypatch.setenv("GUIDE_FEEDBACK_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    monkeypatch.setenv("GUIDE_FEEDBACK_SPOOL", str(tmp_path / "feedback-spool.jsonl"))
    monkeypatch.chdir(tmp_path)

    def run(browser: str | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        if browser is not None:
            at.session_state["browser"] = browser
        at.run()
        assert not at.exception
        return at

    return run


def _questions(at: AppTest) -> list[str]:
    return [m.markdown[0].value for m in at.chat_message if m.name == "user"]


def _store(tmp_path) -> ConversationStore:
    return ConversationStore(f"sqlite:///{tmp_path / 'feedback.db'}")


def test_a_conversation_is_kept_under_the_address_and_continued_elsewhere(start, tmp_path):
    first = start()
    first.chat_input[0].set_value("What GPA do PhD admits have?").run()
    first.chat_input[0].set_value("How long is the tenure track for an assistant professor?").run()
    conversation = first.query_params["c"][0] if isinstance(first.query_params["c"], list) else first.query_params["c"]
    browser = first.session_state["browser"]
    assert _store(tmp_path).count() == (1, 2)
    # A reload, or a second tab of the same browser: the same page, and it goes on from there.
    again = start(browser=browser, c=conversation)
    assert _questions(again) == [escape_markdown("What GPA do PhD admits have?"),
                                 escape_markdown("How long is the tenure track for an assistant professor?")]
    assert "3\\.5/4\\.0" in " ".join(m.value for m in again.chat_message[1].markdown)
    again.chat_input[0].set_value("And for a lecturer?").run()
    assert _store(tmp_path).count() == (1, 3) and len(_questions(again)) == 3
    # The first tab's next question sees the turn the second tab added.
    first.chat_input[0].set_value("What do lecturers teach?").run()
    assert len(_questions(first)) == 4 and _store(tmp_path).count() == (1, 4)
    listed = [button.label for button in again.sidebar.button if button.key and button.key.startswith("open-")]
    assert listed == [escape_markdown("What GPA do PhD admits have?") + " (open)"]


def test_what_is_kept_and_for_how_long_is_said(start, monkeypatch):
    at = start()
    assert any("Kept on this server for 30 days" in caption.value for caption in at.sidebar.caption)
    monkeypatch.setenv("GUIDE_CONVERSATION_DAYS", "0")
    off = start()
    off.chat_input[0].set_value("What GPA do PhD admits have?").run()
    assert "c" not in off.query_params
    assert any("Conversations are not kept" in caption.value for caption in off.sidebar.caption)


def test_deleting_removes_a_conversation_from_the_database_and_delete_all_removes_the_rest(start, tmp_path):
    at = start()
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    next(b for b in at.sidebar.button if b.key == "new-conversation").click().run()
    assert _questions(at) == [] and "c" not in at.query_params
    at.chat_input[0].set_value("What do lecturers teach?").run()
    at.chat_input[0].set_value("And assistant professors?").run()
    assert _store(tmp_path).count() == (2, 3)
    deletes = [b for b in at.sidebar.button if b.key and b.key.startswith("delete-") and b.key != "delete-all"]
    assert len(deletes) == 2
    deletes[0].click().run()  # the most recent: the one open
    assert _store(tmp_path).count() == (1, 1) and _questions(at) == []
    at.sidebar.checkbox[0].check().run()
    next(b for b in at.sidebar.button if b.key == "delete-all").click().run()
    assert _store(tmp_path).count() == (0, 0)
    assert not [b for b in at.sidebar.button if b.key and b.key.startswith("open-")]


def test_a_share_link_opens_the_conversation_read_only(start, tmp_path):
    at = start()
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    at.chat_input[0].set_value("What about lecturers?").run()
    link = next(code.value for code in at.sidebar.code if "?share=" in code.value)
    token = link.split("?share=")[1]
    shared = start(browser=None, share=token)
    assert len(_questions(shared)) == 2 and any("read-only" in info.value for info in shared.info)
    assert not shared.chat_input and not shared.get("feedback")
    assert not any(b.label == "Ask it on its own instead" for b in shared.button)
    assert _store(tmp_path).count() == (1, 2)
    missing = start(share="0" * 32)
    assert any("not here" in warning.value for warning in missing.warning) and not missing.chat_message


def test_an_address_that_names_no_conversation_is_a_new_one(start):
    for value in ("../../etc/passwd", "0" * 32):
        at = start(c=value)
        assert _questions(at) == [] and not at.exception


def test_a_refusal_offers_its_closest_sections_as_questions(start):
    at = start()
    at.chat_input[0].set_value("How do I get a student visa?").run()
    tries = [b for b in at.main.button if b.key and "-try-" in b.key]
    assert tries and "do not cover" in " ".join(m.value for m in at.chat_message[1].markdown)
    label = tries[0].label
    tries[0].click().run()
    assert not at.exception and _questions(at)[-1] == label and len(_questions(at)) == 2


def test_a_question_asked_while_reading_a_guide_is_answered_in_view(start):
    at = start()
    at.radio[0].set_value("Guides").run()
    assert not at.chat_message
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    assert at.radio[0].value == "Chat" and len(_questions(at)) == 1


def test_the_export_reads_as_text_without_escapes(start):
    at = start()
    at.chat_input[0].set_value("What's the PhD GPA [x](http://127.0.0.1/) **bold**?").run()
    assert at.sidebar.get("download_button")
    from guide.render import conversation_markdown

    text = conversation_markdown(at.session_state["messages"])
    # Links and emphasis stay text (a word joiner keeps "://" from autolinking); the rest reads as typed.
    assert "## What's the PhD GPA \\[x\\](http:\u2060//127.0.0.1/) \\*\\*bold\\*\\*?" in text
    assert "[1]" in text and "\\[1\\]" not in text and "\\'" not in text


def test_turns_the_database_could_not_take_are_kept_and_stored_later_in_order(start, tmp_path, monkeypatch):
    from guide.serve.conversations import ConversationsUnavailable

    at = start()
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    add_turn = ConversationStore.add_turn

    def unavailable(*args, **kwargs):
        raise ConversationsUnavailable("The conversation database cannot be used: connection refused")

    monkeypatch.setattr(ConversationStore, "add_turn", unavailable)
    at.chat_input[0].set_value("How long is the tenure track for an assistant professor?").run()
    assert any("Not saved yet" in warning.value for warning in at.warning)
    monkeypatch.setattr(ConversationStore, "add_turn", add_turn)
    at.chat_input[0].set_value("And for a lecturer?").run()
    assert len(_questions(at)) == 3  # the page never lost the unsaved turn
    conversation = at.query_params["c"]
    conversation = conversation[0] if isinstance(conversation, list) else conversation
    stored = [question for question, _ in _store(tmp_path).turns(conversation)]
    assert stored == ["What GPA do PhD admits have?", "How long is the tenure track for an assistant professor?",
                      "And for a lecturer?"]


def test_thumbs_sent_again_by_a_page_that_moved_to_another_session_are_stored_once(start, tmp_path):
    import time

    from guide.serve.feedback_store import FeedbackStore

    at = start()
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    at.get("feedback")[0].set_value(0).run()
    conversation = at.query_params["c"]
    conversation = conversation[0] if isinstance(conversation, list) else conversation
    # The same page on another replica: a new session, the conversation from the database, and
    # the thumbs the page still holds sent again.
    moved = start(browser=at.session_state["browser"], c=conversation)
    moved.get("feedback")[0].set_value(0).run()
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not store.records():
        time.sleep(0.1)
    time.sleep(1.0)  # both records had their time to arrive
    assert [record["kind"] for record in store.records()] == ["thumbs-down"]
