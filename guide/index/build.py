"""Building a generation: chunks and sentences of the guides, their vectors (reusing unchanged ones), the store."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from guide.config import Settings
from guide.errors import IndexCorruptError
from guide.index.embedding import Embedder
from guide.index.load import (
    COLLECTIONS,
    FORMAT_VERSION,
    BuildReport,
    Progress,
    chunk_key,
    embedding_text,
    read_manifest,
    span_key,
)
from guide.index.storage import (
    build_lock,
    current_generation,
    jsonl_bytes,
    npy_bytes,
    read_jsonl,
    read_npy,
    verify,
    write_generation,
)
from guide.index.stores import index_parameters, store_class
from guide.ingest.chunking import Chunk, Span, chunk_reading, read_document
from guide.ingest.collection import COLLECTION_FILE, Collection, load_collection
from guide.ingest.corpus import Document, file_hashes
from guide.ingest.files import CorpusReading, read_corpus
from guide.ingest.material import mark_material
from guide.ingest.names import role_names
from guide.language import load_language

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Reusable:
    """The live index's vectors, by the key of the text they embed, for a build to reuse."""

    manifest: dict[str, Any]
    dimension: int
    rows: dict[str, dict[str, int]]  # collection ("chunks", "spans") -> key -> row
    vectors: dict[str, np.ndarray]  # collection -> its vectors (memory-mapped)

    @classmethod
    def of(cls, index_dir: Path) -> Reusable | None:
        """The live index's keys and vectors; None when there is none or it is damaged."""
        try:
            generation = current_generation(index_dir)
            if generation is None:
                return None
            manifest = read_manifest(generation)
            for name in ("chunks.jsonl", "span_keys.json", "chunk_vectors.npy", "span_vectors.npy"):
                verify(generation / name, manifest["checksums"][name])
            keys = {
                "chunks": [record["key"] for record in read_jsonl(generation / "chunks.jsonl")],
                "spans": json.loads((generation / "span_keys.json").read_text(encoding="utf-8")),
            }
            return cls(
                manifest=manifest,
                dimension=manifest["dimension"],
                rows={kind: {key: row for row, key in enumerate(keys[kind])} for kind in COLLECTIONS},
                vectors={kind: read_npy(generation / f"{name}.npy", mmap=True) for kind, name in COLLECTIONS.items()},
            )
        except (IndexCorruptError, KeyError, ValueError, OSError) as error:
            logger.warning("Not reusing the previous index (%s); embedding everything.", error)
            return None

    @classmethod
    def nothing(cls, dimension: int) -> Reusable:
        """No vectors to reuse (a first or forced build)."""
        return cls({}, dimension, {kind: {} for kind in COLLECTIONS}, {})

    def vectors_for(
        self, kind: str, keys: list[str], texts: list[str], embed: Callable[[list[str]], np.ndarray], dimension: int
    ) -> tuple[np.ndarray, int]:
        """Vectors for `keys`: reused where the key matches, else embedded; and how many were reused."""
        old_rows = self.rows[kind] if self.dimension == dimension else {}
        vectors = np.zeros((len(keys), dimension), dtype=np.float32)
        reuse = [(row, old_rows[key]) for row, key in enumerate(keys) if key in old_rows]
        if reuse:
            rows, old = zip(*reuse, strict=True)
            vectors[list(rows)] = self.vectors[kind][list(old)]
        fresh = [row for row, key in enumerate(keys) if key not in old_rows]
        if fresh:
            vectors[fresh] = embed([texts[row] for row in fresh])
        return vectors, len(reuse)


def read_sources(settings: Settings, skip_invalid: bool = False) -> CorpusReading:
    """The corpus read for a build: guides (pages converted), files left out, copies grouped.

    Raises:
        CorpusError: see `guide.ingest.files.read_corpus`.
        ConfigError: the collection file names an unknown language.
    """
    language = load_language(load_collection(settings.corpus_dir).language)
    return read_corpus(settings.corpus_dir, skip_invalid=skip_invalid, settings=settings.ingest, language=language)


