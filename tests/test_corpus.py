from __future__ import annotations

from pathlib import Path

import pytest

from guide.errors import CorpusError
from guide.ingest.corpus import ParseError, load_corpus, parse_front_matter, parse_guide, plain_text_to_markdown


def test_front_matter_is_split_from_the_body():
    meta, body, lines = parse_front_matter("---\ntitle: A\nrole: phd\n---\n# A\n\nText.\n")
    assert meta == {"title": "A", "role": "phd"}
    assert body == "# A\n\nText.\n"
    assert lines == 4


def test_text_without_front_matter_is_all_body():
    assert parse_front_matter("# Title\n\nText.") == ({}, "# Title\n\nText.", 0)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("---\ntitle: A\n", "no closing", 1),
        ("---\ntitle: [unclosed\nrole: x\n---\nbody", "not valid YAML", None),
        ("---\n- a\n- b\n---\nbody", "must be a mapping", 2),
        ("---\njust a string\n---\nbody", "must be a mapping", 2),
    ],
)
def test_malformed_front_matter_names_the_problem(text, message, line):
    with pytest.raises(ParseError, match=message) as error:
        parse_front_matter(text)
    if line is not None:
        assert error.value.line == line
    else:
        assert error.value.line and error.value.line >= 2


def test_markdown_guide_fields():
    doc = parse_guide(
        "---\ntitle: Lecturer Jobs\nrole: lecturer\nsource: s\nsummary: sum\n---\n\n# Lecturer\n\nBody text.\n",
        "lect.md",
    )
    assert (doc.doc_id, doc.title, doc.role, doc.source, doc.summary) == (
        "lect",
        "Lecturer Jobs",
        "lecturer",
        "s",
        "sum",
    )
    assert doc.text == "# Lecturer\n\nBody text.\n"


def test_markdown_without_front_matter_takes_title_from_heading_and_role_from_name():
    doc = parse_guide("# Postdoc Life\n\nSome text.\n", "Post_Doc.md")
    assert doc.title == "Postdoc Life"
    assert doc.role == "post-doc"


def test_plain_text_guide_first_line_is_title_and_headings_are_marked():
    doc = parse_guide(
        "Research Fellow Guide\nWhat the role is\nA fellow does research. It is fun.\n- item one\n- item two\n",
        "fellow.txt",
    )
    assert doc.title == "Research Fellow Guide"
    assert doc.text == "## What the role is\n\nA fellow does research. It is fun.\n\n- item one\n- item two\n"


def test_plain_text_to_markdown_keeps_sentences_and_lists():
    assert (
        plain_text_to_markdown("Heading\nA sentence.\nLead in:\n- a\n")
        == "## Heading\n\nA sentence.\n\nLead in:\n\n- a\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("---\ntitle: A\nrole: Not A Slug\n---\nbody", "role 'Not A Slug'"),
        ("---\ntitle: [a, b]\n---\nbody", "must be text"),
        ("---\ntitle: A\n---\n\n", "no text"),
    ],
)
def test_bad_guides_raise_parse_errors(text, message):
    with pytest.raises(ParseError, match=message):
        parse_guide(text, "x.md")


def _write(corpus: Path, name: str, data: bytes | str) -> None:
    path = corpus / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


BAD_FILES = {
    "latin1.md": (b"# Caf\xe9\n\nText.", "not UTF-8", 1),
    "binary.md": (b"\x89PNG\r\n\x00\x00\x00", "binary", None),
    "empty.md": (b"", "empty", None),
    "broken.md": (b"---\ntitle: [x\n---\nbody", "not valid YAML", None),
    "list.md": (b"---\n- 1\n---\nbody", "must be a mapping", 2),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_named_and_stops_the_load(small_corpus, name):
    data, message, line = BAD_FILES[name]
    _write(small_corpus, name, data)
    with pytest.raises(CorpusError) as error:
        load_corpus(small_corpus)
    assert name in str(error.value) and message in str(error.value)
    assert "--skip-invalid" in str(error.value)
    if line:
        assert f"{name}:{line}" in str(error.value)


def test_skip_invalid_keeps_the_good_guides_and_lists_the_bad(small_corpus):
    for name, (data, _, _) in BAD_FILES.items():
        _write(small_corpus, name, data)
    documents, problems = load_corpus(small_corpus, skip_invalid=True)
    assert sorted(doc.doc_id for doc in documents) == ["lecturer", "phd"]
    assert sorted(problem.path for problem in problems) == sorted(BAD_FILES)


def test_duplicate_ids_are_reported(small_corpus):
    _write(small_corpus, "lecturer.txt", "Another Lecturer Guide\nText here.\n")
    with pytest.raises(CorpusError, match="duplicate guide id 'lecturer'"):
        load_corpus(small_corpus)


def test_a_20_megabyte_file_is_refused_by_name(small_corpus):
    _write(small_corpus, "huge.md", b"# Huge\n\n" + b"word " * (4 * 1024 * 1024))
    with pytest.raises(CorpusError, match=r"huge.md: the file is 21.0 MB, over the 5 MB limit"):
        load_corpus(small_corpus)


def test_a_file_without_read_permission_is_named(small_corpus, monkeypatch):
    # Tests run as root in CI, where chmod cannot make a file unreadable; raise what open() would.
    _write(small_corpus, "secret.md", "# Secret\n\nText.")
    real_read = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "secret.md":
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(CorpusError, match="secret.md: cannot read the file \\(Permission denied\\)"):
        load_corpus(small_corpus)


def test_an_unreadable_path_is_named(small_corpus):
    # A directory named like a guide cannot be read as a file, for root too.
    (small_corpus / "folder.md").mkdir()
    (small_corpus / "link.md").symlink_to(small_corpus / "missing-target.md")
    with pytest.raises(CorpusError, match="link.md: cannot read the file"):
        load_corpus(small_corpus)


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_hidden_and_other_files_are_ignored(small_corpus):
    _write(small_corpus, ".draft.md", "# Draft\n\ntext")
    _write(small_corpus, "notes.pdf", b"%PDF")
    documents, _ = load_corpus(small_corpus)
    assert len(documents) == 2


def test_role_names_come_from_front_matter():
    text = "---\ntitle: T\nrole: dean\nlabel: faculty dean\naliases: [deans, deanship]\nhints: provost\nprerequisite: false\n---\nBody text."
    guide = parse_guide(text, "dean.md")
    assert guide.label == "faculty dean" and guide.aliases == ("deans", "deanship") and guide.hints == ("provost",)
    assert parse_guide("---\ntitle: T\nrole: data-scientist\n---\nBody.", "d.md").label == "data scientist"
    with pytest.raises(ParseError, match="'prerequisite' must be true or false"):
        parse_guide("---\ntitle: T\nprerequisite: maybe\n---\nBody.", "d.md")


def test_control_characters_are_taken_out_of_guide_text(small_corpus):
    """Escape sequences (colour, OSC 8 hyperlinks) would be commands to a terminal printing an answer."""
    from guide.ingest.corpus import read_guide

    path = small_corpus / "lecturer.md"
    path.write_text("---\ntitle: Lecturer\n---\n\nLecturers \x1b[31mteach\x1b[0m. See \x1b]8;;http://x\x07here\x1b]8;;\x07.\tEnd\n")
    document = read_guide(path)
    assert "\x1b" not in document.text and "\x07" not in document.text
    assert "Lecturers teach. See here.\tEnd" in document.text
