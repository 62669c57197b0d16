"""Building, checking and loading the index folder.

Layout of `index/`: each build writes a generation folder `gen-*` (manifest.json, documents,
chunks, sentence spans, vectors) beside the live one, then points the one-line file `CURRENT`
at it with an atomic rename. A reader resolves `CURRENT` once and reads only that folder, so
a build killed at any moment leaves the previous index in place, and readers see the old
index or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from guide.chunking import Chunk, Span, chunk_document, document_spans
from guide.collection import COLLECTION_FILE, Collection, load_collection
from guide.config import Settings
from guide.corpus import Document, file_hashes, load_corpus
from guide.embedding import Embedder
from guide.errors import BuildLockedError, CorpusProblem, IndexCorruptError, IndexMismatchError, IndexMissingError
from guide.material import mark_material
from guide.vectors import VectorIndex, index_parameters

logger = logging.getLogger(__name__)

# 2: sentences carry `material`, guides their names, the manifest the collection file.
FORMAT_VERSION = 2
POINTER = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".build.lock"
ARTIFACTS = ("documents.jsonl", "chunks.jsonl", "spans.jsonl", "chunk_vectors.npy", "span_vectors.npy")
VECTOR_FILE = "chunks.faiss"
REBUILD_HINT = "Run `guide build` (or press Rebuild index in the app) to rebuild it."

Progress = Callable[[str, float], None]
# Held by the app while it rebuilds, so that its sessions start one rebuild at a time (the
# build lock, a file lock, keeps separate processes apart).
APP_REBUILD = threading.Lock()


@dataclass(frozen=True)
class LoadedIndex:
    """Everything a question needs, read from one generation folder; never changed once loaded."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    spans: list[Span]
    # For chunk i, the spans it contains are spans[chunk_spans[i][0]:chunk_spans[i][1]].
    chunk_spans: list[tuple[int, int]]
    span_vectors: np.ndarray
    vectors: VectorIndex

    @property
    def roles(self) -> list[str]:
        return sorted({doc.role for doc in self.documents.values()})

    @property
    def collection(self) -> Collection:
        """What the corpus said about itself when the index was built."""
        return Collection.from_json(self.manifest["collection"])


@dataclass
class BuildReport:
    """What a build did, for the CLI and the app."""

    path: Path
    documents: int = 0
    chunks: int = 0
    spans: int = 0
    guides_added: list[str] = field(default_factory=list)
    guides_changed: list[str] = field(default_factory=list)
    guides_removed: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_reused: int = 0
    embedded: int = 0
    skipped: list[CorpusProblem] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["path"] = str(self.path)
        data["skipped"] = [str(problem) for problem in self.skipped]
        return data


@dataclass(frozen=True)
class IndexStatus:
    """Whether an index exists, and whether the corpus or settings changed since it was built."""

    exists: bool
    fresh: bool
    manifest: dict[str, Any] | None
    changed: list[str]
    added: list[str]
    removed: list[str]
    reasons: list[str]
    error: str | None = None


# ---------------------------------------------------------------- keys


def chunk_key(model: str, settings: Settings, chunk: Chunk) -> str:
    """Cache key of a chunk embedding: model, chunker settings and the text with its context."""
    chunking = json.dumps(dataclasses.asdict(settings.chunking), sort_keys=True)
    return _sha256(f"chunk\0{model}\0{chunking}\0{embedding_text(chunk, settings)}")


def embedding_text(chunk: Chunk, settings: Settings) -> str:
    """The text embedded for a chunk: with its title and headings unless turned off."""
    return chunk.context_text() if settings.chunking.context_headers else chunk.text


def span_key(model: str, span: Span) -> str:
    return _sha256(f"span\0{model}\0{span_context(span)}")


def span_context(span: Span) -> str:
    """The text embedded for one sentence: its section heading, then the sentence."""
    return f"{span.section}: {span.text}" if span.section else span.text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- reading


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no index was built."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise IndexCorruptError(f"Cannot read {index_dir / POINTER}: {error}. {REBUILD_HINT}") from None
    if not name or "/" in name or name.startswith("."):
        raise IndexCorruptError(f"{index_dir / POINTER} is damaged (it names {name!r}). {REBUILD_HINT}")
    return index_dir / name


def read_manifest(generation: Path) -> dict[str, Any]:
    path = generation / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"The index file {path} is missing. {REBUILD_HINT}") from None
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index manifest {path} is damaged ({error}). {REBUILD_HINT}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION or "checksums" not in manifest:
        raise IndexCorruptError(f"The index manifest {path} is not a format-{FORMAT_VERSION} manifest. {REBUILD_HINT}")
    return manifest


