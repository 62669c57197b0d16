"""The engine's plumbing with the fake embedder: caching, reranking, reload, bad questions."""

from __future__ import annotations

import numpy as np
import pytest

from guide.config import apply_overrides
from guide.engine import Engine
from guide.errors import ModelError
from guide.index import build_index, load_index
from tests.helpers import make_settings


class ReversingReranker:
    """Scores the last passage highest, so a reranked list is the plain one reversed."""

    names: list[str] = []

    def __init__(self, name: str) -> None:
        self.names.append(name)

    def score(self, question, passages):
        return np.arange(len(passages), dtype=np.float32)


def small_engine_with(tmp_path, corpus, embedder, **overrides) -> Engine:
    settings = make_settings(tmp_path, corpus, **{"answer.refusal_threshold": 0.0, **overrides})
    build_index(settings, embedder)
    return Engine(settings, embedder, load_index(settings.index_dir), reranker=ReversingReranker)


@pytest.fixture
def small_engine(tmp_path, small_corpus, fake_embedder):
    settings = make_settings(tmp_path, small_corpus, **{"answer.refusal_threshold": 0.0})
    build_index(settings, fake_embedder)
    return Engine(settings, fake_embedder, load_index(settings.index_dir))


def test_query_embeddings_are_cached_and_new_ones_batched(small_engine, fake_embedder):
    fake_embedder.calls.clear()
    first = small_engine.embed_many(["alpha", "beta"])
    again = small_engine.embed_many(["beta", "alpha", "gamma"])
    assert fake_embedder.calls == [2, 1]
    assert np.array_equal(first[0], again[1]) and np.array_equal(first[1], again[0])


def test_an_optional_reranker_reorders_the_passages(tmp_path, small_corpus, fake_embedder):
    plain_engine = small_engine_with(tmp_path / "plain", small_corpus, fake_embedder)
    reranking = small_engine_with(tmp_path / "reranked", small_corpus, fake_embedder,
                                  **{"retrieval.reranker": "my-cross-encoder"})
    _, plain = plain_engine.search("salary of lecturers", k=3)
    _, reranked = reranking.search("salary of lecturers", k=3)
    assert "my-cross-encoder" in ReversingReranker.names
    assert [hit.row for hit in reranked] == [hit.row for hit in reversed(plain)]
    assert [hit.rank for hit in reranked] == [1, 2, 3]
    # Scores stay on retrieval's scale, best first, so answers can mix them with similarities;
    # the cross-encoder's own score is kept beside them.
    assert [hit.score for hit in reranked] == [hit.score for hit in plain]
    assert [hit.reranked for hit in reranked] == [2.0, 1.0, 0.0] and plain[0].reranked is None


def test_the_reranker_keeps_the_word_coverage_that_refusals_use(tmp_path, small_corpus, fake_embedder):
    plain_engine = small_engine_with(tmp_path / "plain", small_corpus, fake_embedder)
    reranking = small_engine_with(tmp_path / "reranked", small_corpus, fake_embedder,
                                  **{"retrieval.reranker": "my-cross-encoder"})
    question = plain_engine.interpret("How do I become an airline pilot?")
    plain = plain_engine.retrieve(question)
    reranked = reranking.retrieve(question)
    assert plain.coverage < 1.0 and reranked.coverage == plain.coverage


def test_a_missing_reranker_is_a_clear_model_error(small_engine):
    small_engine.settings = apply_overrides(small_engine.settings, {"retrieval.reranker": "/nowhere/cross-encoder"})
    with pytest.raises(ModelError, match="Cannot load the reranker '/nowhere/cross-encoder' offline"):
        small_engine.search("salary", k=2)


def test_reload_picks_up_a_rebuilt_index(small_engine, fake_embedder, small_corpus):
    (small_corpus / "postdoc.md").write_text(
        "---\ntitle: Postdoc\nrole: postdoc\n---\n\n# Postdoc\n\nPostdocs study zebras.\n"
    )
    build_index(small_engine.settings, fake_embedder)
    assert "postdoc" not in small_engine.index.documents
    small_engine.reload()
    assert "postdoc" in small_engine.index.documents
    assert small_engine.search("zebras", k=1)[1][0].chunk.doc_id == "postdoc"


def test_role_filter_is_hard_and_role_preference_soft(small_engine):
    _, filtered = small_engine.search("GPA admits master's degree", roles=["lecturer"], k=5)
    assert filtered and {hit.chunk.role for hit in filtered} == {"lecturer"}
    _, preferred = small_engine.search("What salary do lecturers earn?", k=5)
    assert preferred[0].chunk.role == "lecturer"


def test_refresh_switches_to_a_newly_published_index_and_keeps_a_good_one(small_engine, fake_embedder, small_corpus):
    from guide.index.storage import current_generation

    assert small_engine.refresh() is False  # nothing new
    (small_corpus / "postdoc.md").write_text("---\ntitle: Postdoc\nrole: postdoc\n---\n\n# Postdoc\n\nPostdocs study zebras.\n")
    build_index(small_engine.settings, fake_embedder)
    assert small_engine.refresh() is True
    assert small_engine.index.path == current_generation(small_engine.settings.index_dir)
    assert small_engine.search("zebras", k=1)[1][0].chunk.doc_id == "postdoc"
    # A published generation that cannot be loaded leaves the engine on the one it has.
    loaded = small_engine.index.path
    (small_corpus / "postdoc.md").write_text("---\ntitle: Postdoc\nrole: postdoc\n---\n\n# Postdoc\n\nPostdocs study owls.\n")
    build_index(small_engine.settings, fake_embedder)
    broken = current_generation(small_engine.settings.index_dir)
    (broken / "chunks.jsonl").write_text("damaged")
    assert small_engine.refresh() is False and small_engine.index.path == loaded
    assert small_engine.search("zebras", k=1)[1][0].chunk.doc_id == "postdoc"


def test_a_stream_shows_its_stages_then_the_answer_ask_gives(small_engine):
    from guide.answer.base import Final, Stage

    events = list(small_engine.stream("What qualifications does a lecturer need?"))
    assert [e.name for e in events if isinstance(e, Stage)] == ["understanding", "searching", "writing"]
    assert isinstance(events[-1], Final) and sum(isinstance(e, Final) for e in events) == 1
    assert events[-1].answer == small_engine.ask("What qualifications does a lecturer need?")
    assert small_engine.active == 0


def test_a_refused_stream_ends_without_writing(small_engine):
    from guide.answer.base import Stage

    events = list(small_engine.stream("   "))
    assert [e.name for e in events if isinstance(e, Stage)] == ["understanding"]
    assert events[-1].answer.refused
