"""Nearest-neighbour search over normalised vectors: exact for small indexes, HNSW for large ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from guide.config import IndexSettings


def index_parameters(count: int, settings: IndexSettings) -> dict[str, Any]:
    """The index type and parameters recorded in the manifest for `count` vectors."""
    if count <= settings.exact_max_chunks:
        return {"type": "flat"}
    return {
        "type": "hnsw",
        "m": settings.hnsw_m,
        "ef_construction": settings.hnsw_ef_construction,
        "ef_search": settings.hnsw_ef_search,
    }


class VectorIndex:
    """Inner-product search (cosine, since vectors are normalised) over one FAISS index."""

    def __init__(self, faiss_index: Any, parameters: dict[str, Any]) -> None:
        self._index = faiss_index
        self.parameters = parameters

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, parameters: dict[str, Any]) -> VectorIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        if parameters["type"] == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif parameters["type"] == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, int(parameters["m"]), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(parameters["ef_construction"])
        else:
            raise ValueError(f"unknown index type {parameters['type']!r}")
        index.add(vectors)
        built = cls(index, parameters)
        built._tune()
        return built

    @classmethod
    def read(cls, path: Path, parameters: dict[str, Any]) -> VectorIndex:
        import faiss

        loaded = cls(faiss.read_index(str(path)), parameters)
        loaded._tune()
        return loaded

    def write(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    def _tune(self) -> None:
        if self.parameters["type"] == "hnsw":
            self._index.hnsw.efSearch = int(self.parameters["ef_search"])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row ids of the `k` nearest vectors for each query row (id -1 pads)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        k = max(1, min(k, self.size))
        if len(queries) > 4:
            return self._index.search(queries, k)
        # One query at a time stays out of FAISS's OpenMP pool, whose wake-up after the model
        # has run costs more than the search itself on a small index.
        results = [self._index.search(queries[row : row + 1], k) for row in range(len(queries))]
        return np.vstack([scores for scores, _ in results]), np.vstack([rows for _, rows in results])

    def reconstruct_rows(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of some rows, in the order given."""
        if not rows:
            return np.zeros((0, self._index.d), dtype=np.float32)
        return self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))