def load_index(index_dir: Path, model: str | None = None) -> LoadedIndex:
    """Load and verify the live index.

    Args:
        index_dir: the index folder.
        model: the embedding model the caller will query with; a different one is an error.

    Raises:
        IndexMissingError: nothing has been built.
        IndexCorruptError: a file is missing, truncated or altered (checked against the manifest).
        IndexMismatchError: the index was built with another model.
    """
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"No index in {index_dir}. Run `guide build` to build it from the corpus.")
    manifest = read_manifest(generation)
    if model is not None and manifest.get("model") != model:
        raise IndexMismatchError(
            f"The index in {index_dir} was built with the model {manifest.get('model')!r}, "
            f"but the settings ask for {model!r}. {REBUILD_HINT}"
        )
    for name, expected in manifest["checksums"].items():
        _verify(generation / name, expected)
    documents = {
        record["doc_id"]: Document(**{**record, "aliases": tuple(record["aliases"]), "hints": tuple(record["hints"])})
        for record in _read_jsonl(generation / "documents.jsonl")
    }
    chunk_records = _read_jsonl(generation / "chunks.jsonl")
    chunks = [Chunk(**{key: record[key] for key in _CHUNK_FIELDS}) for record in chunk_records]
    spans = [Span(**record) for record in _read_jsonl(generation / "spans.jsonl")]
    span_vectors = _read_npy(generation / "span_vectors.npy")
    parameters = manifest["index"]
    try:
        if parameters["type"] == "flat":
            vectors = VectorIndex.build(_read_npy(generation / "chunk_vectors.npy", mmap=True), parameters)
        else:
            vectors = VectorIndex.read(generation / VECTOR_FILE, parameters)
    except (RuntimeError, ValueError, KeyError) as error:
        raise IndexCorruptError(f"The vector index in {generation} cannot be read ({error}). {REBUILD_HINT}") from None
    if vectors.size != len(chunks) or len(span_vectors) != len(spans):
        raise IndexCorruptError(f"The index in {generation} has mismatched record and vector counts. {REBUILD_HINT}")
    return LoadedIndex(
        path=generation,
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        spans=spans,
        chunk_spans=[tuple(record["spans"]) for record in chunk_records],
        span_vectors=span_vectors,
        vectors=vectors,
    )


_CHUNK_FIELDS = [f.name for f in dataclasses.fields(Chunk)]


def _verify(path: Path, expected: str) -> None:
    try:
        actual = _file_sha256(path)
    except FileNotFoundError:
        raise IndexCorruptError(f"The index file {path} is missing. {REBUILD_HINT}") from None
    except OSError as error:
        raise IndexCorruptError(f"Cannot read the index file {path}: {error}. {REBUILD_HINT}") from None
    if actual != expected:
        raise IndexCorruptError(
            f"The index file {path} is damaged (its checksum does not match the manifest). {REBUILD_HINT}"
        )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index file {path} cannot be read ({error}). {REBUILD_HINT}") from None


def _read_npy(path: Path, mmap: bool = False) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index file {path} cannot be read ({error}). {REBUILD_HINT}") from None


def index_status(settings: Settings) -> IndexStatus:
    """Compare the live index's manifest with the corpus files and current settings."""
    try:
        generation = current_generation(settings.index_dir)
        manifest = read_manifest(generation) if generation else None
    except IndexCorruptError as error:
        return IndexStatus(True, False, None, [], [], [], [str(error)], error=str(error))
    if manifest is None:
        return IndexStatus(False, False, None, [], [], [], ["no index has been built"])
    built = manifest.get("files", {})
    current = file_hashes(settings.corpus_dir)
    changed = sorted(name for name in built.keys() & current.keys() if built[name] != current[name])
    added = sorted(current.keys() - built.keys() - set(manifest.get("skipped", [])))
    removed = sorted(built.keys() - current.keys())
    reasons = []
    if changed or added or removed:
        reasons.append("the corpus changed since the index was built")
    if manifest.get("model") != settings.embedding.model:
        reasons.append(
            f"the model setting is {settings.embedding.model!r} but the index was built with {manifest.get('model')!r}"
        )
    if manifest.get("chunking") != dataclasses.asdict(settings.chunking):
        reasons.append("the chunking settings changed since the index was built")
    return IndexStatus(True, not reasons, manifest, changed, added, removed, reasons)


