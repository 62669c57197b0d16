"""Hybrid retrieval: dense cosine similarity blended with BM25, with role preference and filter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from guide.ask.lexicon import content_words
from guide.config import RetrievalSettings
from guide.index import LoadedIndex
from guide.ingest.chunking import Chunk
from guide.ingest.collection import Facet
from guide.language import DEFAULT, Language

_TOKEN = r"(?u)\b\w\w+\b"


@dataclass(frozen=True)
class Retrieval:
    """The ranked chunks of a search, and the score of every sentence (for picking evidence)."""

    hits: list[Hit]
    sentence_scores: np.ndarray
    # Share of the query's topic words that occur anywhere in the guides (1.0 without BM25).
    coverage: float = 1.0


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk; `score` is the fused score used for ranking, `dense` its cosine similarity."""

    rank: int
    score: float
    dense: float
    lexical: float
    row: int
    chunk: Chunk
    # The cross-encoder's own score when a reranker ordered the hits (another scale than `score`).
    reranked: float | None = None


class LexicalIndex:
    """BM25 over chunk texts with their headings (bm25s, the language's stop words and Snowball stemmer)."""

    def __init__(self, texts: Sequence[str], language: Language = DEFAULT) -> None:
        import bm25s
        import Stemmer

        self._language = language
        self._stemmer = Stemmer.Stemmer(language.STEMMER)
        self._bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords=language.STOPWORDS, stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)
        self._vocabulary = tokens.vocab

    def coverage(self, query: str) -> float:
        """Share of the query's topic words that occur in the indexed texts."""
        # Numbers ("5+", "2018") say nothing about whether the guides cover a topic.
        stems = self._stemmer.stemWords([word for word in content_words(query, self._language) if not word.isdigit()])
        return sum(stem in self._vocabulary for stem in stems) / len(stems) if stems else 1.0

    def relative_scores(self, query: str) -> np.ndarray:
        """BM25 scores as a share of the best score each query term reaches in any text.

        A text matching every term as well as the corpus allows scores 1; one matching only a
        common word ("research") scores little, however it ranks among the others.
        """
        words = [word.lower() for word in re.findall(_TOKEN, query)]
        stems = list(dict.fromkeys(stem for stem in self._stemmer.stemWords(words) if stem in self._vocabulary))
        if not stems:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        ceiling = sum(float(self._bm25.get_scores([stem]).max()) for stem in stems)
        scores = np.asarray(self._bm25.get_scores(stems), dtype=np.float32)
        return scores / ceiling if ceiling > 0 else scores


