"""The question-answering service: one loaded index and model, shared by every session and thread."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from guide.answer import Answer, compose_answer, confidence_from_score, refusal, relevance, structured_answer
from guide.compare import compose_comparison
from guide.config import Settings
from guide.embedding import CrossEncoderReranker, Embedder, SentenceTransformerEmbedder
from guide.index import LoadedIndex, load_index
from guide.query import (
    Interpretation,
    Lexicon,
    asked_subject,
    clean_question,
    content_words,
    interpret,
    tokens_of,
    wording_hint,
)
from guide.retrieval import Hit, Retrieval, Retriever
from guide.structured import STRUCTURED_KINDS, compose_structure, facet_kind

logger = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class _State:
    index: LoadedIndex
    retriever: Retriever
    lexicon: Lexicon


# Words that ask without saying about what: "What skills do lecturers need?".
_ASKING = frozenset("need needs needed require requires required want expected important key main useful".split())


def _logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _state(index: LoadedIndex, settings: Settings, english: frozenset[str] = frozenset()) -> _State:
    retrieval = settings.retrieval
    if not retrieval.answer_material_only:
        from dataclasses import replace

        index = replace(index, spans=[replace(span, material=True) for span in index.spans])
    lexicon = Lexicon(
        index.documents.values(), index.collection, typo_tolerance=retrieval.typo_tolerance, english=english
    )
    return _State(index, Retriever(index, retrieval), lexicon)


class Engine:
    """Answers questions from one index; `reload` swaps in a rebuilt index atomically."""

    def __init__(self, settings: Settings, embedder: Embedder, index: LoadedIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self._english: frozenset[str] = getattr(embedder, "words", frozenset())
        self._state = _state(index, settings, self._english)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._reranker: CrossEncoderReranker | None = None

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
        self._state = _state(index, self.settings, self._english)

    def clear_cache(self) -> None:
        """Forget cached query embeddings (for timing answers as a first asking would)."""
        with self._cache_lock:
            self._cache.clear()

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

    @property
    def lexicon(self) -> Lexicon:
        """How the loaded corpus names its roles and field."""
        return self._state.lexicon

    def interpret(self, question: str, history: Sequence[str] = ()) -> Interpretation:
        """How a question is understood, given the earlier questions of its conversation."""
        retrieval = self.settings.retrieval
        lexicon = self._state.lexicon
        history = history if retrieval.follow_ups else ()
        if retrieval.typo_tolerance:
            question, history = lexicon.correct(question), [lexicon.correct(turn) for turn in history]
        found = interpret(question, history, lexicon, retrieval.follow_up_only_when_leaning)
        if not self.settings.answer.question_kinds and found.kind != "compare":
            from dataclasses import replace

            found = replace(found, kind="fact")
        return found

    def _query(self, interpretation: Interpretation) -> str:
        return self._expand(interpretation.query)

    def _expand(self, text: str) -> str:
        return self._state.lexicon.expand(text) if self.settings.retrieval.expand_queries else text

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
            found = Retrieval(self._rerank(query, found.hits), found.sentence_scores, found.coverage)
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
            facets = state.index.collection.facets_for("compare")
            return compose_comparison(
                cleaned, interpretation, state.index, self.embed, facets, state.lexicon.label, notice
            )
        found = self._search(state, interpretation, k, roles)
        settings = self.settings.answer
        score = relevance(found, settings)
        confidence = confidence_from_score(score, settings)
        reason = None
        if hint:
            reason = f"I could not find an answer to that in the career guides. {hint}"
        if unknown := self.unknown_subject(interpretation):
            reason = (
                f"The guides do not cover the job of {unknown}; they are about these roles: "
                + ", ".join(state.lexicon.label(role) for role in state.index.roles)
                + "."
            )
            return refusal(cleaned, interpretation, state.index, found.hits, 0.0, notice, reason)
        # A structured question about a role the guides cover ("What does a clinical professor
        # do day to day?") is in scope whatever its wording's similarity to any one passage.
        named = bool(interpretation.roles) and interpretation.kind in STRUCTURED_KINDS
        threshold = settings.refusal_threshold if interpretation.roles else settings.refusal_threshold_no_role
        if not found.hits or (score < threshold and not named):
            return refusal(cleaned, interpretation, state.index, found.hits, confidence, notice, reason)
        if interpretation.kind in STRUCTURED_KINDS or self._focus(state, interpretation):
            answer = self._structured(state, cleaned, interpretation, found, score, notice)
            if answer is not None:
                return answer
        return compose_answer(
            cleaned, interpretation, found, state.index, self.settings, notice, hint
        )

    def unknown_subject(self, interpretation: Interpretation) -> str | None:
        """The job a question asks about when the guides do not know it ("an airline pilot")."""
        state = self._state
        if not self.settings.answer.subject_check or interpretation.changed:
            return None
        subject = asked_subject(interpretation.question)
        # Named by a role's own name or alias ("a lecturer applicant"): a job the guides cover.
        if subject is None or state.lexicon.detect_roles(subject)[1]:
            return None
        # A word the guides never use ("pilot" in "airline pilot") means a job they do not cover.
        words = [word for word, _, _ in tokens_of(subject) if len(word) > 2]
        return subject if any(not state.lexicon.in_guides(word) for word in words) else None

    def _focus(self, state: _State, interpretation: Interpretation) -> tuple:
        """The facets a narrow question about a role names ("What skills…"), other than its requirements."""
        if not self.settings.answer.question_kinds or not interpretation.roles:
            return ()
        if interpretation.kind not in ("fact", "overview"):
            return ()
        named = [f for f in state.lexicon.facets_named(interpretation.topic, "overview") if f.name != "qualifications"]
        # Only when the facet is the whole topic ("ml researcher skills", "What skills do lecturers
        # need?"), not one word of a narrower question ("Which funders … for research grants?").
        facet_words = {w for f in named for phrase in f.words for w, _, _ in tokens_of(phrase)}
        rest = [
            word
            for word in content_words(state.lexicon.without_field(interpretation.topic))
            if word.rstrip("s") not in {w.rstrip("s") for w in facet_words} and word not in _ASKING
        ]
        return tuple(named) if named and not rest else ()

    def _structured(
        self,
        state: _State,
        question: str,
        interpretation: Interpretation,
        found: Retrieval,
        score: float,
        notice: str | None,
    ) -> Answer | None:
        focus = self._focus(state, interpretation)
        if focus:
            facets = focus
            interpretation = dataclasses.replace(interpretation, kind="overview")
        else:
            kind = facet_kind(interpretation.kind)
            facets = state.index.collection.facets_for(kind) if kind else ()
        vectors = self.embed_many([facet.description for facet in facets]) if facets else np.zeros((0, 1))
        structure = compose_structure(
            interpretation,
            found,
            state.retriever,
            state.lexicon.label,
            facets,
            vectors,
            self.settings.structure,
            focused=bool(focus),
        )
        if structure is None:
            return None
        # How much of what the question asks the answer covers (facets or guides found) times how
        # well its points fit what they stand for; not the similarity of the question to one passage.
        shape = self.settings.structure
        confidence = structure.coverage * _logistic(shape.confidence_slope * (structure.fit - shape.confident_fit))
        return structured_answer(
            question, interpretation, structure, state.index, confidence, notice
        )
