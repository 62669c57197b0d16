"""One suite for every vector store: FAISS exact, FAISS HNSW, and a test-only numpy store,
each checked against brute-force cosine; then the engine's retrieval run on each store."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from guide.cli import main
from guide.config import IndexSettings
from guide.engine import Engine
from guide.errors import ConfigError
from guide.index import build_index, load_index
from guide.index.stores import STORES, FaissStore, index_parameters, store_class
from tests.exact_store import ExactStore
from tests.helpers import make_settings

ROLES = ("lecturer", "phd", "researcher")


@pytest.fixture(autouse=True)
def exact_store_registered(monkeypatch):
    monkeypatch.setitem(STORES, "exact", ExactStore)  # the one registry line a new store needs


def _vectors(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# (store name, parameters): exact FAISS, an HNSW graph searched wide enough to be exact at this
# size, and the test-only store.
KINDS = {
    "faiss-flat": ("faiss", {"type": "flat"}),
    "faiss-hnsw": ("faiss", {**index_parameters(1, IndexSettings(exact_max_chunks=0, hnsw_ef_search=400))}),
    "exact": ("exact", {"type": "flat"}),
}


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return KINDS[request.param]


def _build(kind, vectors, labels):
    name, parameters = kind
    return store_class(name).build(vectors, labels, parameters)


def _brute(vectors, queries, k, rows=None):
    rows = np.arange(len(vectors)) if rows is None else np.asarray(rows)
    scores = queries @ vectors[rows].T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), rows[order]


def test_search_finds_the_brute_force_nearest_rows(kind):
    vectors, queries = _vectors(300), _vectors(6, seed=1)
    labels = [ROLES[i % 3] for i in range(300)]
    store = _build(kind, vectors, labels)
    scores, rows = store.search(queries, 10)
    expected_scores, expected_rows = _brute(vectors, queries, 10)
    assert rows.shape == (6, 10)
    assert np.array_equal(rows, expected_rows)
    assert np.allclose(scores, expected_scores, atol=1e-5)
    # One query given as a vector is one row of results.
    assert np.array_equal(store.search(queries[0], 3)[1], expected_rows[:1, :3])


def test_a_label_filter_returns_only_those_rows_best_first(kind):
    vectors, queries = _vectors(300), _vectors(4, seed=2)
    labels = [ROLES[i % 3] for i in range(300)]
    store = _build(kind, vectors, labels)
    allowed = [i for i, label in enumerate(labels) if label in ("phd", "researcher")]
    scores, rows = store.search(queries, 7, labels=["phd", "researcher"])
    assert {labels[row] for row in rows.ravel()} <= {"phd", "researcher"}
    expected_scores, expected_rows = _brute(vectors, queries, 7, allowed)
    assert np.array_equal(rows, expected_rows)
    assert np.allclose(scores, expected_scores, atol=1e-5)
    # A label that no row carries finds nothing; a rare one finds all of its rows.
    assert store.search(queries, 5, labels=["dean"])[1].size == 0
    rare = _build(kind, vectors, ["phd"] * 299 + ["dean"])
    assert rare.search(queries, 5, labels=["dean"])[1].tolist() == [[299]] * 4


def test_similarities_are_exact_inner_products_of_the_rows_asked(kind):
    vectors, queries = _vectors(50), _vectors(3, seed=3)
    store = _build(kind, vectors, ["phd"] * 50)
    assert np.allclose(store.similarities(queries), vectors @ queries.T, atol=1e-5)
    assert np.allclose(store.similarities(queries, [7, 2, 7]), vectors[[7, 2, 7]] @ queries.T, atol=1e-5)
    assert store.similarities(queries[0], []).shape == (0, 1)


def test_an_exact_faiss_store_holds_its_vectors_once_after_a_search(tmp_path):
    import gc
    import weakref

    path = tmp_path / "vectors.npy"
    np.save(path, _vectors(500))
    given = np.load(path, mmap_mode="r")  # as the index loads its chunk vectors
    store = FaissStore.load(tmp_path, "vectors", given, ["phd"] * 500, {"type": "flat"})
    expected = np.array(given)
    released = weakref.ref(given)
    del given
    assert released() is not None  # kept until a search needs FAISS
    store.search(expected[7], 3)
    gc.collect()
    assert released() is None  # FAISS's copy is the only one now
    assert np.array_equal(store.vectors(), expected)
    assert np.allclose(store.similarities(expected[7])[7], 1.0, atol=1e-5)


def test_saved_and_loaded_it_answers_the_same(kind, tmp_path):
    vectors, queries = _vectors(200), _vectors(5, seed=4)
    labels = [ROLES[i % 3] for i in range(200)]
    store = _build(kind, vectors, labels)
    written = store.save(tmp_path, "chunk_vectors")
    assert all((tmp_path / name).is_file() and name.startswith("chunk_vectors") for name in written)
    name, parameters = kind
    loaded = store_class(name).load(tmp_path, "chunk_vectors", vectors, labels, parameters)
    for filtered in ((), ("lecturer",)):
        assert np.array_equal(loaded.search(queries, 8, filtered)[1], store.search(queries, 8, filtered)[1])
    described = loaded.describe()
    assert described["store"] == name and described["type"] == parameters["type"]
    assert described["size"] == 200 and described["dimension"] == 32


def test_more_rows_asked_than_stored(kind):
    vectors = _vectors(4)
    store = _build(kind, vectors, ["phd"] * 4)
    _, rows = store.search(vectors[0], 10)
    assert sorted(int(row) for row in rows.ravel() if row >= 0) == [0, 1, 2, 3]


def test_an_unknown_store_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError, match="Unknown vector store 'nope' .*exact, faiss"):
        store_class("nope")
    assert FaissStore.name == "faiss"


# ---------------------------------------------------------------- the engine on each store


def _engine_on(store, folder, corpus, embedder):
    settings = make_settings(folder, corpus, **{"index.store": store})
    build_index(settings, embedder)
    index = load_index(settings.index_dir)
    assert index.manifest["stores"]["chunks"]["store"] == index.manifest["stores"]["spans"]["store"] == store
    return Engine(settings, embedder, index)


@pytest.mark.parametrize("store", ["faiss", "exact"])
def test_retrieval_on_each_store_filters_by_role_and_finds_the_passage(store, tmp_path, small_corpus, fake_embedder):
    engine = _engine_on(store, tmp_path, small_corpus, fake_embedder)
    _, hits = engine.search("GPA admits master's degree", roles=["lecturer"], k=5)
    assert hits and {hit.chunk.role for hit in hits} == {"lecturer"}
    _, hits = engine.search("What GPA do PhD admits have?", k=3)
    assert hits[0].chunk.doc_id == "phd" and "GPA above 3.5" in hits[0].chunk.text


def test_the_engine_answers_the_same_on_the_exact_store_as_on_faiss(tmp_path, small_corpus, fake_embedder):
    reference = _engine_on("faiss", tmp_path / "faiss", small_corpus, fake_embedder)
    engine = _engine_on("exact", tmp_path / "exact", small_corpus, fake_embedder)
    for question, roles in [
        ("What GPA do PhD admits have?", ()),
        ("salary of lecturers", ()),
        ("GPA admits master's degree", ("lecturer",)),
    ]:
        _, expected = reference.search(question, roles=roles, k=3)
        _, hits = engine.search(question, roles=roles, k=3)
        assert [(hit.row, round(hit.score, 5)) for hit in hits] == [(hit.row, round(hit.score, 5)) for hit in expected]
        assert engine.ask(question, roles=roles).to_json() == reference.ask(question, roles=roles).to_json()


def test_a_store_is_chosen_in_guide_yaml_and_a_wrong_name_stops_the_build(tmp_path, small_corpus):
    config = tmp_path / "guide.yaml"
    folders = ["--corpus", str(small_corpus), "--index", str(tmp_path / "index"), "--config", str(config)]
    config.write_text("index:\n  store: exact\n")
    result = CliRunner().invoke(main, [*folders, "build"], env={"GUIDE_MODEL": "fake"})
    assert result.exit_code == 0, result.output
    status = CliRunner().invoke(main, [*folders, "status", "--json"], env={"GUIDE_MODEL": "fake"})
    assert '"store": "exact"' in status.stdout
    config.write_text("index:\n  store: nope\n")
    result = CliRunner().invoke(main, [*folders, "build", "--force"], env={"GUIDE_MODEL": "fake"})
    assert result.exit_code == 1 and "Unknown vector store 'nope'" in result.stderr
    assert not list((tmp_path / "index").glob(".tmp-*"))
    # The last good index is untouched.
    assert load_index(tmp_path / "index").manifest["stores"]["chunks"]["store"] == "exact"
