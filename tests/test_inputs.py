"""Bad or hostile input of every other kind: settings, guides, ports, connections, killed builds, secrets."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from click.testing import CliRunner

from guide.cli import main
from guide.errors import CorpusError
from guide.index import build_index
from guide.index.embedding import FakeEmbedder
from guide.ingest.corpus import file_hashes, load_corpus, read_guide
from guide.render import passage_markdown
from tests.helpers import GUIDE_A, ROOT, make_settings

# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://guide:sekrit@db.example:5432/guide",
        "postgresql://guide@db.example/guide?password=sekrit&sslmode=require",
        "host=db.example user=guide password=sekrit dbname=guide",
        "host=db.example password='sekrit words' dbname=guide",
    ],
    ids=["userinfo", "query", "dsn", "quoted-dsn"],
)
def test_no_form_of_the_database_password_is_printed(url, tmp_path):
    runner = CliRunner()
    shown = runner.invoke(main, ["settings", "--json"], env={"GUIDE_FEEDBACK_URL": url})
    assert shown.exit_code == 0 and "sekrit" not in shown.output
    assert "***" in json.loads(shown.stdout)["feedback"]["url"]
    failed = runner.invoke(main, ["gaps"], env={"GUIDE_FEEDBACK_URL": url, "GUIDE_FEEDBACK_FILE": str(tmp_path / "x")})
    assert failed.exit_code != 0 and "sekrit" not in failed.output


def test_log_records_have_their_passwords_masked():
    from guide.config import SecretMask

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        SecretMask.install()
        logging.getLogger("guide.serve.feedback_store").warning("Feedback waits: %s", "postgresql://u:sekrit@h/g")
    finally:
        root.removeHandler(handler)
    assert "sekrit" not in stream.getvalue() and "postgresql://u:***@h/g" in stream.getvalue()


# ---------------------------------------------------------------- settings


def _settings_with(tmp_path, text: str | bytes):
    path = tmp_path / "guide.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return CliRunner().invoke(main, ["--config", str(path), "settings"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("structure:\n  max_groups: 0\n", "'structure.max_groups' must be at least 1"),
        (b"retrieval:\n  k: 3\n# caf\xe9\n", "not UTF-8"),
        ("retrieval:\n  k: 3\n  k: 8\n", "'k' appears twice"),
        ("retrieval:\n  k: 3\nretrieval:\n  lexical_weight: 0.2\n", "'retrieval' appears twice"),
        ("retrieval:\n  k: 2.5\n", "'retrieval.k' must be a whole number"),
        ("answer:\n  refusal_threshold: true\n", "'answer.refusal_threshold' must be a number"),
        ("answer:\n  refusal_threshold: .nan\n", "'answer.refusal_threshold' must be a number"),
        ("embedding:\n  model: [a, b]\n", "'embedding.model' must be text"),
        ("feedback:\n  url:\n", "'feedback.url' must be text"),
        ("[" * 5000 + "]" * 5000 + "\n", "guide.yaml"),
    ],
    ids=["max-groups-0", "not-utf8", "duplicate", "duplicate-section", "float-int", "bool-float", "nan", "list-text", "null", "nested"],
)
def test_a_bad_settings_file_is_a_clear_error_naming_the_key(tmp_path, text, says):
    result = _settings_with(tmp_path, text)
    assert result.exit_code == 1, result.output
    assert says in result.stderr, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


def test_settings_from_text_are_still_parsed(tmp_path):
    result = CliRunner().invoke(main, ["settings", "--json"], env={"GUIDE_ALLOW_REBUILD": "yes"})
    assert result.exit_code == 0 and json.loads(result.stdout)["ui"]["allow_rebuild"] == "true"
    assert _settings_with(tmp_path, "retrieval:\n  k: 4.0\n  lexical_weight: 1\n").exit_code == 0


def test_ports_out_of_range_are_refused_before_anything_starts():
    for command in (["chat", "--port", "-1"], ["chat", "--port", "70000"], ["serve", "--port", "-1"]):
        result = subprocess.run(
            [sys.executable, "-m", "guide.cli", *command], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2 and "Invalid value for '--port'" in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "guide.serve.replica", "--port", "0", "--health-port", "-1"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "from 1 to 65535" in result.stderr


# ---------------------------------------------------------------- guides


def _guide(tmp_path, front: str, body: str = "# Guide\n\nSome text.\n"):
    path = tmp_path / "g.md"
    path.write_text(f"---\n{front}---\n\n{body}")
    return path


@pytest.mark.parametrize(
    ("front", "says"),
    [
        ("title: One\nrole: lecturer\nrole: professor\n", "'role' appears twice"),
        ("title: yes\n", "'title' must be text, not true or false"),
        ("title: Guide\nlabel: 1.10\n", "'label' must be text, not the number 1.1"),
        ("title: Guide\naliases: [doctorate, no]\n", "'aliases' must be a list"),
    ],
    ids=["duplicate", "bool-title", "float-label", "bool-alias"],
)
def test_front_matter_duplicates_and_silent_coercions_are_refused(tmp_path, front, says):
    with pytest.raises(CorpusError) as caught:
        read_guide(_guide(tmp_path, front))
    assert says in str(caught.value)


def test_escape_sequences_written_as_yaml_escapes_never_reach_a_terminal(tmp_path):
    front = 'title: "Evil \\e[31mred\\e[0m \\x07bell"\nsummary: "\\e]8;;http://x\\e\\\\link\\e]8;;\\e\\\\"\naliases: ["\\e[2Jwiped"]\n'
    document = read_guide(_guide(tmp_path, front))
    shown = document.title + document.summary + "".join(document.aliases)
    assert "\x1b" not in shown and "\x07" not in shown
    assert document.title == "Evil red bell" and document.aliases == ("wiped",)


def test_a_collection_file_with_a_duplicate_key_is_refused(tmp_path):
    from guide.ingest.collection import parse_collection

    with pytest.raises(CorpusError, match="'title' appears twice"):
        parse_collection("title: One\ntitle: Two\n")


def test_a_link_to_a_guide_of_the_folder_is_not_indexed_twice(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(GUIDE_A)
    (corpus / "another-name.md").symlink_to("lecturer.md")
    (corpus / "z-link.md").symlink_to(corpus / "lecturer.md")
    documents, _ = load_corpus(corpus)
    assert [doc.path for doc in documents] == ["lecturer.md"]
    assert list(file_hashes(corpus)) == ["lecturer.md"]
    report = build_index(make_settings(tmp_path, corpus), FakeEmbedder())
    assert report.documents == 1


def test_indented_guide_lines_render_as_text_not_as_code_blocks():
    markdown = passage_markdown("Intro line.\n\n    An indented line (with a-dash).\n\tA tabbed one.\n")
    assert not any(line.startswith(("    ", "\t")) for line in markdown.split("\n")), markdown
    assert "An indented line \\(with a\\-dash\\)\\." in markdown


# ---------------------------------------------------------------- serving and building


def test_the_health_port_serves_idle_connections_with_a_bounded_number_of_threads():
    from guide.serve.cluster import free_port
    from guide.serve.replica import Health, start_health_server

    port = free_port()
    server = start_health_server(Health(), "127.0.0.1", port)
    before = threading.active_count()
    idle = []
    try:
        for _ in range(80):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1.0)
        assert threading.active_count() - before <= 16, threading.active_count() - before
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=2) as response:
                assert response.status == 200
                break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    server.shutdown()
    server.server_close()


def test_builds_killed_just_before_the_switch_leave_at_most_one_copy_behind(tmp_path, small_corpus, monkeypatch):
    from guide.index import storage

    settings = make_settings(tmp_path, small_corpus)
    build_index(settings, FakeEmbedder())
    live = (settings.index_dir / "CURRENT").read_text()
    real_replace = os.replace

    def killed(source, target, *args, **kwargs):
        if str(target).endswith("CURRENT"):
            raise KeyboardInterrupt  # the build dies here, its generation written but not live
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(storage.os, "replace", killed)
    for _ in range(3):
        with pytest.raises(KeyboardInterrupt):
            build_index(settings, FakeEmbedder())
    monkeypatch.setattr(storage.os, "replace", real_replace)
    generations = sorted(path.name for path in settings.index_dir.glob("gen-*"))
    assert (settings.index_dir / "CURRENT").read_text() == live
    assert len(generations) == 2 and live.strip() in generations, generations
    build_index(settings, FakeEmbedder())
    after = sorted(path.name for path in settings.index_dir.glob("gen-*"))
    # The new live one and the one before it (still readable by a reader that resolved CURRENT).
    assert after == [live.strip(), (settings.index_dir / "CURRENT").read_text().strip()]