def build_index(
    settings: Settings,
    embedder: Embedder,
    force: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    reading: CorpusReading | None = None,
) -> BuildReport:
    """Build the index from the corpus, reusing the embeddings of unchanged chunks: the corpus is
    read and checked before anything is written, and on any error the live index is left as it was.

    Args:
        settings: folders, model and chunker settings.
        embedder: the model to embed new or changed text with.
        force: embed everything again instead of reusing the previous index's vectors.
        skip_invalid: index the valid guides and report the bad ones instead of stopping.
        progress: called with a phase name and a fraction from 0 to 1.
        reading: the corpus as `read_sources` read it just before (read again when None).
    """
    started = time.perf_counter()
    report_progress = progress or (lambda phase, fraction: None)
    index_dir = settings.index_dir
    model = settings.embedding.model
    with build_lock(index_dir):
        report_progress("reading guides", 0.0)
        reading = reading or read_sources(settings, skip_invalid)
        documents = reading.documents
        collection = load_collection(settings.corpus_dir)
        chunks, spans, chunk_rows = _cut(documents, collection, settings)
        previous = None if force else Reusable.of(index_dir)
        chunk_keys = [chunk_key(model, settings, chunk) for chunk in chunks]
        span_keys = [span_key(model, span) for span in spans]
        (chunk_vectors, span_vectors), (chunks_reused, spans_reused) = _embed_all(
            embedder, previous, settings, chunks, spans, (chunk_keys, span_keys), report_progress
        )

        report_progress("indexing", 0.9)
        stores = _build_stores(settings, documents, chunks, spans, chunk_vectors, span_vectors)
        language = load_language(collection.language)
        # Names are resolved with the whole corpus in view; what collides is reported, not silent.
        warnings = [warning.to_json(language) for warning in role_names(documents, collection.field, language)[1]]
        # A copy of a guide is part of what the index was built from (its text is the canonical guide's).
        sources = {**{doc.path: doc.sha256 for doc in documents}, **reading.copies}
        report = _report(settings, reading, (chunks, spans), warnings, previous, sources, chunk_keys)
        report.chunks_reused = chunks_reused
        report.chunks_added = len(chunks) - chunks_reused
        report.embedded = (len(chunks) - chunks_reused) + (len(spans) - spans_reused)

        manifest = _manifest(settings, embedder.dimension, collection, sources, report, warnings, stores)
        report_progress("writing", 0.95)
        files = _generation_files(documents, chunks, chunk_keys, chunk_rows, spans, span_keys, (chunk_vectors, span_vectors))
        manifest["build_seconds"] = round(time.perf_counter() - started, 3)

        def save_stores(folder: Path) -> list[str]:
            return [name for kind, built in stores.items() for name in built.save(folder, COLLECTIONS[kind])]

        write_generation(index_dir, files, manifest, save_stores)
        report_progress("done", 1.0)
    report.seconds = time.perf_counter() - started
    return report


def _embed_all(
    embedder: Embedder,
    previous: Reusable | None,
    settings: Settings,
    chunks: list[Chunk],
    spans: list[Span],
    keys: tuple[list[str], list[str]],
    report_progress: Progress,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[int, int]]:
    """The vectors of every chunk and sentence, reusing `previous`'s where the key is unchanged,
    and how many of each were reused."""
    total = len(chunks) + len(spans)
    done = [0]

    def embed(texts: list[str]) -> np.ndarray:
        batches = []
        for first in range(0, len(texts), 256):
            batches.append(embedder.encode(texts[first : first + 256]))
            done[0] += len(batches[-1])
            report_progress("embedding", done[0] / max(total, 1))
        return np.concatenate(batches) if batches else np.zeros((0, embedder.dimension), np.float32)

    source = previous or Reusable.nothing(embedder.dimension)
    chunk_vectors, chunks_reused = source.vectors_for(
        "chunks", keys[0], [embedding_text(c, settings) for c in chunks], embed, embedder.dimension
    )
    span_vectors, spans_reused = source.vectors_for(
        "spans", keys[1], [s.context_text() for s in spans], embed, embedder.dimension
    )
    return (chunk_vectors, span_vectors), (chunks_reused, spans_reused)


def _generation_files(
    documents: list[Document],
    chunks: list[Chunk],
    chunk_keys: list[str],
    chunk_rows: list[tuple[int, int]],
    spans: list[Span],
    span_keys: list[str],
    vectors: tuple[np.ndarray, np.ndarray],
) -> dict[str, bytes]:
    """The files of a generation but its stores' own, by name."""
    return {
        "documents.jsonl": jsonl_bytes(dataclasses.asdict(doc) for doc in documents),
        "chunks.jsonl": jsonl_bytes(
            {**dataclasses.asdict(chunk), "key": key, "spans": list(rows)}
            for chunk, key, rows in zip(chunks, chunk_keys, chunk_rows, strict=True)
        ),
        "spans.jsonl": jsonl_bytes(dataclasses.asdict(span) for span in spans),
        "span_keys.json": json.dumps(span_keys).encode(),
        "chunk_vectors.npy": npy_bytes(vectors[0]),
        "span_vectors.npy": npy_bytes(vectors[1]),
    }


