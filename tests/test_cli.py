"""The `guide` command line: JSON shapes, batches, exit codes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from guide.ask.kinds import KINDS
from guide.cli import main
from tests.helpers import CORPUS

SEARCH_HIT_KEYS = {
    "rank": int,
    "score": float,
    "doc_id": str,
    "title": str,
    "role": str,
    "section": str,
    "path": str,
    "text": str,
}
CITATION_KEYS = {"n": int, "doc_id": str, "title": str, "section": str, "path": str, "snippet": str}


def _runner(settings, env=None):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        folders = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
        return runner.invoke(main, [*folders, *args], input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def run(shipped_index):
    """`guide` over the shipped guides with the real model: for what answers say."""
    return _runner(shipped_index)


@pytest.fixture
def run_fake(fake_shipped_index):
    """`guide` over the shipped guides with the model `fake`, chosen through GUIDE_MODEL: for plumbing."""
    return _runner(fake_shipped_index, env={"GUIDE_MODEL": "fake"})


def check_search_shape(data: dict) -> None:
    assert set(data) == {"query", "hits"} and isinstance(data["query"], str)
    assert data["hits"]
    for rank, hit in enumerate(data["hits"], start=1):
        assert set(hit) == set(SEARCH_HIT_KEYS)
        assert all(isinstance(hit[key], kind) for key, kind in SEARCH_HIT_KEYS.items())
        assert hit["rank"] == rank and hit["path"].endswith(".md")


def check_ask_shape(data: dict) -> None:
    assert (
        {"question", "answer", "refused", "confidence", "citations", "kind"}
        <= set(data)
        <= {
            "question", "answer", "refused", "confidence", "citations", "kind", "comparison", "lead", "points",
            "suggestions", "not_covered",
        }
    )  # fmt: skip
    assert data["kind"] in KINDS
    # A refusal offers its closest topics as questions to try; an answer never does.
    assert ("suggestions" in data) == data["refused"]
    if "points" in data:
        assert isinstance(data["lead"], str) and data["points"]
        for point in data["points"]:
            assert set(point) == {"text", "n", "group", "facet"} and f"{point['text']}" in data["answer"]
            assert any(citation["n"] == point["n"] for citation in data["citations"])
    assert (
        isinstance(data["answer"], str) and isinstance(data["refused"], bool) and isinstance(data["confidence"], float)
    )
    for citation in data["citations"]:
        assert set(citation) == set(CITATION_KEYS)
        assert all(isinstance(citation[key], kind) for key, kind in CITATION_KEYS.items())
    used = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert used == {citation["n"] for citation in data["citations"]}



@pytest.mark.model
def test_ask_json_states_the_question_kind_and_structured_points(run):
    result = run("ask", "How do I become a machine learning lecturer?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_ask_shape(data)
    assert data["kind"] == "overview" and data["lead"].startswith("What it takes")
    facets = [point["facet"] for point in data["points"]]
    assert facets[:2] == ["qualifications", "experience"]
    assert "1-3 years" in data["answer"] and "5+ peer-reviewed" in data["answer"]
    trends = json.loads(run("ask", "What are the trends in machine learning academic jobs?", "--json").stdout)
    check_ask_shape(trends)
    assert trends["kind"] == "trends" and len({point["group"] for point in trends["points"]}) >= 3


@pytest.mark.model
def test_search_json_shape(run):
    result = run("search", "How long is the tenure track?", "--k", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_search_shape(data)
    assert len(data["hits"]) == 3 and data["hits"][0]["role"] == "assistant-professor"


@pytest.mark.model
def test_ask_json_shape(run):
    result = run("ask", "How long is the tenure track for an assistant professor?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_ask_shape(data)
    assert not data["refused"] and "5-7 years" in data["answer"]
    assert data["citations"][0]["doc_id"] == "assistant-professor"


@pytest.mark.model
def test_ask_refusal_json(run):
    data = json.loads(run("ask", "What is the capital of Mongolia?", "--json").stdout)
    check_ask_shape(data)
    assert data["refused"] and data["citations"] == []


@pytest.mark.model
def test_ask_with_history(run):
    result = run(
        "ask", "And for a lecturer?", "--history", "How much postdoc experience does an assistant professor need?"
    )
    assert result.exit_code == 0
    assert "Interpreted as:" in result.stdout and "lecturer" in result.stdout
    assert "[1]" in result.stdout and "Sources:" in result.stdout


@pytest.mark.model
def test_a_question_naming_no_role_keeps_the_conversations_role_unless_guide_yaml_turns_it_off(run, tmp_path):
    asked = ("ask", "What qualifications are needed?", "--history", "What does an ML lecturer do?", "--json")
    kept = json.loads(run(*asked).stdout)
    assert {c["doc_id"] for c in kept["citations"]} == {"lecturer"}
    config = tmp_path / "guide.yaml"
    config.write_text("retrieval:\n  follow_up_unless_across: false\n", encoding="utf-8")
    alone = json.loads(run("--config", str(config), *asked).stdout)
    assert alone["citations"] and {c["doc_id"] for c in alone["citations"]} != {"lecturer"}


@pytest.mark.model
def test_a_comparison_weighs_what_it_asks_unless_guide_yaml_sets_the_weight_to_nothing(run, tmp_path):
    asked = ("ask", "postdoc length lecturer vs asst prof?", "--json")
    weighed = json.loads(run(*asked).stdout)["comparison"]["rows"][0]["cells"][0]["text"]
    assert "1-3 years" in weighed
    config = tmp_path / "guide.yaml"
    config.write_text("compare:\n  question_weight: 0\n", encoding="utf-8")
    alone = json.loads(run("--config", str(config), *asked).stdout)["comparison"]["rows"][0]["cells"][0]["text"]
    assert "1-3 years" not in alone


@pytest.mark.model
def test_the_kind_the_meaning_reads_overrules_the_wording_unless_guide_yaml_asks_a_larger_lead(run, tmp_path):
    asked = ("ask", "What credentials do UK universities look for when hiring an ML lecturer?", "--json")
    assert json.loads(run(*asked).stdout)["kind"] == "overview"
    config = tmp_path / "guide.yaml"
    config.write_text("answer:\n  kind_overrule: 0.1\n", encoding="utf-8")
    assert json.loads(run("--config", str(config), *asked).stdout)["kind"] == "trends"


BATCH = [
    {"question": "What GPA do PhD admits have?", "history": []},
    {"question": "And for a clinical professor?", "history": ["What programming skills does a lecturer need?"]},
    {"question": "What is the capital of Mongolia?"},
]


@pytest.mark.model
def test_ask_batch_writes_one_json_object_per_line(run, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join(json.dumps(item) for item in BATCH) + "\n")
    result = run("ask", "--batch", str(batch))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 3
    answers = [json.loads(line) for line in lines]
    for answer in answers:
        check_ask_shape(answer)
    assert "3.5/4.0" in answers[0]["answer"]
    assert answers[1]["citations"][0]["doc_id"] == "clinical-professor"
    assert answers[2]["refused"]


def test_search_batch_from_stdin(run_fake):
    result = run_fake("search", "--batch", "-", input="\n".join(json.dumps(item) for item in BATCH))
    assert result.exit_code == 0, result.output
    results = [json.loads(line) for line in result.stdout.strip().split("\n")]
    assert [r["query"] for r in results] == [item["question"] for item in BATCH]
    for data in results:
        check_search_shape(data)


def test_batch_with_bad_lines_reports_them_and_fails(run_fake, tmp_path):
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"question": "What GPA do PhD admits have?"}\nnot json\n{"history": []}\n')
    result = run_fake("ask", "--batch", str(batch))
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.strip().split("\n")]
    assert "answer" in lines[0] and "line 2 is not JSON" in lines[1]["error"] and "line 3" in lines[2]["error"]


def test_usage_errors_exit_non_zero_without_traceback(run_fake, tmp_path):
    assert run_fake("ask").exit_code == 2
    missing = run_fake("ask", "--batch", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    unknown = run_fake("search", "x", "--role", "astronaut")
    assert unknown.exit_code == 2 and "Unknown role astronaut" in unknown.stderr
    empty = run_fake("ask", "   ")
    assert empty.exit_code == 2 and "Please type a question" in empty.stdout


def test_status_of_the_built_index(run_fake):
    result = run_fake("status")
    assert result.exit_code == 0 and "fresh" in result.stdout and "Guides:   5" in result.stdout


def test_missing_index_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["--corpus", str(CORPUS), "--index", str(tmp_path / "none"), "ask", "hi"])
    assert result.exit_code == 2 and "No index" in result.stderr and "guide build" in result.stderr
    assert "Traceback" not in result.output


def test_build_reports_what_changed_and_a_bad_guide_stops_it(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    runner = CliRunner(env={"GUIDE_MODEL": "fake"})
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    first = runner.invoke(main, [*folders, "build"])
    assert first.exit_code == 0, first.output
    assert "5 added" in first.stdout and "0 reused" in first.stdout
    lecturer = corpus / "lecturer.md"
    lecturer.write_text(lecturer.read_text().replace("1-3 years", "2-4 years"))
    second = runner.invoke(main, [*folders, "build", "--json"])
    report = json.loads(second.stdout)
    assert (
        report["guides_changed"] == ["lecturer.md"]
        and report["chunks"] - 2 <= report["chunks_reused"] < report["chunks"]
    )
    assert 0 < report["embedded"] < 10

    generation = (tmp_path / "index" / "CURRENT").read_text()
    (corpus / "broken.md").write_bytes(b"---\ntitle: [oops\n---\ntext")
    failed = runner.invoke(main, [*folders, "build"])
    assert failed.exit_code == 1 and "broken.md" in failed.stderr and "Traceback" not in failed.output
    assert (tmp_path / "index" / "CURRENT").read_text() == generation
    skipped = runner.invoke(main, [*folders, "build", "--skip-invalid"])
    assert skipped.exit_code == 0 and "Skipped broken.md" in skipped.stderr
    stale = runner.invoke(main, [*folders, "status"])
    assert stale.exit_code == 0, stale.output


def test_the_collection_file_is_checked_and_counts_as_a_source(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    runner = CliRunner(env={"GUIDE_MODEL": "fake"})
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert runner.invoke(main, [*folders, "build"]).exit_code == 0
    generation = (tmp_path / "index" / "CURRENT").read_text()
    collection = corpus / "collection.yaml"
    good = collection.read_text()

    collection.write_text(good.replace("title:", "titel:", 1))
    assert runner.invoke(main, [*folders, "status"]).exit_code == 1  # out of date: a source changed
    failed = runner.invoke(main, [*folders, "build"])
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "collection.yaml" in failed.stderr and "unknown key 'titel'" in failed.stderr
    assert (tmp_path / "index" / "CURRENT").read_text() == generation

    collection.write_text("starters: [one, 2]\n")
    failed = runner.invoke(main, [*folders, "build"])
    assert failed.exit_code == 1 and "'starters' must be a list of non-empty strings" in failed.stderr

    # A new starter question is served from the rebuilt index; no code names it.
    collection.write_text(good.replace("starters:\n", "starters:\n  - What does a dean do?\n", 1))
    assert runner.invoke(main, [*folders, "build"]).exit_code == 0
    assert runner.invoke(main, [*folders, "status"]).exit_code == 0
    from guide.index import load_index

    assert "What does a dean do?" in load_index(tmp_path / "index").collection.starters


def test_front_matter_names_must_be_lists_of_phrases(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    lecturer = corpus / "lecturer.md"
    lecturer.write_text(lecturer.read_text().replace("aliases: [lecturer,", "aliases: {lecturer: 1}\nx: [", 1))
    result = CliRunner().invoke(
        main, ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "build"], env={"GUIDE_MODEL": "fake"}
    )
    assert result.exit_code == 1 and "lecturer.md" in result.stderr and "'aliases' must be a list" in result.stderr


def _fake_build(tmp_path, corpus, *args):
    """`guide build` through the CLI with the model `fake` (the deterministic stand-in), set as a user would."""
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    return CliRunner().invoke(main, [*folders, "build", *args], env={"GUIDE_MODEL": "fake"})


def test_a_link_out_of_the_corpus_folder_a_pipe_and_a_bad_id_are_refused_by_name(tmp_path, small_corpus):
    import os

    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\n\nroot:x:0:0:root\n")
    (small_corpus / "passwd.md").symlink_to(secret)
    os.mkfifo(small_corpus / "pipe.md")
    (small_corpus / "escape.md").write_text("---\ntitle: Escape\nid: ../../x\n---\n\nText here.\n")
    failed = _fake_build(tmp_path, small_corpus)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "passwd.md: is a link to a file outside the corpus folder" in failed.stderr
    assert "pipe.md: is not a regular file" in failed.stderr
    assert "escape.md" in failed.stderr and "id '../../x' must be a short slug" in failed.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()
    skipped = _fake_build(tmp_path, small_corpus, "--skip-invalid")
    assert skipped.exit_code == 0
    assert all(f"Skipped {name}" in skipped.stderr for name in ("passwd.md", "pipe.md", "escape.md"))
    from guide.index import load_index

    index = load_index(tmp_path / "index")
    assert sorted(index.documents) == ["lecturer", "phd"]
    assert not any("root:x" in chunk.text for chunk in index.chunks)
    # A link to a guide inside the folder is a guide like any other.
    (small_corpus / "alias.md").symlink_to(small_corpus / "lecturer.md")
    assert "alias.md" not in _fake_build(tmp_path, small_corpus, "--skip-invalid").stderr


def test_paths_are_relative_to_the_corpus_folder_and_reference_marks_never_pass_for_citations(tmp_path):
    from guide.engine import Engine
    from tests.helpers import FakeEmbedder, make_settings

    corpus = tmp_path / "srv" / "guides"
    corpus.mkdir(parents=True)
    (corpus / "lecturer.md").write_text(
        "---\ntitle: Lecturer Guide\nrole: lecturer\n---\n\n# Lecturer Guide\n\n## Qualifications\n\n"
        "Lecturers need a doctorate at degree level,[2] and teaching experience.[3][4] "
        "Most hold a PhD in statistics [citation needed].\n"
    )
    assert _fake_build(tmp_path, corpus.resolve()).exit_code == 0
    settings = make_settings(tmp_path, corpus.resolve())
    answer = Engine.load(settings, FakeEmbedder()).ask("What degree do lecturers need?").to_json()
    assert not answer["refused"]
    marks = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert marks == {citation["n"] for citation in answer["citations"]} == {1}
    assert "degree level, and teaching experience." in answer["answer"] and "[citation needed]" not in answer["answer"]
    assert all(citation["path"] == "lecturer.md" for citation in answer["citations"])
    # The guide itself keeps its marks.
    assert "level,[2] and" in answer["citations"][0]["snippet"]


MARK = re.compile(r"\[[^\[\]]*\d[^\[\]]*\]")  # anything bracketed holding a digit


def test_every_bracketed_number_in_an_answer_is_one_of_its_citations(tmp_path):
    """Reference marks in a guide's sentences, title, headings and label, in a facet's name and in a
    question: none reaches an answer as an [n]-like mark, whatever kind of answer it is. (Their
    numbers are too high to pass for one of an answer's few citations.)"""
    import yaml

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(
        "---\ntitle: Lecturer Guide [91]\nrole: lecturer\nlabel: lecturer [92]\naliases: [lecturer]\n---\n\n"
        "# Lecturer Guide [91]\n\n## Qualifications [ 93 ]\n\n"
        "Lecturers need a doctorate at degree level,[95] and teaching experience [ 96 ] of two years.[97, 98] "
        "They publish papers in journals.[98–99][note 1]\n\n## Duties [94]\n\n"
        "Lecturers teach undergraduate courses and supervise projects.[n 2]\n\n"
        "## Career Outlook\n\nDemand for lecturers is growing in many countries.[90]\n"
    )
    (corpus / "phd.md").write_text(
        "---\ntitle: PhD Guide\nrole: phd\naliases: [phd]\n---\n\n# PhD Guide\n\n## Qualifications\n\n"
        "A PhD applicant needs a bachelor's degree and research experience.\n\n## Duties\n\n"
        "PhD students do research and write a thesis.\n\n## Career Outlook\n\nMost graduates enter industry.\n"
    )
    collection = yaml.safe_load((CORPUS / "collection.yaml").read_text())
    collection["facets"][0]["name"] += " [89]"
    (corpus / "collection.yaml").write_text(yaml.safe_dump(collection))
    assert _fake_build(tmp_path, corpus).exit_code == 0
    questions = [
        "What degree do lecturers need?",
        "How do I become a lecturer?",
        "What does a lecturer do?",
        "Compare a lecturer and a PhD",
        "What are the trends in hiring across these roles?",
        "How do I become an airline pilot? [88]",
        "How do I get a student [87] visa for a PhD?",
        "???",
        "What is the capital of Mongolia?",
    ]
    batch = tmp_path / "questions.jsonl"
    batch.write_text("".join(json.dumps({"question": q}) + "\n" for q in questions))
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(main, [*folders, "ask", "--json", "--batch", str(batch)], env={"GUIDE_MODEL": "fake"})
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == questions
    for answer in answers:
        numbers = {citation["n"] for citation in answer["citations"]}
        for mark in MARK.findall(answer["answer"]):
            assert re.fullmatch(r"\[\d+\]", mark) and int(mark[1:-1]) in numbers, (answer["question"], answer["answer"])
        assert max(numbers, default=0) < 80
        if not answer["refused"]:
            assert {int(m[1:-1]) for m in MARK.findall(answer["answer"])} == numbers, answer["answer"]
    kinds = {a["kind"] for a in answers if not a["refused"]}
    assert {"fact", "overview", "duties", "compare"} <= kinds and sum(a["refused"] for a in answers) >= 3
    assert any("do not cover the job of airline pilot;" in a["answer"] for a in answers)
    assert any("do not cover a student visa;" in a["answer"] for a in answers)
    # A refusal's questions to try are headings and labels without their marks.
    refused = next(a for a in answers if a["question"] == "What is the capital of Mongolia?")
    assert 1 <= len(refused["suggestions"]) <= 3 and not MARK.findall(" ".join(refused["suggestions"]))
    assert all(s in refused["answer"] for s in refused["suggestions"]), refused
    # The guides keep their marks where they are shown as they are: snippets and search results.
    snippets = " ".join(c["snippet"] + c["section"] + c["title"] for a in answers for c in a["citations"])
    assert "level,[95] and" in snippets and "Guide [91]" in snippets


def test_the_collection_file_is_confined_to_the_corpus_folder_and_ids_are_slugs(tmp_path, small_corpus):
    import os

    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("title: Not from the corpus folder\n")
    (small_corpus / "collection.yaml").symlink_to(outside)
    failed = _fake_build(tmp_path, small_corpus)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "collection.yaml: is a link to a file outside the corpus folder" in failed.stderr
    (small_corpus / "collection.yaml").unlink()
    os.mkfifo(small_corpus / "collection.yaml")  # reading it would wait for a writer forever
    failed = _fake_build(tmp_path, small_corpus)
    assert failed.exit_code == 1 and "collection.yaml: is not a regular file" in failed.stderr
    (small_corpus / "collection.yaml").unlink()
    # A file name that is no slug gives a slug id; the file name stays the guide's path.
    (small_corpus / "Reader Guide (UK).md").write_text("---\ntitle: Reader\nrole: reader\n---\n\nReaders do research.\n")
    assert _fake_build(tmp_path, small_corpus).exit_code == 0
    from guide.index import load_index

    documents = load_index(tmp_path / "index").documents
    assert documents["reader-guide-uk"].path == "Reader Guide (UK).md"


def test_the_app_listens_on_loopback_unless_an_address_is_given(monkeypatch, tmp_path):
    import subprocess

    commands, environments = [], []
    monkeypatch.setattr("os.execvpe", lambda program, command, env: (commands.append(command), environments.append(env)))
    folders = ["--corpus", str(tmp_path), "--index", str(tmp_path / "index")]
    CliRunner().invoke(main, [*folders, "chat"])
    CliRunner().invoke(main, [*folders, "chat", "--address", "0.0.0.0", "--port", "9000"])
    # The app is told the folders through its environment; this process's stays as it was.
    assert environments[0]["GUIDE_CORPUS_DIR"] == str(tmp_path.resolve())
    assert environments[0]["GUIDE_INDEX_DIR"] == str((tmp_path / "index").resolve())
    assert os.environ.get("GUIDE_CORPUS_DIR") != str(tmp_path.resolve())
    assert commands[0][commands[0].index("--server.address") + 1] == "127.0.0.1"
    assert commands[1][commands[1].index("--server.address") + 1] == "0.0.0.0" and "9000" in commands[1]
    root = Path(__file__).resolve().parent.parent
    dry = subprocess.run(["make", "-n", "-o", ".venv/.installed", "run"], cwd=root, capture_output=True, text=True)
    assert "guide chat --port 8501 --address 127.0.0.1" in dry.stdout, dry.stdout + dry.stderr
    # The app is started with its model loaded and no file watcher (guide.serve.local).
    assert commands[0][1:3] == ["-m", "guide.serve.local"]


def test_streamlit_run_from_the_project_folder_listens_on_loopback(tmp_path):
    """Without --server.address, Streamlit would listen on every interface; the project's
    .streamlit/config.toml keeps a bare `streamlit run app.py` on this machine."""
    import socket
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GUIDE_CORPUS_DIR": str(tmp_path), "GUIDE_INDEX_DIR": str(tmp_path / "index")}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("URL:" in line for line in lines):
            lines.append(process.stdout.readline())
        output = "".join(lines)
        assert f"URL: http://127.0.0.1:{port}" in output and "Network URL" not in output, output
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_environment_chooses_the_folders_and_model_when_no_flag_is_given(tmp_path, small_corpus):
    env = {"GUIDE_CORPUS_DIR": str(small_corpus), "GUIDE_INDEX_DIR": str(tmp_path / "env-index"), "GUIDE_MODEL": "fake"}
    built = CliRunner().invoke(main, ["build"], env=env)
    assert built.exit_code == 0, built.output
    assert (tmp_path / "env-index" / "CURRENT").exists()
    status = CliRunner().invoke(main, ["status"], env=env)
    assert status.exit_code == 0 and f"Index:    {tmp_path / 'env-index'}" in status.stdout
    assert "fake" in status.stdout and "Guides:   2" in status.stdout
    # A flag still wins over the environment.
    flagged = CliRunner().invoke(main, ["--index", str(tmp_path / "none"), "status"], env=env)
    assert flagged.exit_code == 1 and str(tmp_path / "none") in flagged.stdout
