"""The Streamlit app, driven through streamlit.testing's AppTest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from guide.render import escape_markdown

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _start(monkeypatch, tmp_path, settings) -> AppTest:
    """The app as a user starts it, folders and model chosen through the environment."""
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("GUIDE_MODEL", settings.embedding.model)
    monkeypatch.setenv("GUIDE_FEEDBACK_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    monkeypatch.setenv("GUIDE_FEEDBACK_SPOOL", str(tmp_path / "feedback-spool.jsonl"))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(shipped_index, monkeypatch, tmp_path):
    """The app over the shipped guides with the real model: for what answers say."""
    return _start(monkeypatch, tmp_path, shipped_index)


@pytest.fixture
def fake_app(fake_shipped_index, monkeypatch, tmp_path):
    """The app over the shipped guides with GUIDE_MODEL=fake: for how the app behaves."""
    return _start(monkeypatch, tmp_path, fake_shipped_index)


def _assistant_texts(at: AppTest) -> list[str]:
    return [" ".join(m.value for m in message.markdown) for message in at.chat_message if message.name == "assistant"]


@pytest.mark.model
def test_asking_in_the_chat_shows_an_answer_with_a_source(app):
    app.chat_input[0].set_value("How long is the tenure track for an assistant professor?").run()
    assert not app.exception
    answer = _assistant_texts(app)[0]
    assert "5\\-7 years" in answer and "\\[1\\]" in answer
    # The compact source list: "[1] Assistant professor · Definitions", the full names in its tooltip.
    source = next(button for button in app.button if button.label.startswith("\\[1\\] "))
    assert source.label.startswith("\\[1\\] Assistant professor · ")
    assert source.help.startswith("Assistant Professor Jobs in Machine Learning — ")


@pytest.mark.model
def test_sidebar_shows_index_status_and_the_main_column_starters(app):
    sidebar = " ".join(m.value for m in app.sidebar.markdown)
    assert "**Guides:** 5" in sidebar and "gt\\-all\\-minilm\\-l6\\-v2" in sidebar and "fresh" in sidebar
    starter = next(button for button in app.main.button if "tenure track" in button.label)
    starter.click().run()
    assert "5\\-7 years" in _assistant_texts(app)[0]


@pytest.mark.model
def test_follow_up_shows_how_it_was_understood(app):
    app.chat_input[0].set_value("How much postdoc experience does an assistant professor need?").run()
    app.chat_input[0].set_value("And for a lecturer?").run()
    captions = [c.value for c in app.chat_message[3].caption]
    assert any(c.startswith("Interpreted as:") and "lecturer" in c for c in captions)


def test_script_tags_in_a_question_appear_as_text(fake_app):
    fake_app.chat_input[0].set_value("<script>alert('x')</script> What GPA do PhD admits have?").run()
    assert not fake_app.exception
    user = [m.value for m in fake_app.chat_message[0].markdown]
    assert user == [escape_markdown("<script>alert('x')</script> What GPA do PhD admits have?")]
    assert all("<script>" not in m.value for m in fake_app.markdown)


@pytest.mark.model
def test_off_topic_question_is_refused(app):
    app.chat_input[0].set_value("What is the capital of Mongolia?").run()
    assert "could not find an answer" in _assistant_texts(app)[0]


def _copy(built, tmp_path):
    import shutil

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built.corpus_dir, corpus)
    shutil.copytree(built.index_dir, index)
    return corpus, index


def _run(monkeypatch, tmp_path, corpus, index, config: str = "") -> AppTest:
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(index))
    monkeypatch.setenv("GUIDE_MODEL", "fake")
    monkeypatch.setenv("GUIDE_FEEDBACK_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    monkeypatch.setenv("GUIDE_FEEDBACK_SPOOL", str(tmp_path / "feedback-spool.jsonl"))
    if config:
        (tmp_path / "guide.yaml").write_text(config)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def test_a_damaged_index_shows_the_error_and_a_rebuild_button_that_fixes_it(fake_shipped_index, monkeypatch, tmp_path):
    corpus, index = _copy(fake_shipped_index, tmp_path)
    generation = index / (index / "CURRENT").read_text().strip()
    (generation / "chunks.jsonl").write_text("truncated")
    at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: true\n")
    # Shown as text: the message is escaped Markdown.
    assert any("chunks\\.jsonl is damaged" in error.value for error in at.error)
    assert not at.chat_input or not any(m.name == "assistant" for m in at.chat_message)
    next(button for button in at.button if button.label == "Rebuild index").click().run()
    assert not at.exception and not at.error
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    assert "3\\.5/4\\.0" in _assistant_texts(at)[0]


def test_stale_index_shows_a_banner_and_rebuild_can_be_turned_off(fake_shipped_index, monkeypatch, tmp_path):
    corpus, index = _copy(fake_shipped_index, tmp_path)
    (corpus / "postdoc.md").write_text(
        "---\ntitle: Postdoc Guide\nrole: postdoc\n---\n\n# Postdoc\n\nPostdocs last two years.\n"
    )
    at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: false\n")
    assert any("guides changed since the index was built" in warning.value for warning in at.warning)
    assert not any(button.label == "Rebuild index" for button in at.button)
    assert any("Rebuilding is turned off" in caption.value for caption in at.caption)


def test_rebuild_is_off_by_default_when_the_app_may_listen_beyond_this_machine(fake_shipped_index, monkeypatch, tmp_path):
    # AppTest sets no server address, like `streamlit run` without --server.address: every interface.
    corpus, index = _copy(fake_shipped_index, tmp_path)
    at = _run(monkeypatch, tmp_path, corpus, index)
    assert not any(button.label == "Rebuild index" for button in at.button)
    assert any("Rebuilding is turned off" in caption.value for caption in at.caption)
    allowed = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: true\n")
    assert any(button.label == "Rebuild index" for button in allowed.button)


def test_guide_allow_rebuild_in_the_environment_overrides_the_settings_file(fake_shipped_index, monkeypatch, tmp_path):
    corpus, index = _copy(fake_shipped_index, tmp_path)
    monkeypatch.setenv("GUIDE_ALLOW_REBUILD", "false")
    at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: true\n")
    assert not any(button.label == "Rebuild index" for button in at.button)
    monkeypatch.setenv("GUIDE_ALLOW_REBUILD", "true")
    at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: false\n")
    assert any(button.label == "Rebuild index" for button in at.button)


@pytest.mark.model
def test_comparison_table_guide_browser_and_export(app):
    app.chat_input[0].set_value("Compare a lecturer and an assistant professor on qualifications").run()
    table = app.table[0].value
    assert list(table.columns) == ["Aspect", "Lecturer", "Assistant professor"]
    assert table.iloc[0]["Aspect"] == "Qualifications" and "\\[1\\]" in table.iloc[0]["Lecturer"]
    assert [button.proto.label for button in app.sidebar.get("download_button")] == ["Download conversation (Markdown)"]
    app.radio[0].set_value("Guides").run()
    browser_text = " ".join(m.value for m in app.main.markdown)
    assert "Grade point averages above 3\\.5/4\\.0" in browser_text or "Assistant Professor" in browser_text


def test_a_follow_up_can_be_asked_on_its_own_instead(fake_app):
    fake_app.chat_input[0].set_value("How much postdoc experience does an assistant professor need?").run()
    fake_app.chat_input[0].set_value("What about lecturers?").run()
    next(button for button in fake_app.button if button.label == "Ask it on its own instead").click().run()
    assert not fake_app.exception
    user_turns = [m.markdown[0].value for m in fake_app.chat_message if m.name == "user"]
    assert user_turns[-1] == "What about lecturers?" and len(user_turns) == 3
    last = fake_app.chat_message[-1]
    assert not any(c.value.startswith("Interpreted as:") for c in last.caption)


def test_title_description_and_starters_come_from_the_collection_file(fake_app):
    from guide.ingest.collection import load_collection
    from guide.render import escape_markdown

    collection = load_collection(CORPUS)
    # Shown as text: title, description and starter buttons render escaped Markdown.
    assert fake_app.title[0].value == escape_markdown(collection.title)
    assert escape_markdown(collection.description) in [caption.value for caption in fake_app.caption]
    # In the main column (a phone's sidebar is closed), until the first question.
    labels = [button.label for button in fake_app.main.button]
    assert all(escape_markdown(starter) in labels for starter in collection.starters)
    next(button for button in fake_app.main.button if button.label == escape_markdown(collection.starters[0])).click().run()
    assert [m.markdown[0].value for m in fake_app.chat_message if m.name == "user"] == [escape_markdown(collection.starters[0])]
    assert not any(button.label == escape_markdown(collection.starters[1]) for button in fake_app.main.button)


@pytest.mark.model
def test_a_broad_question_shows_a_lead_and_cited_points(app):
    app.chat_input[0].set_value("How do I become a machine learning lecturer?").run()
    assert not app.exception
    answer = _assistant_texts(app)[0]
    assert "What it takes, from the lecturer guide\\:" in answer
    assert "- **Qualifications:** A PhD" in answer and "\\[1\\]" in answer
    assert "1\\-3 years" in answer and "Discover the role" not in answer


@pytest.mark.model
def test_trends_are_grouped_by_guide(app):
    app.chat_input[0].set_value("What are the trends in machine learning academic jobs?").run()
    answer = _assistant_texts(app)[0]
    # Each guide that speaks to the question is a group of its own, under its role in bold.
    groups = re.findall(r"\n\*\*([A-Z][\w ]+)\*\*\n", answer)
    assert len(groups) >= 2 and len(set(groups)) == len(groups)


def test_a_rebuild_running_in_another_session_disables_the_button(fake_shipped_index, monkeypatch, tmp_path):
    from guide.index import APP_REBUILD

    corpus, index = _copy(fake_shipped_index, tmp_path)
    with APP_REBUILD:
        at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: true\n")
        button = next(button for button in at.button if button.label == "Rebuild index")
        assert button.disabled
        assert any("A rebuild is running" in caption.value for caption in at.caption)
    at.run()
    assert not next(button for button in at.button if button.label == "Rebuild index").disabled


def test_refusals_are_stored_in_the_feedback_database_named_by_the_environment(fake_app, tmp_path):
    import time

    from guide.serve.feedback_store import FeedbackStore

    fake_app.chat_input[0].set_value("How do I become an airline pilot?").run()
    assert not fake_app.exception
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not store.records():
        time.sleep(0.1)
    records = store.records()
    assert [(r["kind"], r["question"]) for r in records] == [("refused", "How do I become an airline pilot?")]
    assert not (tmp_path / "feedback-spool.jsonl").read_text()


def test_an_index_published_by_another_build_is_served_without_a_restart(fake_shipped_index, monkeypatch, tmp_path):
    from guide.index import build_index
    from tests.helpers import FakeEmbedder, make_settings

    corpus, index = _copy(fake_shipped_index, tmp_path)
    at = _run(monkeypatch, tmp_path, corpus, index, config="ui:\n  allow_rebuild: false\n")
    at.chat_input[0].set_value("What do zebra keepers earn?").run()
    assert "zebra" not in _assistant_texts(at)[0].lower() or "could not find" in _assistant_texts(at)[0]
    (corpus / "zebra-keeper.md").write_text(
        "---\ntitle: Zebra Keeper Guide\nrole: zebra-keeper\n---\n\n# Zebra Keeper\n\n## Pay\n\n"
        "Zebra keepers earn about 40,000 dollars a year.\n"
    )
    build_index(make_settings(tmp_path, corpus, **{"index_dir": index}), FakeEmbedder())  # `guide build` elsewhere
    at.chat_input[0].set_value("What do zebra keepers earn?").run()
    assert not at.exception
    texts = _assistant_texts(at)
    assert len(texts) == 2 and "40,000 dollars" in texts[1]  # the conversation is kept, the answer is new
    assert "**Guides:** 6" in " ".join(m.value for m in at.sidebar.markdown)


def test_the_app_takes_its_settings_file_replica_name_and_old_feedback_log_from_the_environment(
    fake_shipped_index, monkeypatch, tmp_path
):
    import json
    import time

    from guide.serve.feedback_store import FeedbackStore

    config = tmp_path / "site.yaml"
    config.write_text("retrieval:\n  k: 7\n")
    old_log = tmp_path / "old-feedback.jsonl"
    old_log.write_text(json.dumps({"kind": "thumbs-down", "question": "An old question?", "time": "2026-01-01"}) + "\n")
    monkeypatch.setenv("GUIDE_CONFIG", str(config))
    monkeypatch.setenv("GUIDE_REPLICA", "replica-7")
    monkeypatch.setenv("GUIDE_FEEDBACK_FILE", str(old_log))
    at = _start(monkeypatch, tmp_path, fake_shipped_index)
    assert at.sidebar.slider[0].value == 7
    at.chat_input[0].set_value("How do I become an airline pilot?").run()
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(store.records()) < 2:
        time.sleep(0.1)
    records = {record["question"]: record for record in store.records()}
    assert set(records) == {"An old question?", "How do I become an airline pilot?"}
    assert records["How do I become an airline pilot?"]["origin"] == "replica-7"