def _build_stores(
    settings: Settings,
    documents: list[Document],
    chunks: list[Chunk],
    spans: list[Span],
    chunk_vectors: np.ndarray,
    span_vectors: np.ndarray,
) -> dict[str, Any]:
    """The vector store of the chunks and the one of the sentences."""
    store = store_class(settings.index.store)
    roles = {doc.doc_id: doc.role for doc in documents}
    return {
        "chunks": store.build(chunk_vectors, [c.role for c in chunks], index_parameters(len(chunks), settings.index)),
        # Every sentence is scored for every question (to pick evidence), so exactly.
        "spans": store.build(
            span_vectors, [roles[s.doc_id] for s in spans], index_parameters(len(spans), settings.index, exact=True)
        ),
    }


def _report(
    settings: Settings,
    reading: CorpusReading,
    cut: tuple[list[Chunk], list[Span]],
    warnings: list[dict[str, Any]],
    previous: Reusable | None,
    sources: dict[str, str],
    chunk_keys: list[str],
) -> BuildReport:
    """What the build read and skipped, and which guides and chunks changed since `previous`."""
    report = BuildReport(
        path=settings.index_dir,
        documents=len(reading.documents),
        chunks=len(cut[0]),
        spans=len(cut[1]),
        skipped=[*reading.problems, *reading.skipped],
        corpus=reading.listing(),
        warnings=[str(warning["message"]) for warning in warnings],
    )
    old_files = previous.manifest.get("files", {}) if previous else {}
    old_files = {name: digest for name, digest in old_files.items() if name != COLLECTION_FILE}
    report.guides_added = sorted(sources.keys() - old_files.keys())
    report.guides_removed = sorted(old_files.keys() - sources.keys())
    report.guides_changed = sorted(n for n in sources.keys() & old_files.keys() if sources[n] != old_files[n])
    old_keys = set(previous.rows["chunks"]) if previous else set()
    report.chunks_removed = len(old_keys - set(chunk_keys))
    return report


def _manifest(
    settings: Settings,
    dimension: int,
    collection: Collection,
    sources: dict[str, str],
    report: BuildReport,
    warnings: list[dict[str, Any]],
    stores: dict[str, Any],
) -> dict[str, Any]:
    """What a generation records of how it was built and from what."""
    return {
        "format": FORMAT_VERSION,
        "model": settings.embedding.model,
        "dimension": int(dimension),
        "chunking": dataclasses.asdict(settings.chunking),
        "embedding_context": "chunk: '{title} > {section}\\n{text}'; sentence: '{section}: {text}'",
        # The collection file counts as a source: changing it makes the index out of date.
        "files": {**sources, **{k: v for k, v in file_hashes(settings.corpus_dir).items() if k == COLLECTION_FILE}},
        "collection": collection.to_json(),
        "skipped": sorted(problem.path for problem in report.skipped),
        # Files indexed (and the format each was converted from), skipped (and why), copies.
        "corpus": report.corpus,
        "warnings": warnings,
        "counts": {"documents": report.documents, "chunks": report.chunks, "spans": report.spans},
        "index": stores["chunks"].describe(),
        "stores": {kind: built.describe() for kind, built in stores.items()},
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _cut(
    documents: list[Document], collection: Collection, settings: Settings
) -> tuple[list[Chunk], list[Span], list[tuple[int, int]]]:
    """Every guide cut once into sentences (marked as answer material or not) and chunks, with the
    rows of each chunk's sentences among all the sentences."""
    language = load_language(collection.language)
    chunks: list[Chunk] = []
    spans: list[Span] = []
    rows: list[tuple[int, int]] = []
    for document in documents:
        reading = read_document(document, language)
        offset = len(spans)
        spans.extend(mark_material(document, reading, language))
        for chunk, (first, last) in chunk_reading(document, reading, settings.chunking):
            chunks.append(chunk)
            rows.append((offset + first, offset + last))
    return chunks, spans, rows
