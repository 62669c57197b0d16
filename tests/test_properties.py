"""Property-based tests: the parsers and the chunker never fail unexpectedly and lose no text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guide.ask.interpret import clean_question, interpret
from guide.ask.kinds import KINDS
from guide.ask.lexicon import Lexicon
from guide.config import ChunkingSettings
from guide.ingest.chunking import chunk_document, split_sections
from guide.ingest.collection import load_collection
from guide.ingest.corpus import ParseError, load_corpus, parse_front_matter, parse_guide
from tests.helpers import CORPUS

ROLES = ["assistant-professor", "clinical-professor", "lecturer", "phd", "researcher"]
LEXICON = Lexicon(load_corpus(CORPUS)[0], load_collection(CORPUS))

line = st.one_of(
    st.text(min_size=0, max_size=80),
    st.sampled_from(
        ["---", "# Title", "## Section", "### Sub", "- item one", "* item", "title: x", "role: phd", "```", ""]
    ),
    st.builds(
        lambda words: " ".join(words) + ".",
        st.lists(
            st.sampled_from(["PhD", "lecturer", "e.g.", "U.S.", "3.5", "word", "Yes!", "why?"]), min_size=1, max_size=12
        ),
    ),
)
documents = st.lists(line, max_size=40).map("\n".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents)
def test_front_matter_parser_raises_only_parse_errors(text):
    try:
        meta, body, offset = parse_front_matter(text)
    except ParseError as error:
        assert str(error)
        return
    assert isinstance(meta, dict) and isinstance(body, str) and offset >= 0


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents, st.sampled_from(["guide.md", "guide.txt"]))
def test_guide_parser_raises_only_parse_errors(text, name):
    try:
        document = parse_guide(text, name)
    except ParseError as error:
        assert str(error)
        return
    assert document.title and document.text.strip()


def _words_outside_headings(text: str) -> list[tuple[int, int]]:
    sections = split_sections(text)
    spans = []
    for section in sections:
        for match in re.finditer(r"\w+", text[section.start : section.end]):
            spans.append((section.start + match.start(), section.start + match.end()))
    return spans


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents, st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=3))
def test_chunks_cover_every_word_and_point_at_their_text(text, max_chars, overlap):
    try:
        document = parse_guide(text, "guide.md")
    except ParseError:
        return
    chunks = chunk_document(document, ChunkingSettings(max_chars=max_chars, overlap_sentences=overlap))
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()
    covered = [(chunk.start, chunk.end) for chunk in chunks]
    for start, end in _words_outside_headings(document.text):
        assert any(a <= start and end <= b for a, b in covered), document.text[start:end]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.lists(st.text(max_size=60), max_size=3))
def test_any_question_and_history_can_be_interpreted(question, history):
    cleaned, _ = clean_question(question, 200)
    understood = interpret(LEXICON.correct(cleaned), [LEXICON.correct(turn) for turn in history], LEXICON)
    assert isinstance(understood.query, str) and understood.kind in KINDS
    assert set(understood.roles) <= set(ROLES)
