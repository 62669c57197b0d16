"""What a visitor sees when something goes wrong: a short message and an error id, no traceback, no server path."""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _run(monkeypatch, tmp_path, settings) -> AppTest:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    for name, value in {
        "GUIDE_CORPUS_DIR": str(corpus),
        "GUIDE_INDEX_DIR": str(index),
        "GUIDE_MODEL": "fake",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{tmp_path / 'feedback.db'}",
        "GUIDE_FEEDBACK_SPOOL": str(tmp_path / "spool.jsonl"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return AppTest.from_file(APP, default_timeout=120)


def test_an_unexpected_error_shows_an_error_id_and_no_traceback_or_path(fake_shipped_index, monkeypatch, tmp_path, caplog):
    from guide.engine import Engine

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom in /srv/guide/secret/module.py")

    at = _run(monkeypatch, tmp_path, fake_shipped_index)
    at.run()
    monkeypatch.setattr(Engine, "stream", broken)
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    assert not at.exception
    shown = " ".join(error.value for error in at.error)
    assert "error id" in shown and "/srv/guide" not in shown and "Traceback" not in shown
    error_id = shown.split("error id ")[1][:8]
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_non_utf8_pointer_shows_a_damaged_index_without_server_paths(fake_shipped_index, monkeypatch, tmp_path):
    at = _run(monkeypatch, tmp_path, fake_shipped_index)
    (tmp_path / "index" / "CURRENT").write_bytes(b"\xff\xfegen")
    at.run()
    assert not at.exception
    shown = " ".join(error.value for error in at.error)
    assert "CURRENT is damaged" in shown and str(tmp_path) not in shown


def test_a_pointer_damaged_while_serving_leaves_the_loaded_index_answering(fake_shipped_index, monkeypatch, tmp_path):
    at = _run(monkeypatch, tmp_path, fake_shipped_index)
    at.run()
    at.chat_input[0].set_value("What GPA do PhD admits have?").run()
    (tmp_path / "index" / "CURRENT").write_bytes(b"\xff\xfegen")
    at.chat_input[0].set_value("How long is the tenure track?").run()
    assert not at.exception and not at.error
    assert len([m for m in at.chat_message if m.name == "assistant"]) == 2
