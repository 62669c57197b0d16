from __future__ import annotations

from guide.config import ChunkingSettings
from guide.ingest.chunking import chunk_document, document_spans, split_sections, split_sentences
from guide.ingest.corpus import parse_guide

TEXT = """# Guide

Intro sentence one. Intro sentence two.

## Pay

Lecturers earn $50k (e.g. in the U.S. market). Salaries rise 15-20% per promotion! Is it enough? Yes.

### Extras

- First item
- Second item. With two sentences.
"""


def test_sections_follow_the_heading_path():
    sections = split_sections(TEXT)
    assert [s.headings for s in sections] == [("Guide",), ("Guide", "Pay"), ("Guide", "Pay", "Extras")]
    assert TEXT[sections[1].start : sections[1].end].strip().startswith("Lecturers earn")


def test_sentences_respect_abbreviations_and_list_items():
    spans = split_sentences(TEXT)
    texts = [TEXT[a:b] for a, b in spans]
    assert "Lecturers earn $50k (e.g. in the U.S. market)." in texts
    assert "Salaries rise 15-20% per promotion!" in texts
    assert "Is it enough?" in texts
    assert "First item" in texts
    assert "With two sentences." in texts
    assert not any(text.startswith("- ") for text in texts)


def test_chunks_are_whole_sentences_within_size_with_offsets():
    doc = parse_guide(TEXT, "g.md")
    chunks = chunk_document(doc, ChunkingSettings(max_chars=90, overlap_sentences=1))
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 90
        assert chunk.text[-1] in ".!?m"  # ends at a sentence or item end
    pay = [c for c in chunks if c.section == "Pay"]
    assert len(pay) >= 2
    # Overlap: the second chunk of a section starts with the last sentence of the first.
    assert pay[1].start < pay[0].end
    assert chunks[0].context_text() == "Guide > Guide\nIntro sentence one. Intro sentence two."


def test_section_label_drops_the_guide_heading():
    doc = parse_guide(TEXT, "g.md")
    labels = [c.section for c in chunk_document(doc)]
    assert labels == ["Guide", "Pay", "Pay > Extras"]


def test_without_overlap_chunks_do_not_share_text():
    doc = parse_guide(TEXT, "g.md")
    chunks = chunk_document(doc, ChunkingSettings(max_chars=60, overlap_sentences=0))
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end <= after.start


def test_document_spans_cover_every_sentence():
    doc = parse_guide(TEXT, "g.md")
    spans = document_spans(doc)
    assert [s.text for s in spans][:2] == ["Intro sentence one.", "Intro sentence two."]
    assert all(doc.text[s.start : s.end] == s.text for s in spans)


def test_a_guide_of_many_sentences_on_one_line_builds_in_linear_time(tmp_path):
    """About 1 MB on one line (11,600 sentences): seconds now, minutes when each dot rescanned the line."""
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sentence = "A lecturer in statistics teaches e.g. regression and supervises Dr. Smith's students. "
    (corpus / "one-line.md").write_text("---\ntitle: One line\nrole: lecturer\n---\n" + sentence * 11_600 + "\n")
    env = {**os.environ, "GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(tmp_path / "index"), "GUIDE_MODEL": "fake"}
    command = [sys.executable, "-m", "guide.cli", "build", "--json"]
    # (A bound a hundred times the time it takes, so that the old quadratic split fails, not hangs.)
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"spans": 11600' in result.stdout
    spans = split_sentences(sentence * 11_600)
    assert len(spans) == 11_600 and (sentence * 11_600)[slice(*spans[1])] == sentence.strip()


def test_a_long_heading_like_line_is_read_in_linear_time():
    """A heading line padded with 100,000 spaces: instant now, minutes when its tail was retried per character."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    program = (
        "from guide.ingest.chunking import split_sections\n"
        "text = '# Title' + ' ' * 100_000 + 'end #\\n\\nBody text.\\n' + '## ' + '# ' * 100_000 + 'x\\n'\n"
        "print([s.headings for s in split_sections(text)])\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[(")
