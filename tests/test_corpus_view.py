"""The maintainer's view through the CLI and the app: a corpus of mixed formats built, its files
indexed, converted, skipped and copied listed by `guide build`, `guide status` and the Corpus page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from guide.cli import main
from guide.index import load_index
from tests.helpers import CORPUS, ROOT
from tests.pages import DATA_SCIENTIST_HTML, make_docx, make_pdf, nurse_pdf

WELDER_PAGE = """<html><head><title>Welder</title></head><body><article><h1>Welder</h1>
<p>A welder joins metal parts with heat. Most welders train through an apprenticeship of three years.</p>
<h2>Pay</h2><p>Welders earn 30,000 to 45,000 pounds a year, more offshore.</p></article></body></html>"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The shipped guides with pages in every format, a copy, an unreadable PDF and an unknown file, built."""
    base = tmp_path_factory.mktemp("mixed")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "data-scientist.html").write_text(DATA_SCIENTIST_HTML)
    (corpus / "welder.txt").write_text(WELDER_PAGE)  # an HTML page saved as text
    (corpus / "nurse.pdf").write_bytes(nurse_pdf())
    (corpus / "paramedic.docx").write_bytes(make_docx())
    (corpus / "scanned.pdf").write_bytes(make_pdf([[]]))
    (corpus / "salaries.xlsx").write_bytes(b"PK\x03\x04")
    shutil.copy(corpus / "lecturer.md", corpus / "lecturer (1).md")
    runner = CliRunner(env={"GUIDE_MODEL": "fake"})
    folders = ["--corpus", str(corpus), "--index", str(base / "index")]

    def guide(*args: str):
        return runner.invoke(main, [*folders, *args])

    return guide, guide("build"), base


def test_build_lists_converted_pages_copies_and_skipped_files_and_succeeds(mixed):
    _, build, _ = mixed
    assert build.exit_code == 0, build.output
    assert "from 9 guide(s)" in build.stdout
    assert "Converted 4 page(s) (1 DOCX, 2 HTML, 1 PDF): data-scientist.html, nurse.pdf, paramedic.docx, welder.txt" in build.stdout
    assert "Copies of lecturer.md (indexed once): lecturer (1).md" in build.stdout
    assert "Skipped scanned.pdf: the PDF has no text layer" in build.stderr
    assert "Skipped salaries.xlsx: is not a format guides are read from" in build.stderr
    assert "Traceback" not in build.output


def test_status_json_keeps_its_keys_and_lists_files_skipped_and_copies(mixed):
    guide, _, _ = mixed
    result = guide("status", "--json")
    assert result.exit_code == 0, result.output  # fresh: copies and skipped files are not "added"
    status = json.loads(result.stdout)
    assert {"exists", "fresh", "reasons", "manifest"} <= set(status) and status["fresh"]
    formats = {entry["path"]: (entry["format"], entry["converted"]) for entry in status["files"]}
    assert formats["welder.txt"] == ("html", True) and formats["nurse.pdf"] == ("pdf", True)
    assert formats["paramedic.docx"] == ("docx", True) and formats["phd.md"] == ("markdown", False)
    assert "lecturer (1).md" not in formats
    assert {entry["path"] for entry in status["skipped"]} == {"scanned.pdf", "salaries.xlsx"}
    assert all(entry["reason"] for entry in status["skipped"])
    assert status["duplicates"] == [{"canonical": "lecturer.md", "copies": ["lecturer (1).md"], "similarity": 1.0}]
    text = guide("status")
    assert "Converted 4 page(s)" in text.stdout and "Skipped scanned.pdf: the PDF has no text layer" in text.stdout


def test_a_copy_is_never_retrieved_and_answers_cite_the_kept_guide_with_where_else_it_is(mixed):
    guide, _, _ = mixed
    search = json.loads(guide("search", "lecturer postdoc experience", "--k", "20", "--json").stdout)
    assert {hit["path"] for hit in search["hits"]} and "lecturer (1).md" not in {hit["path"] for hit in search["hits"]}
    asked = guide("ask", "How many years of postdoc do lecturer posts prefer?", "--role", "lecturer", "--json")
    answer = json.loads(asked.stdout)
    assert answer["citations"] and {citation["path"] for citation in answer["citations"]} == {"lecturer.md"}
    assert all(citation["also_at"] == ["lecturer (1).md"] for citation in answer["citations"])
    printed = guide("ask", "How many years of postdoc do lecturer posts prefer?", "--role", "lecturer")
    assert "Also at: lecturer (1).md" in printed.stdout


def test_the_corpus_page_lists_the_same_as_plain_text(mixed, monkeypatch, tmp_path):
    _, _, base = mixed
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(base / "corpus"))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(base / "index"))
    monkeypatch.setenv("GUIDE_MODEL", "fake")
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(ROOT / "pages" / "1_Corpus.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.caption[0].value.startswith("Guides indexed: 9 (4 converted) · files skipped: 2 · groups of copies: 1")
    indexed, skipped, copies = (frame.value for frame in at.dataframe)
    row = indexed[indexed["File"] == "data-scientist.html"].iloc[0]
    assert (row["Format"], row["Converted"], row["Title"]) == ("html", "yes", "Data Scientist Careers")
    assert indexed[indexed["File"] == "lecturer.md"].iloc[0]["Also at"] == "lecturer (1).md"
    assert set(skipped["File"]) == {"scanned.pdf", "salaries.xlsx"}
    assert list(copies["Indexed"]) == ["lecturer.md"]


def test_the_corpus_page_before_any_build_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(CORPUS))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(Path(ROOT) / "pages" / "1_Corpus.py"), default_timeout=60)
    at.run()
    assert not at.exception and "guide build" in at.info[0].value


def test_the_guides_view_shows_a_converted_page_as_escaped_text_and_where_else_a_guide_is(mixed, monkeypatch, tmp_path):
    _, _, base = mixed
    monkeypatch.setenv("GUIDE_CORPUS_DIR", str(base / "corpus"))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(base / "index"))
    monkeypatch.setenv("GUIDE_MODEL", "fake")
    monkeypatch.setenv("GUIDE_FEEDBACK_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    monkeypatch.setenv("GUIDE_FEEDBACK_SPOOL", str(tmp_path / "spool.jsonl"))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.radio[0].set_value("Guides").run()
    documents = load_index(base / "index").documents

    def show(doc_id: str) -> None:
        next(box for box in at.selectbox if box.label == "Guide").set_value(documents[doc_id]).run()

    show("lecturer")
    assert not at.exception
    assert "Also at: lecturer \\(1\\)\\.md" in [caption.value for caption in at.main.caption]
    show("data-scientist")
    shown = " ".join(markdown.value for markdown in at.main.markdown)
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in shown and "Browse all openings" not in shown
