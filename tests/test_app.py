"""The Streamlit app, driven through streamlit.testing's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from guide.render import escape_markdown

APP = str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.model


@pytest.fixture
def app(shipped_index, monkeypatch, tmp_path):
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(shipped_index.corpus_dir))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(shipped_index.index_dir))
    monkeypatch.setenv("GUIDE_FEEDBACK_FILE", str(tmp_path / "feedback.jsonl"))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _assistant_texts(at: AppTest) -> list[str]:
    return [" ".join(m.value for m in message.markdown) for message in at.chat_message if message.name == "assistant"]


def test_asking_in_the_chat_shows_an_answer_with_a_source(app):
    app.chat_input[0].set_value("How long is the tenure track for an assistant professor?").run()
    assert not app.exception
    answer = _assistant_texts(app)[0]
    assert "5\\-7 years" in answer and "\\[1\\]" in answer
    labels = [expander.label for expander in app.expander]
    assert any(label.startswith("\\[1\\] Assistant Professor Jobs in Machine Learning") for label in labels)
    assert any("orange-background" in m.value for m in app.expander[0].markdown)


def test_sidebar_shows_index_status_and_starters(app):
    sidebar = " ".join(m.value for m in app.sidebar.markdown)
    assert "**Guides:** 5" in sidebar and "gt\\-all\\-minilm\\-l6\\-v2" in sidebar and "fresh" in sidebar
    starter = next(button for button in app.sidebar.button if "tenure track" in button.label)
    starter.click().run()
    assert "5\\-7 years" in _assistant_texts(app)[0]


def test_follow_up_shows_how_it_was_understood(app):
    app.chat_input[0].set_value("How much postdoc experience does an assistant professor need?").run()
    app.chat_input[0].set_value("And for a lecturer?").run()
    captions = [c.value for c in app.chat_message[3].caption]
    assert any(c.startswith("Interpreted as:") and "lecturer" in c for c in captions)


def test_script_tags_in_a_question_appear_as_text(app):
    app.chat_input[0].set_value("<script>alert('x')</script> What GPA do PhD admits have?").run()
    assert not app.exception
    user = [m.value for m in app.chat_message[0].markdown]
    assert user == [escape_markdown("<script>alert('x')</script> What GPA do PhD admits have?")]
    assert all("<script>" not in m.value for m in app.markdown)


def test_off_topic_question_is_refused(app):
    app.chat_input[0].set_value("What is the capital of Mongolia?").run()
    assert "could not find an answer" in _assistant_texts(app)[0]
