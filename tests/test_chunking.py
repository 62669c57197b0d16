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
