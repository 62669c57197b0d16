"""The question-answering service: one loaded index and model, shared by every session and thread."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from guide.answer import Answer, compose_answer, refusal
from guide.compare import compose_comparison
from guide.config import Settings
from guide.embedding import CrossEncoderReranker, Embedder, SentenceTransformerEmbedder
from guide.index import LoadedIndex, load_index
from guide.query import Interpretation, clean_question, expand_query, interpret, wording_hint
from guide.retrieval import Hit, Retrieval, Retriever

logger = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class _State:
    index: LoadedIndex
    retriever: Retriever


class Engine:
    """Answers questions from one index; `reload` swaps in a rebuilt index atomically."""

    def __init__(self, settings: Settings, embedder: Embedder, index: LoadedIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self._state = _State(index, Retriever(index, settings.retrieval))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._reranker: CrossEncoderReranker | None = None
        self._corpus_prefix = f"{settings.corpus_dir.as_posix().rstrip('/')}/"

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the model (unless given) and the index named by `settings`."""
        # The index is checked first: a damaged one fails at once, before the model loads.
        index = load_index(settings.index_dir, model=settings.embedding.model)
        return cls(settings, embedder or SentenceTransformerEmbedder(settings.embedding), index)

    @property
    def index(self) -> LoadedIndex:
        return self._state.index

    def reload(self) -> None:
        """Load the live index again; questions already running finish on the old one."""
        index = load_index(self.settings.index_dir, model=self.settings.embedding.model)
        self._state = _State(index, Retriever(index, self.settings.retrieval))

    def embed(self, text: str) -> np.ndarray:
        """The normalised embedding of one query text, cached."""
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings of query texts (one row each), cached; new ones in one batch."""
        with self._cache_lock:
            known = {text: self._cache[text] for text in texts if text in self._cache}
            for text in known:
                self._cache.move_to_end(text)
        new = [text for text in dict.fromkeys(texts) if text not in known]
        if new:
            vectors = self.embedder.encode(new)
            known.update(zip(new, vectors, strict=True))
            with self._cache_lock:
                self._cache.update(zip(new, vectors, strict=True))
                while len(self._cache) > QUERY_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return np.stack([known[text] for text in texts])

    def interpret(self, question: str, history: Sequence[str] = ()) -> Interpretation:
        """How a question is understood, given the earlier questions of its conversation."""
        return interpret(question, history if self.settings.retrieval.follow_ups else (), self.index.roles)

    def _query(self, interpretation: Interpretation) -> str:
        return self._expand(interpretation.query)

    def _expand(self, text: str) -> str:
        return expand_query(text) if self.settings.retrieval.expand_queries else text

    def search(
        self, question: str, k: int | None = None, roles: Sequence[str] = (), history: Sequence[str] = ()
    ) -> tuple[Interpretation, list[Hit]]:
        """The best passages for a question (and its conversation), best first."""
        interpretation = self.interpret(question, history)
        return interpretation, self._search(self._state, interpretation, k, roles).hits

    def retrieve(self, interpretation: Interpretation, k: int | None = None, roles: Sequence[str] = ()) -> Retrieval:
        """The passages and sentence scores for an understood question."""
        return self._search(self._state, interpretation, k, roles)

    def _search(self, state: _State, interpretation: Interpretation, k: int | None, roles: Sequence[str]) -> Retrieval:
        k = k or self.settings.retrieval.k
        query = self._query(interpretation)
        texts = [query]
        if (
            self.settings.retrieval.question_as_asked
            and not interpretation.changed
            and interpretation.question != query
        ):
            # The role-free topic finds the passage within the role's guide; the question as
            # asked keeps what the role name itself contributes ("How many PhDs are awarded?").
            texts.append(self._expand(interpretation.question))
        vectors = self.embed_many(texts)
        found = state.retriever.search(vectors, query, k, roles=roles, prefer_roles=interpretation.roles)
        if self.settings.retrieval.reranker and found.hits:
            found = Retrieval(self._rerank(query, found.hits), found.sentence_scores)
        return found

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if self._reranker is None:
            self._reranker = CrossEncoderReranker(self.settings.retrieval.reranker)
        scores = self._reranker.score(query, [hit.chunk.context_text() for hit in hits])
        order = np.argsort(-scores, kind="stable")
        return [
            Hit(
                rank=rank,
                score=float(scores[i]),
                dense=hits[i].dense,
                lexical=hits[i].lexical,
                row=hits[i].row,
                chunk=hits[i].chunk,
            )
            for rank, i in enumerate(order, start=1)
        ]

    def ask(
        self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = ()
    ) -> Answer:
        """A cited answer to `question`, or a refusal that says what the guides cover."""
        state = self._state
        cleaned, notice = clean_question(question, self.settings.answer.max_question_chars)
        if not cleaned:
            empty = Interpretation(question, "", "")
            return refusal(
                question,
                empty,
                state.index,
                [],
                0.0,
                notice,
                reason="Please type a question about an academic career in machine learning.",
            )
        hint = wording_hint(cleaned)
        if hint is not None and not any(ch.isalnum() for ch in cleaned):
            return refusal(cleaned, Interpretation(cleaned, "", ""), state.index, [], 0.0, notice, reason=hint)
        interpretation = self.interpret(cleaned, history)
        if interpretation.compare:
            return compose_comparison(cleaned, interpretation, state.index, self.embed, self._corpus_prefix, notice)
        found = self._search(state, interpretation, k, roles)
        return compose_answer(
            cleaned, interpretation, found, state.index, self.settings, self._corpus_prefix, notice, hint
        )
