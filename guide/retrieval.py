"""Hybrid retrieval: dense cosine similarity blended with BM25, with role preference and filter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from guide.chunking import Chunk
from guide.config import RetrievalSettings
from guide.index import LoadedIndex

_TOKEN = r"(?u)\b\w\w+\b"


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk; `score` is the fused score used for ranking, `dense` its cosine similarity."""

    rank: int
    score: float
    dense: float
    lexical: float
    row: int
    chunk: Chunk


class LexicalIndex:
    """BM25 over chunk texts with their headings (bm25s, English stop words, Snowball stemming)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)
        self._vocabulary = tokens.vocab

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros when no query term is in the corpus)."""
        words = [word.lower() for word in re.findall(_TOKEN, query)]
        stems = [stem for stem in self._stemmer.stemWords(words) if stem in self._vocabulary]
        if not stems:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores(stems), dtype=np.float32)


class Retriever:
    """Searches one loaded index; safe to share between threads (it never changes)."""

    def __init__(self, index: LoadedIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings
        self.lexical = (
            LexicalIndex([chunk.context_text() for chunk in index.chunks]) if settings.lexical_weight > 0 else None
        )

    def search(
        self,
        query_vector: np.ndarray,
        query_text: str,
        k: int,
        roles: Sequence[str] = (),
        prefer_roles: Sequence[str] = (),
    ) -> list[Hit]:
        """The `k` best chunks for a query.

        Args:
            query_vector: the normalised embedding of `query_text`.
            query_text: the text, for BM25.
            k: how many hits.
            roles: keep only chunks of these roles (a hard filter; empty keeps all).
            prefer_roles: add `role_boost` to chunks of these roles (a soft preference).
        """
        chunks = self.index.chunks
        size = len(chunks)
        if size == 0 or k <= 0:
            return []
        wanted = 4 * k + 20 if not roles else size if self.index.vectors.parameters["type"] == "flat" else 50 * k + 200
        dense_scores, rows = self.index.vectors.search(query_vector, min(wanted, size))
        dense = {int(row): float(score) for row, score in zip(rows[0], dense_scores[0], strict=True) if row >= 0}
        lexical = np.zeros(0, dtype=np.float32)
        if self.lexical is not None:
            lexical = self.lexical.scores(query_text)
            top = np.argsort(-lexical)[: 4 * k + 20]
            missing = [int(row) for row in top if lexical[row] > 0 and int(row) not in dense]
            if missing:
                vectors = np.stack([self.index.vectors.reconstruct(row) for row in missing])
                for row, score in zip(missing, vectors @ query_vector.ravel(), strict=True):
                    dense[row] = float(score)
        top_lexical = float(lexical.max()) if lexical.size else 0.0
        boosted = set(prefer_roles)
        allowed = set(roles)
        scored = []
        for row, cosine in dense.items():
            chunk = chunks[row]
            if allowed and chunk.role not in allowed:
                continue
            lexical_score = float(lexical[row]) / top_lexical if top_lexical > 0 else 0.0
            score = cosine + self.settings.lexical_weight * lexical_score
            if chunk.role in boosted:
                score += self.settings.role_boost
            scored.append((score, cosine, lexical_score, row))
        scored.sort(key=lambda item: (-item[0], item[3]))
        return [
            Hit(rank=rank, score=score, dense=cosine, lexical=lexical_score, row=row, chunk=chunks[row])
            for rank, (score, cosine, lexical_score, row) in enumerate(scored[:k], start=1)
        ]