# ---------------------------------------------------------------- building


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; a second concurrent build fails at once."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(f"Another build of {index_dir} is running; wait for it to finish.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    settings: Settings,
    embedder: Embedder,
    force: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the index from the corpus, reusing the embeddings of unchanged chunks.

    The corpus is read and checked before anything is written; on any error the live index
    is left as it was.

    Args:
        settings: folders, model and chunker settings.
        embedder: the model to embed new or changed text with.
        force: embed everything again instead of reusing the previous index's vectors.
        skip_invalid: index the valid guides and report the bad ones instead of stopping.
        progress: called with a phase name and a fraction from 0 to 1.
    """
    started = time.perf_counter()
    report_progress = progress or (lambda phase, fraction: None)
    index_dir = settings.index_dir
    with build_lock(index_dir):
        report_progress("reading guides", 0.0)
        documents, skipped = load_corpus(settings.corpus_dir, skip_invalid=skip_invalid)
        collection = load_collection(settings.corpus_dir)
        chunks = [chunk for doc in documents for chunk in chunk_document(doc, settings.chunking)]
        spans = [span for doc in documents for span in mark_material(doc, document_spans(doc))]
        previous = None if force else _previous_vectors(index_dir)
        model = settings.embedding.model

        chunk_keys = [chunk_key(model, settings, chunk) for chunk in chunks]
        span_keys = [span_key(model, span) for span in spans]
        total = len(chunks) + len(spans)
        done = [0]

        def embed(texts: list[str]) -> np.ndarray:
            batches = []
            for first in range(0, len(texts), 256):
                batches.append(embedder.encode(texts[first : first + 256]))
                done[0] += len(batches[-1])
                report_progress("embedding", done[0] / max(total, 1))
            return np.concatenate(batches) if batches else np.zeros((0, embedder.dimension), np.float32)

        chunk_vectors, chunks_reused = _vectors_for(
            chunk_keys, [embedding_text(c, settings) for c in chunks], previous, "chunks", embed, embedder.dimension
        )
        span_vectors, spans_reused = _vectors_for(
            span_keys, [span_context(s) for s in spans], previous, "spans", embed, embedder.dimension
        )

        report_progress("indexing", 0.9)
        parameters = index_parameters(len(chunks), settings.index)
        vector_index = VectorIndex.build(chunk_vectors, parameters) if parameters["type"] != "flat" else None

        report = BuildReport(
            path=index_dir, documents=len(documents), chunks=len(chunks), spans=len(spans), skipped=skipped
        )
        old_files = previous["manifest"].get("files", {}) if previous else {}
        old_files = {name: digest for name, digest in old_files.items() if name != COLLECTION_FILE}
        new_files = {doc.path: doc.sha256 for doc in documents}
        report.guides_added = sorted(new_files.keys() - old_files.keys())
        report.guides_removed = sorted(old_files.keys() - new_files.keys())
        report.guides_changed = sorted(n for n in new_files.keys() & old_files.keys() if new_files[n] != old_files[n])
        old_keys = set(previous["chunks"]) if previous else set()
        report.chunks_reused = chunks_reused
        report.chunks_added = len(chunks) - chunks_reused
        report.chunks_removed = len(old_keys - set(chunk_keys))
        report.embedded = (len(chunks) - chunks_reused) + (len(spans) - spans_reused)

        manifest = {
            "format": FORMAT_VERSION,
            "model": model,
            "dimension": int(embedder.dimension),
            "chunking": dataclasses.asdict(settings.chunking),
            "embedding_context": "chunk: '{title} > {section}\\n{text}'; sentence: '{section}: {text}'",
            # The collection file counts as a source: changing it makes the index out of date.
            "files": {**new_files, **{k: v for k, v in file_hashes(settings.corpus_dir).items() if k == COLLECTION_FILE}},
            "collection": collection.to_json(),
            "skipped": sorted(problem.path for problem in skipped),
            "counts": {"documents": len(documents), "chunks": len(chunks), "spans": len(spans)},
            "index": parameters,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        report_progress("writing", 0.95)
        files = {
            "documents.jsonl": _jsonl_bytes(dataclasses.asdict(doc) for doc in documents),
            "chunks.jsonl": _jsonl_bytes(_chunk_records(chunks, chunk_keys, spans)),
            "spans.jsonl": _jsonl_bytes(dataclasses.asdict(span) for span in spans),
            "span_keys.json": json.dumps(span_keys).encode(),
            "chunk_vectors.npy": _npy_bytes(chunk_vectors),
            "span_vectors.npy": _npy_bytes(span_vectors),
        }
        manifest["build_seconds"] = round(time.perf_counter() - started, 3)
        _write_generation(index_dir, files, manifest, vector_index)
        report_progress("done", 1.0)
    report.seconds = time.perf_counter() - started
    return report


def _chunk_records(chunks: list[Chunk], keys: list[str], spans: list[Span]) -> Iterator[dict[str, Any]]:
    # Spans are in document order, so each chunk's spans form one contiguous run.
    first_of_doc: dict[str, int] = {}
    for position, span in enumerate(spans):
        first_of_doc.setdefault(span.doc_id, position)
    for chunk, key in zip(chunks, keys, strict=True):
        position = first_of_doc[chunk.doc_id]
        while position < len(spans) and spans[position].doc_id == chunk.doc_id and spans[position].end <= chunk.start:
            position += 1
        end = position
        while end < len(spans) and spans[end].doc_id == chunk.doc_id and spans[end].start < chunk.end:
            end += 1
        first_of_doc[chunk.doc_id] = position
        yield {**dataclasses.asdict(chunk), "key": key, "spans": [position, end]}


def _vectors_for(
    keys: list[str],
    texts: list[str],
    previous: dict[str, Any] | None,
    kind: str,
    embed: Callable[[list[str]], np.ndarray],
    dimension: int,
) -> tuple[np.ndarray, int]:
    """Vectors for `keys`, taken from the previous index where the key matches, else embedded."""
    vectors = np.zeros((len(keys), dimension), dtype=np.float32)
    old_rows = previous[kind] if previous and previous["dimension"] == dimension else {}
    reuse = [(row, old_rows[key]) for row, key in enumerate(keys) if key in old_rows]
    if reuse:
        rows, old = zip(*reuse, strict=True)
        vectors[list(rows)] = previous[f"{kind}_vectors"][list(old)]
    fresh = [row for row, key in enumerate(keys) if key not in old_rows]
    if fresh:
        vectors[fresh] = embed([texts[row] for row in fresh])
    return vectors, len(reuse)


def _previous_vectors(index_dir: Path) -> dict[str, Any] | None:
    """Keys and vectors of the live index, to reuse; None when there is none or it is damaged."""
    try:
        generation = current_generation(index_dir)
        if generation is None:
            return None
        manifest = read_manifest(generation)
        for name in ("chunks.jsonl", "span_keys.json", "chunk_vectors.npy", "span_vectors.npy"):
            _verify(generation / name, manifest["checksums"][name])
        chunk_keys = [record["key"] for record in _read_jsonl(generation / "chunks.jsonl")]
        span_keys = json.loads((generation / "span_keys.json").read_text(encoding="utf-8"))
        return {
            "manifest": manifest,
            "dimension": manifest["dimension"],
            "chunks": {key: row for row, key in enumerate(chunk_keys)},
            "spans": {key: row for row, key in enumerate(span_keys)},
            "chunks_vectors": _read_npy(generation / "chunk_vectors.npy", mmap=True),
            "spans_vectors": _read_npy(generation / "span_vectors.npy", mmap=True),
        }
    except (IndexCorruptError, KeyError, ValueError, OSError) as error:
        logger.warning("Not reusing the previous index (%s); embedding everything.", error)
        return None


def _jsonl_bytes(records: Any) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def _write_generation(
    index_dir: Path, files: dict[str, bytes], manifest: dict[str, Any], vector_index: VectorIndex | None
) -> Path:
    """Write a new generation beside the live one, then switch `CURRENT` to it atomically."""
    _remove_leftovers(index_dir)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    staging = index_dir / f".tmp-{stamp}-{os.getpid()}"
    staging.mkdir(parents=True)
    checksums = {}
    for name, data in files.items():
        _write_durably(staging / name, data)
        checksums[name] = hashlib.sha256(data).hexdigest()
    if vector_index is not None:
        vector_index.write(staging / VECTOR_FILE)
        _fsync_file(staging / VECTOR_FILE)
        checksums[VECTOR_FILE] = _file_sha256(staging / VECTOR_FILE)
    manifest = {**manifest, "checksums": checksums}
    _write_durably(staging / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    _fsync_dir(staging)
    generation = index_dir / f"gen-{stamp}"
    os.rename(staging, generation)
    _fsync_dir(index_dir)
    try:
        live = current_generation(index_dir)
    except IndexCorruptError:
        live = None  # a damaged pointer names nothing worth keeping
    previous = live.name if live else None
    pointer = index_dir / f".{POINTER}.tmp"
    _write_durably(pointer, (generation.name + "\n").encode())
    os.replace(pointer, index_dir / POINTER)
    _fsync_dir(index_dir)
    # Keep the previous generation too: a reader that resolved CURRENT just before the switch
    # may still be reading it.
    for old in index_dir.glob("gen-*"):
        if old.name not in (generation.name, previous):
            shutil.rmtree(old, ignore_errors=True)
    return generation


def _remove_leftovers(index_dir: Path) -> None:
    """Delete staging folders of builds that were killed (the build lock is held here)."""
    for leftover in index_dir.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (index_dir / f".{POINTER}.tmp").unlink()


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