class Retriever:
    """Searches one loaded index; safe to share between threads (it never changes).

    Every chunk is scored twice and the two blended by `sentence_weight`: as a whole (its
    embedding with title and headings, and BM25 over it) and by its best sentence (the
    sentence's embedding and BM25 over sentences). Facts live in sentences, so the second
    view finds the passage that states the answer rather than one that is merely on topic.
    Vectors are read only through the index's two stores (`guide.stores.VectorStore`): a
    search of the chunk store nominates candidates, and exact similarities of the candidates
    and of every sentence are asked of the stores.
    """

    def __init__(self, index: LoadedIndex, settings: RetrievalSettings, language: Language = DEFAULT) -> None:
        self.index = index
        self.settings = settings
        use_lexical = settings.lexical_weight > 0
        chunk_texts = [chunk.context_text() for chunk in index.chunks]
        self.lexical = LexicalIndex(chunk_texts, language) if use_lexical else None
        self.sentence_lexical = (
            LexicalIndex([span.context_text() for span in index.spans], language)
            if use_lexical and index.spans
            else None
        )
        # Boundaries for "best sentence of each chunk" with np.maximum.reduceat; a sentinel score
        # at the end keeps every boundary in range.
        self._span_bounds = np.asarray(index.chunk_spans, dtype=np.int64).reshape(-1)
        self._has_spans = np.asarray([last > first for first, last in index.chunk_spans], dtype=bool)
        # Sentences that may be quoted in an answer; the others (navigation, calls to action,
        # page summaries) never score, and a passage made only of them is never a candidate.
        self.material = np.asarray([span.material for span in index.spans], dtype=bool)
        self._answerable = np.asarray(
            [bool(self.material[first:last].any()) for first, last in index.chunk_spans], dtype=bool
        )
        # For citing a sentence: the first passage that holds it.
        self.span_chunk = np.full(len(index.spans), -1, dtype=np.int64)
        for row, (first, last) in enumerate(index.chunk_spans):
            block = self.span_chunk[first:last]
            block[block < 0] = row
        roles = np.asarray([index.documents[span.doc_id].role for span in index.spans], dtype=object)
        self._facets: dict[tuple[Facet, float], tuple[np.ndarray, np.ndarray]] = {}
        chunk_roles = np.asarray([chunk.role for chunk in index.chunks], dtype=object)
        self._role_chunks = {role: np.flatnonzero(chunk_roles == role) for role in index.roles}
        self._role_spans = {
            role: np.flatnonzero((roles == role) & self.material & (self.span_chunk >= 0)) for role in index.roles
        }

    def sentence_scores(self, vector: np.ndarray, text: str) -> np.ndarray:
        """Every sentence's score for one text (dense plus BM25, as in `search`); boilerplate scores -1."""
        scores = self.index.span_store.similarities(vector)[:, 0]
        if self.sentence_lexical is not None:
            scores = scores + self.settings.lexical_weight * self.sentence_lexical.relative_scores(text)
        return np.where(self.material, scores, np.float32(-1.0))

    def facet_scores(self, facet: Facet, vector: np.ndarray, bonus: float) -> tuple[np.ndarray, np.ndarray]:
        """Every sentence's score for a facet, and whether its heading names the facet.

        The score is `sentence_scores` for the facet's description and words, plus `bonus` where
        the sentence's heading names the facet and again where the sentence itself does. It does
        not depend on the question, so it is computed once per loaded index.
        """
        key = (facet, bonus)
        cached = self._facets.get(key)
        if cached is None:
            headings = {span.section for span in self.index.spans}
            named_headings = {h for h in headings if facet.named_in(h.split(" > ")[-1])}
            named = np.asarray([span.section in named_headings for span in self.index.spans], dtype=bool)
            says = np.asarray([facet.named_in(span.text) for span in self.index.spans], dtype=bool)
            scores = self.sentence_scores(vector, f"{facet.description} {' '.join(facet.words)}")
            cached = (scores + bonus * named + bonus * says, named)
            self._facets[key] = cached
        return cached

    def role_spans(self, role: str) -> np.ndarray:
        """Rows of the answer-material sentences of a role's guides, in reading order."""
        return self._role_spans.get(role, np.zeros(0, dtype=np.int64))

    def _best_per_chunk(self, span_scores: np.ndarray) -> np.ndarray:
        if self._span_bounds.size == 0:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        padded = np.append(span_scores, np.float32(-1.0))
        return np.where(self._has_spans, np.maximum.reduceat(padded, self._span_bounds)[0::2], -1.0)

    def search(
        self,
        query_vector: np.ndarray,
        query_text: str,
        k: int,
        roles: Sequence[str] = (),
        prefer_roles: Sequence[str] = (),
    ) -> Retrieval:
        """The `k` best chunks for a query, and every sentence's score.

        Args:
            query_vector: the normalised embedding of `query_text`, or several embeddings (one per
                row) of phrasings of the same question; a passage's similarity is their mean.
            query_text: the text, for BM25. k: how many hits.
            roles: keep only chunks of these roles (a hard filter; empty keeps all).
            prefer_roles: add `role_boost` to chunks of these roles (a soft preference).
        """
        chunks = self.index.chunks
        size = len(chunks)
        if size == 0 or k <= 0:
            return Retrieval([], np.zeros(len(self.index.spans), dtype=np.float32))
        queries = np.atleast_2d(query_vector).astype(np.float32, copy=False)
        settings = self.settings
        pool = settings.candidates_per_hit * k + settings.candidates_extra
        _, rows = self.index.chunk_store.search(queries, min(pool, size), labels=roles)
        candidates = {int(row) for row in rows.ravel() if row >= 0}
        lexical = self.lexical.relative_scores(query_text) if self.lexical is not None else None
        span_dense, span_scores = self._score_sentences(queries, query_text)
        sentence_dense = self._best_per_chunk(span_dense) if self.index.spans else None
        sentence = self._best_per_chunk(span_scores) if self.index.spans else None

        for scores in (lexical, sentence):
            if scores is not None:
                candidates.update(self._best_rows(scores, pool, prefer_roles))
        ordered = sorted(candidates)
        # A chunk's similarity to several phrasings of the question is their mean.
        similarities = self.index.chunk_store.similarities(queries, ordered).mean(axis=1)
        dense = dict(zip(ordered, similarities.tolist(), strict=True))

        boosted, allowed = set(prefer_roles), set(roles)
        weight = settings.sentence_weight if sentence is not None else 0.0
        scored = []
        for row in candidates:
            chunk = chunks[row]
            if (allowed and chunk.role not in allowed) or not self._answerable[row]:
                continue
            lexical_score = float(lexical[row]) if lexical is not None else 0.0
            whole = dense[row] + settings.lexical_weight * lexical_score
            score = (1 - weight) * whole + (weight * float(sentence[row]) if weight else 0.0)
            if chunk.role in boosted:
                score += settings.role_boost
            closeness = max(dense[row], float(sentence_dense[row])) if sentence_dense is not None else dense[row]
            scored.append((score, closeness, lexical_score, row))
        scored.sort(key=lambda item: (-item[0], item[3]))
        hits = [
            Hit(rank=rank, score=score, dense=closeness, lexical=lexical_score, row=row, chunk=chunks[row])
            for rank, (score, closeness, lexical_score, row) in enumerate(scored[:k], start=1)
        ]
        coverage = self.sentence_lexical.coverage(query_text) if self.sentence_lexical is not None else 1.0
        return Retrieval(hits, span_scores, coverage)

    def _score_sentences(self, queries: np.ndarray, query_text: str) -> tuple[np.ndarray, np.ndarray]:
        """Each sentence's closeness in meaning to the question, and that plus its lexical score
        (-1 for a sentence that is not answer material)."""
        if self.index.spans:
            span_dense = self.index.span_store.similarities(queries).mean(axis=1)
        else:
            span_dense = np.zeros(0, np.float32)
        span_dense = np.where(self.material, span_dense, np.float32(-1.0))
        if self.sentence_lexical is None:
            return span_dense, span_dense
        lexical_spans = self.sentence_lexical.relative_scores(query_text)
        weighted = span_dense + self.settings.lexical_weight * lexical_spans
        return span_dense, np.where(self.material, weighted, np.float32(-1.0))

    def _best_rows(self, scores: np.ndarray, pool: int, prefer_roles: Sequence[str]) -> set[int]:
        """The `pool` chunks best by `scores`, and the best `pool` of each preferred role's own."""
        rows = {int(row) for row in np.argsort(-scores)[:pool]}
        # The named role's own best passages compete too: among hundreds of guides they may fall
        # outside every pool, where no preference for the role can reach them.
        for role in prefer_roles:
            own = self._role_chunks.get(role, np.zeros(0, dtype=np.int64))
            rows.update(int(row) for row in own[np.argsort(-scores[own], kind="stable")[:pool]])
        return rows
