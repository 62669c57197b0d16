"""Pages saved as HTML, PDF and DOCX: converted to Markdown guides, or listed as skipped with the reason."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from guide.errors import CorpusError
from guide.ingest.corpus import parse_guide, read_guide
from guide.ingest.files import read_corpus
from guide.ingest.formats import ConversionError, Limits, convert, looks_like_html
from guide.render import passage_markdown
from tests.helpers import GUIDE_A
from tests.pages import DATA_SCIENTIST_HTML, make_docx, make_pdf, nurse_pdf


def _headings(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("#")]


def _read(tmp_path: Path, name: str, data: bytes | str) -> object:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return read_guide(path)


def test_html_keeps_the_main_text_and_its_headings_and_takes_title_and_address_from_the_page(tmp_path):
    document = _read(tmp_path, "data-scientist.html", DATA_SCIENTIST_HTML)
    assert document.title == "Data Scientist Careers"
    assert document.source == "https://jobs.example.org/careers/data-scientist"
    assert document.summary == "What a data scientist does and how to become one."
    assert document.origin == "html" and document.role == "data-scientist"
    assert _headings(document.text) == ["# Data Scientist", "## Qualifications", "### Salary"]
    assert "- Python or R\n- SQL for databases" in document.text
    assert "Level: Junior; Salary: 50,000." in document.text
    # Menus, footers and scripts are not the page's text.
    for boilerplate in ("Browse all openings", "Privacy policy", "tracking code", "<p>", "<li>"):
        assert boilerplate not in document.text


def test_markup_written_as_text_in_a_page_stays_text_and_is_escaped_when_shown(tmp_path):
    document = _read(tmp_path, "data-scientist.html", DATA_SCIENTIST_HTML)
    assert "<img src=x onerror=alert(1)> and <b>not bold</b>" in document.text
    shown = passage_markdown(document.text)
    # Every "<" is escaped: Markdown shows it as a character, never as the start of a tag.
    assert re.search(r"(?<!\\)<", shown) is None and "\\<img" in shown


def test_a_page_without_metadata_is_named_by_its_first_heading_and_sourced_by_its_file_name(tmp_path):
    page = "<html><body><article><h1>Welder</h1><p>Welders join metal parts with heat for a living.</p></article></body></html>"
    document = _read(tmp_path, "welder-page.htm", page)
    assert document.title == "Welder" and document.source == "welder-page.htm"


def test_a_text_file_holding_an_html_page_is_read_as_html_and_plain_text_with_brackets_is_not(tmp_path):
    saved = _read(tmp_path, "saved.txt", "\ufeff<!-- saved from url -->\n" + DATA_SCIENTIST_HTML)
    assert saved.origin == "html" and "<p>" not in saved.text and "## Qualifications" in saved.text
    plain = _read(tmp_path, "plain.txt", "Welder\nWelders use <angle brackets> in their notes, and they weld.\n")
    assert plain.origin == "" and "<angle brackets>" in plain.text
    assert looks_like_html("<html lang='en'><body>") and not looks_like_html("A page about <html> tags.")


def test_pdf_headings_come_from_larger_type_and_wrapped_lines_are_joined(tmp_path):
    document = _read(tmp_path, "nurse.pdf", nurse_pdf())
    assert document.title == "Nursing careers" and document.summary == "What nurses do and how they train."
    assert document.source == "nurse.pdf" and document.origin == "pdf"
    assert _headings(document.text) == ["# Nurse", "## Training"]
    assert "Nurses care for patients in hospitals, clinics and homes, and they work in teams with doctors and carers." in document.text
    assert "half of it on hospital placements." in document.text
    assert "- Anatomy and physiology\n- Pharmacology" in document.text


def test_pdf_page_numbers_and_running_headers_are_left_out_and_text_repeated_within_pages_is_not():
    body = [(11, "Welders wear masks on every shift."), (11, "Safety comes first in this trade.")]
    pages = [
        [(9, "JobsSite careers"), (11, f"Page {n} tells one more thing about welding work."), *body, *body, (9, str(n))]
        for n in (1, 2, 3)
    ]
    text = convert("welder.pdf", make_pdf(pages), "pdf")
    assert "JobsSite careers" not in text and "\n2\n" not in text
    assert all(f"Page {n} tells" in text for n in (1, 2, 3))
    assert text.count("Welders wear masks on every shift.") == 6


def test_docx_headings_come_from_paragraph_styles_and_title_and_source_from_core_properties(tmp_path):
    document = _read(tmp_path, "paramedic.docx", make_docx())
    assert document.title == "Paramedic: the job" and document.source == "https://jobs.example.org/careers/paramedic"
    assert document.summary == "What paramedics do." and document.origin == "docx"
    assert _headings(document.text) == ["# Paramedic", "## Training"]
    assert "- Driving licence\n- First aid" in document.text
    assert "Band: Band 6; Salary: 37,000 pounds." in document.text
    # A paragraph that would read as a Markdown heading is kept as a paragraph.
    assert "\nThis line starts with a hash mark." in document.text


def _encrypted(user_password: str) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(nurse_pdf()))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_locked_only_against_editing_is_read():
    assert "## Training" in convert("open.pdf", _encrypted(""), "pdf")


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 3_000_000)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "limits", "reason"),
    [
        ("locked.pdf", lambda: _encrypted("secret"), None, "encrypted with a password"),
        ("scanned.pdf", lambda: make_pdf([[]]), None, "no text layer"),
        ("broken.pdf", lambda: b"%PDF-1.4\nnot a pdf at all", None, "cannot be read"),
        ("long.pdf", lambda: make_pdf([[(11, "One line.")]] * 3), Limits(max_pages=2), "3 pages, over the limit of 2"),
        ("broken.docx", lambda: b"PK\x03\x04 not a zip", None, "not a Word document"),
        ("bomb.docx", _zip_bomb, Limits(max_bytes=100_000), "unpacks to"),
        ("menus.html", lambda: b"<html><body><nav><a href='/'>Home</a></nav></body></html>", None, "no main text"),
        ("big.html", lambda: b"<html>" + b" " * 2000, Limits(max_bytes=1000), "over the 0.000954 MB limit"),
    ],
)
def test_what_cannot_be_converted_says_why(name, data, limits, reason):
    with pytest.raises(ConversionError, match=reason):
        convert(name, data(), name.rsplit(".", 1)[1], limits)


def test_unreadable_pages_and_unknown_files_are_listed_as_skipped_and_the_rest_is_read(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(GUIDE_A)
    (corpus / "nurse.pdf").write_bytes(nurse_pdf())
    (corpus / "scanned.pdf").write_bytes(make_pdf([[]]))
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (corpus / ".hidden.html").write_text(DATA_SCIENTIST_HTML)
    reading = read_corpus(corpus)
    assert [doc.path for doc in reading.documents] == ["lecturer.md", "nurse.pdf"]
    skipped = {problem.path: problem.message for problem in reading.skipped}
    assert set(skipped) == {"scanned.pdf", "photo.jpg"} and "no text layer" in skipped["scanned.pdf"]
    assert "not a format guides are read from" in skipped["photo.jpg"]
    listing = reading.listing()
    assert [(entry["path"], entry["format"], entry["converted"]) for entry in listing["files"]] == [
        ("lecturer.md", "markdown", False),
        ("nurse.pdf", "pdf", True),
    ]
    assert [entry["path"] for entry in listing["skipped"]] == ["photo.jpg", "scanned.pdf"]


def test_a_corpus_of_unreadable_pages_only_is_an_error_that_lists_them(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scanned.pdf").write_bytes(make_pdf([[]]))
    with pytest.raises(CorpusError, match="No valid guides") as raised:
        read_corpus(corpus)
    assert [problem.path for problem in raised.value.problems] == ["scanned.pdf"]


def test_a_page_over_the_size_limit_is_skipped_not_fatal(tmp_path):
    from guide.config import IngestSettings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(GUIDE_A)
    (corpus / "big.html").write_text(DATA_SCIENTIST_HTML + " " * 20_000)
    reading = read_corpus(corpus, settings=IngestSettings(max_page_mb=0.01))
    assert [doc.path for doc in reading.documents] == ["lecturer.md"]
    assert "over the 0.01 MB limit for a page" in reading.skipped[0].message and reading.skipped[0].path == "big.html"


def test_converted_front_matter_holds_any_title_as_text():
    text = convert("odd.html", b"<html><head><title>yes: [1.10] # not a comment</title></head><body><article><p>"
                   + b"Plain words of a page that is long enough to count as text." * 3 + b"</p></article></body></html>", "html")
    assert parse_guide(text, "odd.html").title == "yes: [1.10] # not a comment"
