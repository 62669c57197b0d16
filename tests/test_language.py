"""The language seam: a corpus's language, named in its collection file, decides how questions are
read and answers phrased; an unknown one is a clear error."""

from __future__ import annotations

import pytest

from guide.engine import Engine
from guide.errors import GuideError
from guide.index import build_index, load_index
from tests.helpers import make_settings


def _engine(tmp_path, corpus, fake_embedder, language: str) -> Engine:
    (corpus / "collection.yaml").write_text(f"language: {language}\n", encoding="utf-8")
    settings = make_settings(tmp_path, corpus, **{"answer.refusal_threshold": 0.0})
    build_index(settings, fake_embedder)
    return Engine(settings, fake_embedder, load_index(settings.index_dir))


def test_a_second_language_is_one_module_named_in_the_collection_file(tmp_path, small_corpus, fake_embedder):
    engine = _engine(tmp_path, small_corpus, fake_embedder, "tests.tiny_language")
    assert engine.library.language.NAME == "Tiny"
    # Its own wording of a kind: "route" asks what a role takes; English's "How do I become" does not.
    assert engine.interpret("route lecturer").kind == "overview"
    assert engine.interpret("What qualifications do lecturers need?").kind == "fact"
    answer = engine.ask("route lecturer")
    assert answer.kind == "overview" and answer.text.startswith("Route to lecturer:")



def test_the_tiny_language_phrases_refusals_and_silent_guides(tmp_path, small_corpus, fake_embedder):
    (small_corpus / "collection.yaml").write_text("language: tests.tiny_language\n", encoding="utf-8")
    settings = make_settings(tmp_path, small_corpus)
    build_index(settings, fake_embedder)
    engine = Engine(settings, fake_embedder, load_index(settings.index_dir))
    assert engine.ask("What qualifications do lecturers need?").kind == "fact"
    refused = engine.ask("How do I bake sourdough bread?")
    assert refused.refused and refused.text.startswith("Nothing on that. Nearest: ")
    english = make_settings(tmp_path / "en", small_corpus)
    (small_corpus / "collection.yaml").write_text("language: en\n", encoding="utf-8")
    build_index(english, fake_embedder)
    plain = Engine(english, fake_embedder, load_index(english.index_dir))
    assert plain.ask("What qualifications do lecturers need?").kind == "overview"
    refused = plain.ask("How do I bake sourdough bread?")
    assert refused.refused and refused.text.startswith("I could not find an answer")


def test_an_unknown_language_is_refused_naming_the_key(tmp_path, small_corpus, fake_embedder):
    (small_corpus / "collection.yaml").write_text("language: klingon\n", encoding="utf-8")
    settings = make_settings(tmp_path, small_corpus)
    with pytest.raises(GuideError, match="language"):
        build_index(settings, fake_embedder)
