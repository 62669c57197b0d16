"""A damaged or hostile index is always seen: `guide status`, `guide ask`, the app and a replica agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from guide.index import build_index
from guide.index.embedding import FakeEmbedder
from tests.helpers import ROOT, make_settings


@pytest.fixture
def built(tmp_path, small_corpus):
    settings = make_settings(tmp_path, small_corpus)
    build_index(settings, FakeEmbedder())
    return settings


def _guide(settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GUIDE_CORPUS_DIR": str(settings.corpus_dir),
        "GUIDE_INDEX_DIR": str(settings.index_dir),
        "GUIDE_MODEL": "fake",
    }
    command = [sys.executable, "-m", "guide.cli", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _generation(settings) -> Path:
    return settings.index_dir / (settings.index_dir / "CURRENT").read_text().strip()


def test_status_checks_the_checksums_so_a_truncated_vector_file_is_damage_not_fresh(built):
    assert _guide(built, "status", "--quiet").returncode == 0
    os.truncate(_generation(built) / "chunk_vectors.npy", 100)
    result = _guide(built, "status")
    assert result.returncode == 2, result.stdout
    assert "chunk_vectors.npy is damaged" in result.stderr and "fresh" not in result.stdout
    assert _guide(built, "ask", "What do lecturers need?").returncode == 2


@pytest.mark.parametrize(
    "pointer",
    [b"\xff\xfegen", b"gen-\x00x", b"a" * 5_000_000, b"../../etc", b""],
    ids=["not-utf8", "nul", "huge", "outside", "empty"],
)
def test_an_unreadable_pointer_is_a_damaged_index_everywhere(built, pointer):
    (built.index_dir / "CURRENT").write_bytes(pointer)
    for args in (("status",), ("ask", "What do lecturers need?")):
        result = _guide(built, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "CURRENT" in result.stderr and "guide build" in result.stderr and "Traceback" not in result.stderr


def test_a_pipe_for_a_pointer_or_a_manifest_does_not_hang(built):
    generation = _generation(built)
    (generation / "manifest.json").unlink()
    os.mkfifo(generation / "manifest.json")
    result = _guide(built, "status", timeout=30)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    (built.index_dir / "CURRENT").unlink()
    os.mkfifo(built.index_dir / "CURRENT")
    result = _guide(built, "ask", "What do lecturers need?", timeout=30)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def _rewrite_manifest(settings, change) -> None:
    path = _generation(settings) / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(change(manifest)) if callable(change) else change)


@pytest.mark.parametrize(
    ("change", "status_sees_it"),
    [
        ("[" * 100_000 + "]" * 100_000, True),
        (lambda m: {**m, "checksums": {**m["checksums"], "../../../../dev/zero": "0"}}, True),
        (lambda m: {**m, "checksums": {k: v for k, v in m["checksums"].items() if k != "documents.jsonl"}}, True),
        (lambda m: {**m, "files": ["a.md"]}, True),
        (lambda m: {**m, "stores": {"chunks": 5, "spans": 5}}, False),  # seen by loading
    ],
    ids=["nested", "outside", "unlisted", "files-list", "stores"],
)
def test_a_hostile_manifest_is_a_damaged_index(built, change, status_sees_it):
    from guide.errors import IndexCorruptError
    from guide.index import index_status, load_index

    _rewrite_manifest(built, change)
    assert (index_status(built).error is not None) == status_sees_it
    with pytest.raises(IndexCorruptError):
        load_index(built.index_dir)
    result = _guide(built, "ask", "What do lecturers need?", timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_a_replica_started_on_a_damaged_pointer_says_why_it_is_not_ready(built, tmp_path, monkeypatch):
    from guide.serve import replica

    (built.index_dir / "CURRENT").write_bytes(b"\xff\xfegen")
    for name, value in {
        "GUIDE_CORPUS_DIR": str(built.corpus_dir),
        "GUIDE_INDEX_DIR": str(built.index_dir),
        "GUIDE_MODEL": "fake",
        "GUIDE_FEEDBACK_URL": f"sqlite:///{tmp_path / 'feedback.db'}",
        "GUIDE_FEEDBACK_SPOOL": str(tmp_path / "spool.jsonl"),
    }.items():
        monkeypatch.setenv(name, value)
    health = replica.Health()
    failed: list[BaseException] = []

    def load() -> None:
        try:
            replica.load_until_ready(health, retry_seconds=0.2)
        except BaseException as error:  # what would kill the replica's loader
            failed.append(error)

    threading.Thread(target=load, daemon=True).start()
    deadline = time.monotonic() + 20
    while "damaged" not in health.reason and not failed and time.monotonic() < deadline:
        threading.Event().wait(0.1)
    assert not failed, failed
    status, body = health.state()
    assert status == 503 and "CURRENT is damaged" in body["reason"]
    # Mended: it loads and turns ready (the loader thread ends).
    (built.index_dir / "CURRENT").write_text(sorted(p.name for p in built.index_dir.glob("gen-*"))[-1] + "\n")
    deadline = time.monotonic() + 20
    while replica.serving.preloaded() is None and time.monotonic() < deadline:
        threading.Event().wait(0.1)
    assert replica.serving.preloaded() is not None
    replica.serving.preload(None)
