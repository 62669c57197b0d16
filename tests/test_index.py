from __future__ import annotations

import json

import numpy as np
import pytest

from guide.errors import BuildLockedError, CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError
from guide.index import build_index, build_lock, current_generation, index_status, load_index
from tests.helpers import make_settings


@pytest.fixture
def settings(tmp_path, small_corpus):
    return make_settings(tmp_path, small_corpus)


def test_manifest_records_model_settings_hashes_counts_and_time(settings, fake_embedder):
    report = build_index(settings, fake_embedder)
    generation = current_generation(settings.index_dir)
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["model"] == "fake" and manifest["dimension"] == 64
    assert manifest["chunking"] == {"max_chars": 1000, "overlap_sentences": 1, "context_headers": True}
    assert set(manifest["files"]) == {"lecturer.md", "phd.md"}
    assert all(len(digest) == 64 for digest in manifest["files"].values())
    assert manifest["counts"] == {"documents": 2, "chunks": report.chunks, "spans": report.spans}
    assert manifest["built_at"].endswith("+00:00")
    assert manifest["index"] == {"store": "faiss", "type": "flat", "size": report.chunks, "dimension": 64}
    assert manifest["stores"]["spans"] == {"store": "faiss", "type": "flat", "size": report.spans, "dimension": 64}
    assert set(manifest["checksums"]) >= {"chunks.jsonl", "chunk_vectors.npy", "span_vectors.npy", "documents.jsonl"}


def test_loaded_index_matches_the_build(settings, fake_embedder):
    build_index(settings, fake_embedder)
    index = load_index(settings.index_dir, model="fake")
    assert sorted(index.documents) == ["lecturer", "phd"]
    assert index.chunk_store.size == len(index.chunks) and index.span_store.size == len(index.spans)
    for chunk, (first, last) in zip(index.chunks, index.chunk_spans, strict=True):
        spans = index.spans[first:last]
        assert spans and all(chunk.start <= s.start and s.end <= chunk.end for s in spans)
        assert " ".join(s.text for s in spans) in chunk.text.replace("\n\n", " ") or spans[0].text in chunk.text


def test_search_agrees_with_brute_force_cosine(settings, fake_embedder):
    build_index(settings, fake_embedder)
    index = load_index(settings.index_dir)
    vectors = np.load(index.path / "chunk_vectors.npy")
    query = fake_embedder.encode(["GPA of admits"])[0]
    scores, rows = index.chunk_store.search(query, 3)
    expected = np.argsort(-(vectors @ query))[:3]
    assert rows[0].tolist() == expected.tolist()
    assert np.allclose(scores[0], np.sort(vectors @ query)[::-1][:3], atol=1e-6)


def test_missing_index(settings):
    with pytest.raises(IndexMissingError, match="guide build"):
        load_index(settings.index_dir)


def test_other_model_is_refused(settings, fake_embedder):
    build_index(settings, fake_embedder)
    with pytest.raises(IndexMismatchError, match="built with the model 'fake'"):
        load_index(settings.index_dir, model="other-model")


@pytest.mark.parametrize("name", ["chunks.jsonl", "chunk_vectors.npy", "span_vectors.npy", "documents.jsonl"])
def test_truncated_altered_or_missing_files_are_named(settings, fake_embedder, name):
    build_index(settings, fake_embedder)
    path = current_generation(settings.index_dir) / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match=f"{name} is damaged"):
        load_index(settings.index_dir)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(IndexCorruptError, match=f"{name} is damaged"):
        load_index(settings.index_dir)
    path.unlink()
    with pytest.raises(IndexCorruptError, match=f"{name} is missing"):
        load_index(settings.index_dir)


