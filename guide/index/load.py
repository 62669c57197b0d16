"""Building, checking and loading the index: what a generation folder holds and how it is made.

A generation holds the manifest, the guides (documents), their chunks and sentence spans, the
vectors of both, and whatever the vector store adds (an HNSW graph). How generations are
written, switched and checked on disk is `guide.index.storage`'s business; which store searches the
vectors is `guide.index.stores`'.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guide.config import Settings
from guide.errors import ConfigError, CorpusProblem, IndexCorruptError, IndexMismatchError, IndexMissingError
from guide.index.storage import (
    REBUILD_HINT,
    current_generation,
    read_jsonl,
    read_npy,
    verify_all,
)
from guide.index.storage import read_manifest as storage_manifest
from guide.index.stores import VectorStore, store_class
from guide.ingest.chunking import Chunk, Span
from guide.ingest.collection import Collection
from guide.ingest.corpus import Document, file_hashes

logger = logging.getLogger(__name__)

# 2: sentences carry `material`, guides their names, the manifest the collection file.
# 3: the manifest names the vector store of each collection ("stores").
FORMAT_VERSION = 3

Progress = Callable[[str, float], None]
# Held by the app while it rebuilds, so that its sessions start one rebuild at a time (the
# build lock, a file lock, keeps separate processes apart).
APP_REBUILD = threading.Lock()
# The two collections of vectors: name in the manifest, vector file, rows.
COLLECTIONS = {"chunks": "chunk_vectors", "spans": "span_vectors"}


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
    # One vector per chunk and one per span, each collection labelled with the guides' roles.
    chunk_store: VectorStore
    span_store: VectorStore

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
    # The files indexed, skipped and grouped as copies (`CorpusReading.listing`).
    corpus: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # names that collide across the corpus
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
    return _sha256(f"span\0{model}\0{span.context_text()}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- reading


def read_manifest(generation: Path) -> dict[str, Any]:
    """The manifest of a generation of this format."""
    return storage_manifest(generation, FORMAT_VERSION)


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
    verify_all(generation, manifest, REQUIRED_FILES)
    documents, chunks, spans, chunk_spans, labels = _read_records(generation)
    stores = _load_stores(generation, manifest, labels)
    if stores["chunks"].size != len(chunks) or stores["spans"].size != len(spans):
        raise IndexCorruptError(f"The index in {generation} has mismatched record and vector counts. {REBUILD_HINT}")
    return LoadedIndex(
        path=generation,
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        spans=spans,
        chunk_spans=chunk_spans,
        chunk_store=stores["chunks"],
        span_store=stores["spans"],
    )


def _read_records(
    generation: Path,
) -> tuple[dict[str, Document], list[Chunk], list[Span], list[tuple[int, ...]], dict[str, list[str]]]:
    """The documents (by id), chunks, sentences, each chunk's sentence rows and the role of each
    chunk and sentence (the stores' labels) of a verified generation."""
    try:
        documents = {
            record["doc_id"]: Document(
                **{
                    **record,
                    "aliases": tuple(record["aliases"]),
                    "hints": tuple(record["hints"]),
                    "also_at": tuple(record.get("also_at", ())),
                }
            )
            for record in read_jsonl(generation / "documents.jsonl")
        }
        chunk_records = read_jsonl(generation / "chunks.jsonl")
        chunks = [Chunk(**{key: record[key] for key in _CHUNK_FIELDS}) for record in chunk_records]
        spans = [Span(**record) for record in read_jsonl(generation / "spans.jsonl")]
        labels = {
            "chunks": [chunk.role for chunk in chunks],
            "spans": [documents[span.doc_id].role for span in spans],
        }
        chunk_spans = [tuple(record["spans"]) for record in chunk_records]
    except (KeyError, TypeError, AttributeError) as error:
        raise IndexCorruptError(f"The records of the index in {generation} are damaged ({error!r}). {REBUILD_HINT}") from None
    return documents, chunks, spans, chunk_spans, labels


def _load_stores(generation: Path, manifest: dict[str, Any], labels: dict[str, list[str]]) -> dict[str, Any]:
    """The chunk and sentence stores of `generation`, as its manifest describes them."""
    stores = {}
    for collection, name in COLLECTIONS.items():
        try:
            described = manifest["stores"][collection]
            store = store_class(described["store"])
            parameters = {key: value for key, value in described.items() if key not in ("store", "size", "dimension")}
            # Chunk vectors are memory-mapped (an exact store copies them into FAISS when first
            # searched); span vectors are read whole, as every question scores all of them.
            vectors = read_npy(generation / f"{name}.npy", mmap=collection == "chunks")
            stores[collection] = store.load(generation, name, vectors, labels[collection], parameters)
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, ConfigError) as error:
            raise IndexCorruptError(
                f"The vector store of {collection} in {generation} cannot be read ({error}). {REBUILD_HINT}"
            ) from None
    return stores


_CHUNK_FIELDS = [f.name for f in dataclasses.fields(Chunk)]
# The files every generation holds, whose checksums its manifest must list.
REQUIRED_FILES = (
    "documents.jsonl", "chunks.jsonl", "spans.jsonl", "span_keys.json", "chunk_vectors.npy", "span_vectors.npy"
)


def corpus_listing(manifest: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """What the build made of each corpus file, from its manifest: `files` indexed (with the format
    each was converted from), `skipped` (with why) and `duplicates` (groups of copies, one indexed).
    An index built before builds recorded this lists its skipped files without a reason."""
    manifest = manifest or {}
    listing = manifest.get("corpus")
    if isinstance(listing, dict):
        return {key: list(listing.get(key, [])) for key in ("files", "skipped", "duplicates")}
    skipped = [{"path": path, "reason": ""} for path in manifest.get("skipped", [])]
    return {"files": [], "skipped": skipped, "duplicates": []}


def index_status(settings: Settings) -> IndexStatus:
    """Compare the live index's manifest with the corpus files and current settings.

    The index's files are checked against their checksums, as loading checks them: a damaged
    index is reported as such (`error`), never as fresh.
    """
    try:
        generation = current_generation(settings.index_dir)
        manifest = read_manifest(generation) if generation else None
        if generation is not None and manifest is not None:
            verify_all(generation, manifest, REQUIRED_FILES)
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
