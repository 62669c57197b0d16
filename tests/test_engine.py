"""The engine's plumbing with the fake embedder: caching, reranking, reload, bad questions."""

from __future__ import annotations

import numpy as np
import pytest

import guide.engine as engine_module
from guide.config import apply_overrides
from guide.engine import Engine
from guide.errors import ModelError
from guide.index import build_index, load_index
from tests.conftest import make_settings


@pytest.fixture
def engine(tmp_path, small_corpus, fake_embedder):
    settings = make_settings(tmp_path, small_corpus, **{"answer.refusal_threshold": 0.0})
    build_index(settings, fake_embedder)
    return Engine(settings, fake_embedder, load_index(settings.index_dir))


def test_query_embeddings_are_cached_and_new_ones_batched(engine, fake_embedder):
    fake_embedder.calls.clear()
    first = engine.embed_many(["alpha", "beta"])
    again = engine.embed_many(["beta", "alpha", "gamma"])
    assert fake_embedder.calls == [2, 1]
    assert np.array_equal(first[0], again[1]) and np.array_equal(first[1], again[0])


def test_an_optional_reranker_reorders_the_passages(engine, monkeypatch):
    class ReversingReranker:
        def __init__(self, name: str) -> None:
            assert name == "my-cross-encoder"

        def score(self, question, passages):
            return np.arange(len(passages), dtype=np.float32)  # the last passage scores highest

    _, plain = engine.search("salary of lecturers", k=3)
    monkeypatch.setattr(engine_module, "CrossEncoderReranker", ReversingReranker)
    engine.settings = apply_overrides(engine.settings, {"retrieval.reranker": "my-cross-encoder"})
    _, reranked = engine.search("salary of lecturers", k=3)
    assert [hit.row for hit in reranked] == [hit.row for hit in reversed(plain)]
    assert [hit.rank for hit in reranked] == [1, 2, 3]


def test_the_reranker_keeps_the_word_coverage_that_refusals_use(engine, monkeypatch):
    class ReversingReranker:
        def __init__(self, name: str) -> None:
            pass

        def score(self, question, passages):
            return np.arange(len(passages), dtype=np.float32)

    question = engine.interpret("How do I become an airline pilot?")
    plain = engine.retrieve(question)
    monkeypatch.setattr(engine_module, "CrossEncoderReranker", ReversingReranker)
    engine.settings = apply_overrides(engine.settings, {"retrieval.reranker": "my-cross-encoder"})
    reranked = engine.retrieve(question)
    assert plain.coverage < 1.0 and reranked.coverage == plain.coverage


def test_a_missing_reranker_is_a_clear_model_error(engine):
    engine.settings = apply_overrides(engine.settings, {"retrieval.reranker": "/nowhere/cross-encoder"})
    with pytest.raises(ModelError, match="Cannot load the reranker '/nowhere/cross-encoder' offline"):
        engine.search("salary", k=2)


def test_reload_picks_up_a_rebuilt_index(engine, fake_embedder, small_corpus):
    (small_corpus / "postdoc.md").write_text(
        "---\ntitle: Postdoc\nrole: postdoc\n---\n\n# Postdoc\n\nPostdocs study zebras.\n"
    )
    build_index(engine.settings, fake_embedder)
    assert "postdoc" not in engine.index.documents
    engine.reload()
    assert "postdoc" in engine.index.documents
    assert engine.search("zebras", k=1)[1][0].chunk.doc_id == "postdoc"


def test_role_filter_is_hard_and_role_preference_soft(engine):
    _, filtered = engine.search("GPA admits master's degree", roles=["lecturer"], k=5)
    assert filtered and {hit.chunk.role for hit in filtered} == {"lecturer"}
    _, preferred = engine.search("What salary do lecturers earn?", k=5)
    assert preferred[0].chunk.role == "lecturer"
