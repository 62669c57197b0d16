"""A second vector store, for tests only: exact search with numpy, nothing but the vectors.

It shows what a store takes: this class, and one line registering it
(`STORES["exact"] = ExactStore`), done by the tests that use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from guide.index.stores import Labels, top_k


class ExactStore:
    name: ClassVar[str] = "exact"

    def __init__(self, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]) -> None:
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._labels = Labels(labels)
        self.parameters = dict(parameters)

    @property
    def size(self) -> int:
        return len(self._vectors)

    @property
    def dimension(self) -> int:
        return int(self._vectors.shape[1])

    @classmethod
    def build(cls, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]) -> ExactStore:
        return cls(vectors, labels, parameters)

    @classmethod
    def load(
        cls, folder: Path, name: str, vectors: np.ndarray, labels: Sequence[str], parameters: dict[str, Any]
    ) -> ExactStore:
        return cls(vectors, labels, parameters)

    def save(self, folder: Path, name: str) -> list[str]:
        return []

    def describe(self) -> dict[str, Any]:
        return {"store": self.name, **self.parameters, "size": self.size, "dimension": self.dimension}

    def search(self, queries: np.ndarray, k: int, labels: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
        rows = self._labels.rows(labels) if labels else np.arange(self.size)
        scores, order = top_k(self.similarities(queries, rows).T, min(k, len(rows)))
        return scores, rows[order] if len(rows) else order

    def similarities(self, queries: np.ndarray, rows: Sequence[int] | None = None) -> np.ndarray:
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        chosen = self._vectors if rows is None else self._vectors[np.asarray(rows, dtype=np.int64)]
        return chosen @ queries.T
