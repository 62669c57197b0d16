"""The index stage: embedding models, vector stores, generations on disk, and what a generation holds.

`build_index` writes a new generation from the corpus, `load_index` reads the live one, and
`index_status` compares it with the corpus and settings.
"""

from guide.index.build import build_index
from guide.index.load import (
    APP_REBUILD,
    BuildReport,
    IndexStatus,
    LoadedIndex,
    chunk_key,
    embedding_text,
    index_status,
    load_index,
    read_manifest,
    span_key,
)
from guide.index.storage import build_lock, current_generation

__all__ = [
    "APP_REBUILD",
    "BuildReport",
    "IndexStatus",
    "LoadedIndex",
    "build_index",
    "build_lock",
    "chunk_key",
    "current_generation",
    "embedding_text",
    "index_status",
    "load_index",
    "read_manifest",
    "span_key",
]
