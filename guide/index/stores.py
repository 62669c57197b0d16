"""Vector stores: nearest-neighbour search over normalised vectors, behind one protocol.

The index keeps two collections, one row per chunk and one per sentence, each in a store. A
store is built from the vectors and a label per row (the guide's role, for filters), searched
with an optional label filter, asked for the exact similarity of given rows (to fuse with
BM25), saved into a generation folder and loaded from it, and described for the manifest.

The vectors themselves are the index's data (`chunk_vectors.npy`, `span_vectors.npy`, written
and checksummed by `guide.index`, reused by incremental builds); a store writes only its own
structures beside them (an HNSW graph) and is handed the vectors again when loaded.

`FaissStore` (exact inner product, or HNSW above `index.exact_max_chunks` rows) is the
implementation; another is one module with a class like it plus one line in `STORES`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from guide.config import IndexSettings
from guide.errors import ConfigError


class VectorStore(Protocol):
    """Inner-product search (cosine, as vectors are normalised) over labelled rows."""

    name: ClassVar[str]

    @property
    def size(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    @classmethod
    def build(cls, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]) -> VectorStore:
        """A store over `vectors` (one row each) with one label per row."""
        ...

    def search(self, queries: np.ndarray, k: int, labels: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Scores and rows of the `k` nearest rows for each query row, best first, -1 padding.

        With `labels`, only rows carrying one of them are returned (up to `k` of them).
        """
        ...

    def similarities(self, queries: np.ndarray, rows: Sequence[int] | None = None) -> np.ndarray:
        """Exact inner products of `rows` (all rows when None) with each query: rows x queries."""
        ...

    def save(self, folder: Path, name: str) -> list[str]:
        """Write the store's own files into `folder` (names starting with `name`); return their names."""
        ...

    @classmethod
    def load(
        cls, folder: Path, name: str, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]
    ) -> VectorStore:
        """The store saved under `name` in `folder`, over the same `vectors` and `labels`."""
        ...

    def describe(self) -> dict[str, Any]:
        """What to record in the manifest and show: the store, its parameters, size and dimension."""
        ...