def test_damaged_manifest_and_pointer(settings, fake_embedder):
    build_index(settings, fake_embedder)
    generation = current_generation(settings.index_dir)
    (generation / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest .* is damaged"):
        load_index(settings.index_dir)
    (settings.index_dir / "CURRENT").write_text("../../etc")
    with pytest.raises(IndexCorruptError, match="CURRENT is damaged"):
        load_index(settings.index_dir)


def test_bad_corpus_leaves_the_old_index_untouched(settings, fake_embedder):
    build_index(settings, fake_embedder)
    before = {p.name: p.read_bytes() for p in current_generation(settings.index_dir).iterdir()}
    (settings.corpus_dir / "bad.md").write_bytes(b"\xff\xfe broken")
    with pytest.raises(CorpusError, match="bad.md"):
        build_index(settings, fake_embedder)
    after = {p.name: p.read_bytes() for p in current_generation(settings.index_dir).iterdir()}
    assert before == after
    report = build_index(settings, fake_embedder, skip_invalid=True)
    assert [problem.path for problem in report.skipped] == ["bad.md"]
    assert report.documents == 2


def test_status_reports_changed_added_and_removed_guides(settings, fake_embedder):
    assert not index_status(settings).exists
    build_index(settings, fake_embedder)
    assert index_status(settings).fresh
    (settings.corpus_dir / "phd.md").write_text((settings.corpus_dir / "phd.md").read_text() + "\nMore text.\n")
    (settings.corpus_dir / "new.md").write_text("# New\n\nNew guide text.\n")
    (settings.corpus_dir / "lecturer.md").unlink()
    status = index_status(settings)
    assert not status.fresh
    assert (status.changed, status.added, status.removed) == (["phd.md"], ["new.md"], ["lecturer.md"])


def test_incremental_rebuild_embeds_only_changed_chunks_and_equals_a_full_build(settings, fake_embedder, tmp_path):
    build_index(settings, fake_embedder)
    phd = settings.corpus_dir / "phd.md"
    phd.write_text(phd.read_text().replace("GPA above 3.5", "GPA above 3.7"))
    (settings.corpus_dir / "new.md").write_text("---\ntitle: New\nrole: new\n---\n\n# New\n\nBrand new text here.\n")
    fake_embedder.calls.clear()
    report = build_index(settings, fake_embedder)
    assert report.guides_changed == ["phd.md"] and report.guides_added == ["new.md"]
    assert report.chunks_reused >= 2 and report.chunks_added == 2 and report.chunks_removed == 1
    assert sum(fake_embedder.calls) == report.embedded < report.chunks + report.spans
    incremental = load_index(settings.index_dir)

    full_settings = make_settings(tmp_path / "full", settings.corpus_dir)
    build_index(full_settings, fake_embedder, force=True)
    full = load_index(full_settings.index_dir)
    assert incremental.chunks == full.chunks and incremental.spans == full.spans
    for name in ("chunk_vectors.npy", "span_vectors.npy"):
        assert np.array_equal(np.load(incremental.path / name), np.load(full.path / name))


def test_force_embeds_everything(settings, fake_embedder):
    build_index(settings, fake_embedder)
    report = build_index(settings, fake_embedder, force=True)
    assert report.chunks_reused == 0 and report.embedded == report.chunks + report.spans


def test_old_generations_are_pruned(settings, fake_embedder):
    for _ in range(4):
        build_index(settings, fake_embedder, force=True)
    generations = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert len(generations) == 2 and current_generation(settings.index_dir).name == generations[-1]


def test_a_second_build_at_the_same_time_is_refused(settings, fake_embedder):
    with build_lock(settings.index_dir):
        with pytest.raises(BuildLockedError, match="Another build"):
            build_index(settings, fake_embedder)


def test_large_corpora_get_an_hnsw_index(tmp_path, small_corpus, fake_embedder):
    settings = make_settings(tmp_path, small_corpus, **{"index.exact_max_chunks": 1})
    build_index(settings, fake_embedder)
    index = load_index(settings.index_dir)
    assert index.manifest["index"]["type"] == "hnsw"
    assert index.manifest["index"]["m"] == 32
    assert (index.path / "chunk_vectors.hnsw.faiss").exists()
    assert "chunk_vectors.hnsw.faiss" in index.manifest["checksums"]
    assert index.manifest["stores"]["spans"]["type"] == "flat"  # every sentence is scored exactly
    query = fake_embedder.encode(["GPA above 3.5"])[0]
    assert index.chunks[int(index.chunk_store.search(query, 1)[1][0][0])].doc_id == "phd"