def index_parameters(count: int, settings: IndexSettings, exact: bool = False) -> dict[str, Any]:
    """The parameters for a store of `count` vectors: exact unless large (or `exact` is asked)."""
    if exact or count <= settings.exact_max_chunks:
        return {"type": "flat"}
    return {
        "type": "hnsw",
        "m": settings.hnsw_m,
        "ef_construction": settings.hnsw_ef_construction,
        "ef_search": settings.hnsw_ef_search,
        "filter_oversample": settings.hnsw_filter_oversample,
    }


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best columns of each row of `scores` (ties by lower column), padded with -1."""
    count = scores.shape[1]
    take = min(k, count)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :take]
    best = np.take_along_axis(scores, order, axis=1)
    if take < k:
        pad = k - take
        order = np.hstack([order, np.full((len(scores), pad), -1, dtype=np.int64)])
        best = np.hstack([best, np.full((len(scores), pad), -np.inf, dtype=np.float32)])
    return best.astype(np.float32), order.astype(np.int64)


class Labels:
    """One label per row, kept as small integer codes (a million rows share a few role names)."""

    def __init__(self, labels: Sequence[str] = ()) -> None:
        self._codes: dict[str, int] = {}
        self._rows = np.zeros(0, dtype=np.int32)
        self.extend(labels)

    def __len__(self) -> int:
        return len(self._rows)

    def extend(self, labels: Sequence[str]) -> None:
        codes = np.fromiter(
            (self._codes.setdefault(label, len(self._codes)) for label in labels), dtype=np.int32, count=len(labels)
        )
        self._rows = np.concatenate([self._rows, codes])

    def rows(self, labels: Sequence[str]) -> np.ndarray:
        """The rows carrying any of `labels`, in order."""
        wanted = [self._codes[label] for label in labels if label in self._codes]
        return np.flatnonzero(np.isin(self._rows, wanted))


def _rows(queries: np.ndarray) -> np.ndarray:
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    return queries[None, :] if queries.ndim == 1 else queries


class FaissStore:
    """FAISS: an exact inner-product index, or an HNSW graph for large collections.

    An exact store keeps the vectors it was given (memory-mapped when loaded) and builds its
    FAISS index on first search, so a collection that is only rescored (the sentences) never
    holds a second copy; once built, it reads the vectors from FAISS's own storage and lets the
    given array go, so a searched collection is in memory once too. A filtered search is exact over the label's rows; in an HNSW store it
    searches `filter_oversample` times deeper and falls back to exact over the label's rows when
    the graph returns too few.
    """

    name: ClassVar[str] = "faiss"
    GRAPH = ".hnsw.faiss"

    def __init__(self, parameters: dict[str, Any], labels: Sequence[str], matrix: np.ndarray | None, graph: Any) -> None:
        self.parameters = dict(parameters)
        self._labels = Labels(labels)
        self._matrix = matrix
        self._graph = graph  # the FAISS index; built lazily for an exact store
        self._dimension = int(matrix.shape[1]) if matrix is not None else int(graph.d)
        self._building = threading.Lock()  # sessions search from several threads

    @property
    def size(self) -> int:
        return len(self._labels)

    @property
    def dimension(self) -> int:
        return self._dimension

    @classmethod
    def build(cls, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]) -> FaissStore:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(labels) != len(vectors):
            raise ValueError(f"{len(vectors)} vectors but {len(labels)} labels")
        if parameters["type"] == "flat":
            return cls(parameters, labels, vectors, None)
        if parameters["type"] != "hnsw":
            raise ValueError(f"unknown index type {parameters['type']!r}")
        import faiss

        graph = faiss.IndexHNSWFlat(vectors.shape[1], int(parameters["m"]), faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = int(parameters["ef_construction"])
        graph.add(vectors)
        store = cls(parameters, labels, None, graph)
        store._tune()
        return store

    @classmethod
    def load(
        cls, folder: Path, name: str, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]
    ) -> FaissStore:
        if parameters["type"] == "flat":
            return cls(parameters, labels, vectors, None)
        import faiss

        store = cls(parameters, labels, None, faiss.read_index(str(folder / (name + cls.GRAPH))))
        store._tune()
        return store

    def save(self, folder: Path, name: str) -> list[str]:
        if self.parameters["type"] == "flat":
            return []  # the vectors, saved by the index, are all there is
        import faiss

        faiss.write_index(self._graph, str(folder / (name + self.GRAPH)))
        return [name + self.GRAPH]

    def describe(self) -> dict[str, Any]:
        return {"store": self.name, **self.parameters, "size": self.size, "dimension": self.dimension}

    def _tune(self) -> None:
        if self.parameters["type"] == "hnsw":
            self._graph.hnsw.efSearch = int(self.parameters["ef_search"])

    def _faiss(self) -> Any:
        if self._graph is None:
            with self._building:
                if self._graph is None:
                    import faiss

                    graph = faiss.IndexFlatIP(self.dimension)
                    graph.add(np.ascontiguousarray(self._matrix, dtype=np.float32))
                    # The vectors are FAISS's from now on: one copy, not two.
                    self._matrix = _storage(graph, self.dimension)
                    self._graph = graph
        return self._graph

    def search(self, queries: np.ndarray, k: int, labels: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
        queries = _rows(queries)
        k = max(1, k)
        if self.size == 0:
            return np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64)
        if labels:
            allowed = self._labels.rows(labels)
            if self.parameters["type"] == "flat" or len(allowed) <= k:
                return self._exact(queries, allowed, k)
            deep = min(self.size, k * int(self.parameters.get("filter_oversample", 10)))
            scores, rows = self._search(queries, deep)
            keep = [np.isin(row, allowed) & (row >= 0) for row in rows]
            if all(mask.sum() >= k for mask in keep):
                return (
                    np.vstack([score[mask][:k] for score, mask in zip(scores, keep, strict=True)]),
                    np.vstack([row[mask][:k] for row, mask in zip(rows, keep, strict=True)]),
                )
            return self._exact(queries, allowed, k)
        return self._search(queries, min(k, self.size))

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        graph = self._faiss()
        if len(queries) > 4:
            return graph.search(queries, k)
        # One query at a time stays out of FAISS's OpenMP pool, whose wake-up after the model
        # has run costs more than the search itself on a small index.
        results = [graph.search(queries[row : row + 1], k) for row in range(len(queries))]
        return np.vstack([scores for scores, _ in results]), np.vstack([rows for _, rows in results])

    def _exact(self, queries: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, order = top_k(self.similarities(queries, rows).T, min(k, len(rows)))
        found = np.where(order >= 0, rows[np.maximum(order, 0)] if len(rows) else order, -1)
        return scores, found

    def similarities(self, queries: np.ndarray, rows: Sequence[int] | None = None) -> np.ndarray:
        queries = _rows(queries)
        return self.vectors(rows) @ queries.T

    def vectors(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """The stored vectors of `rows` (all when None), in the order given. All of them may be a
        view of FAISS's storage: use it while the store is in use, not after."""
        if self._matrix is not None:
            return self._matrix if rows is None else self._matrix[np.asarray(rows, dtype=np.int64)]
        rows = np.arange(self.size) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._graph.reconstruct_batch(rows)


def _storage(graph: Any, dimension: int) -> np.ndarray:
    """The vectors of an exact FAISS index, read in place (valid while the index lives, unchanged)."""
    import faiss

    if graph.ntotal == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    return faiss.rev_swig_ptr(graph.get_xb(), graph.ntotal * dimension).reshape(graph.ntotal, dimension)


# The stores `index.store` may name; a new one is a module with a class like FaissStore and a line here.
STORES: dict[str, type[VectorStore]] = {FaissStore.name: FaissStore}


def store_class(name: str) -> type[VectorStore]:
    """The store registered under `name`."""
    try:
        return STORES[name]
    except KeyError:
        raise ConfigError(f"Unknown vector store {name!r} (index.store); known: {', '.join(sorted(STORES))}.") from None
