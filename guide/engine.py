"""The question-answering service: one loaded index and model, shared by every session and thread.

A question goes one way: cleaned, understood (`guide.ask.interpret`), retrieved (`guide.ask.retrieval`),
then either refused here (the same rule for every answerer) or handed to the answerer that
`answer.backend` names (`guide.answer.base`), which writes the cited answer.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from guide.answer.base import Answerer, Event, Final, Library, Stage, make_answerer
from guide.answer.records import Answer, confidence_from_score, refusal, relevance
from guide.answer.structured import STRUCTURED_KINDS
from guide.ask.interpret import (
    Interpretation,
    Lexicon,
    asked_subject,
    asked_thing,
    clean_question,
    interpret,
    tokens_of,
    wording_hint,
)
from guide.ask.retrieval import Hit, Retrieval
from guide.config import Settings
from guide.errors import GuideError
from guide.index import LoadedIndex, load_index
from guide.index.embedding import CrossEncoderReranker, Embedder, Reranker, load_embedder
from guide.index.storage import current_generation
from guide.ingest.corpus import without_reference_marks

logger = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 1024
# Kinds of question about a role the guides cover that are answered whatever their wording's
# similarity to any one passage ("What does a clinical professor do day to day?").
_ALWAYS_ANSWERED = (*STRUCTURED_KINDS, "compare")


def _library(index: LoadedIndex, settings: Settings, english: frozenset[str] = frozenset()) -> Library:
    from guide.ask.retrieval import Retriever

    retrieval = settings.retrieval
    if not retrieval.answer_material_only:
        index = dataclasses.replace(index, spans=[dataclasses.replace(span, material=True) for span in index.spans])
    lexicon = Lexicon(
        index.documents.values(), index.collection, typo_tolerance=retrieval.typo_tolerance, english=english
    )
    return Library(index, Retriever(index, retrieval), lexicon)


class Engine:
    """Answers questions from one index; `reload` swaps in a rebuilt index atomically.

    Args:
        settings: every setting (the answerer is chosen by `answer.backend`).
        embedder: the query embedder (the model the index was built with).
        index: the loaded index.
        reranker: makes the cross-encoder `retrieval.reranker` names, when it is set (loaded on
            first use).
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        index: LoadedIndex,
        reranker: Callable[[str], Reranker] = CrossEncoderReranker,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self._english: frozenset[str] = getattr(embedder, "words", frozenset())
        self._state = _library(index, settings, self._english)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # The embedded names and aliases of the roles, with the library they were embedded from
        # (held weakly: a replaced library is not kept alive by it).
        self._role_names: tuple[weakref.ref[Library], np.ndarray] | None = None
        self._cache_lock = threading.Lock()
        self._make_reranker = reranker
        self._reranker: Reranker | None = None
        self._reload_lock = threading.Lock()
        self._unloadable: Path | None = None
        self.active = 0  # questions being answered now (a draining replica waits for 0)
        self._active_lock = threading.Lock()
        self.answerer: Answerer = make_answerer(settings, self.embed_many)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the model (unless given) and the index named by `settings`."""
        # The index is checked first: a damaged one fails at once, before the model loads.
        index = load_index(settings.index_dir, model=settings.embedding.model)
        return cls(settings, embedder or load_embedder(settings.embedding), index)

    @property
    def index(self) -> LoadedIndex:
        return self._state.index

    def reload(self) -> None:
        """Load the live index again; questions already running finish on the old one."""
        index = load_index(self.settings.index_dir, model=self.settings.embedding.model)
        self._state = _library(index, self.settings, self._english)

    def refresh(self) -> bool:
        """Switch to the live generation when a build has published a new one; whether it switched.

        Cheap enough to call before every question (it reads the one-line `CURRENT` pointer). A
        new generation that cannot be loaded is logged and left alone: the engine keeps serving
        the one it has, and does not try that generation again.
        """
        try:
            live = current_generation(self.settings.index_dir)
        except GuideError:
            return False
        if live is None or live == self.index.path or live == self._unloadable:
            return False
        with self._reload_lock:
            if live == self.index.path:
                return False
            try:
                self.reload()
            except GuideError as error:
                logger.warning("Keeping the index %s: the new one cannot be loaded (%s)", self.index.path, error)
                self._unloadable = live
                return False
        logger.info("Switched to the index %s", self.index.path)
        return True

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
            found = dataclasses.replace(found, kind="fact")
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

    def _search(self, state: Library, interpretation: Interpretation, k: int | None, roles: Sequence[str]) -> Retrieval:
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
            found = dataclasses.replace(found, hits=self._rerank(query, found.hits))
        return found

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The hits in the cross-encoder's order.

        Its scores are on another scale than retrieval's, which answers mix with sentence
        similarities, so each hit keeps a retrieval score: the one of the same rank before
        (the best score goes to the reranker's first hit), and the reranker's own in `reranked`.
        """
        if self._reranker is None:
            self._reranker = self._make_reranker(self.settings.retrieval.reranker)
        scores = self._reranker.score(query, [hit.chunk.context_text() for hit in hits])
        order = np.argsort(-scores, kind="stable")
        ranked_scores = sorted((hit.score for hit in hits), reverse=True)
        return [
            dataclasses.replace(hits[i], rank=rank, score=ranked_scores[rank - 1], reranked=float(scores[i]))
            for rank, i in enumerate(order, start=1)
        ]

    def ask(
        self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = ()
    ) -> Answer:
        """A cited answer to `question`, or a refusal that says what the guides cover."""
        with self._active_lock:
            self.active += 1
        try:
            return self._ask(question, history, k, roles)
        finally:
            with self._active_lock:
                self.active -= 1

    def _ask(self, question: str, history: Sequence[str], k: int | None, roles: Sequence[str]) -> Answer:
        for event in self._events(question, history, k, roles, streaming=False):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("an answer stream ends with its answer")

    def stream(
        self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = ()
    ) -> Iterator[Event]:
        """`ask`, as events to show while it runs: the stages it goes through (`Stage`), pieces of
        the answer's text as they are written (`Text`, from answerers that write as they go),
        and last the whole answer (`Final`), the same one `ask` returns."""
        with self._active_lock:
            self.active += 1
        try:
            yield from self._events(question, history, k, roles, streaming=True)
        finally:
            with self._active_lock:
                self.active -= 1

    def _events(
        self, question: str, history: Sequence[str], k: int | None, roles: Sequence[str], streaming: bool
    ) -> Iterator[Event]:
        state = self._state
        yield Stage("understanding")
        cleaned, notice = clean_question(question, self.settings.answer.max_question_chars)
        if not cleaned:
            reason = "Please type a question about an academic career in machine learning."
            answer = refusal(question, Interpretation(question, "", ""), state.index, [], 0.0, reason=reason)
            yield Final(self._finish(answer, notice))
            return
        hint = wording_hint(cleaned)
        if hint is not None and not any(ch.isalnum() for ch in cleaned):
            answer = refusal(cleaned, Interpretation(cleaned, "", ""), state.index, [], 0.0, reason=hint)
            yield Final(self._finish(answer, notice))
            return
        interpretation = self.interpret(cleaned, history)
        yield Stage("searching")
        found = self._search(state, interpretation, k, roles)
        refused = self._refusal(state, cleaned, interpretation, found, hint)
        if refused is not None:
            yield Final(self._finish(refused, notice))
            return
        yield Stage("writing")
        stream = getattr(self.answerer, "stream", None)
        if not streaming or stream is None:
            yield Final(self._finish(self.answerer.answer(cleaned, interpretation, found, state), notice))
            return
        for event in stream(cleaned, interpretation, found, state):
            yield Final(self._finish(event.answer, notice)) if isinstance(event, Final) else event

    def _finish(self, answer: Answer, notice: str | None) -> Answer:
        settings = self.settings.answer
        return dataclasses.replace(
            answer, notice=notice, cutoffs=(settings.medium_confidence, settings.high_confidence)
        )

    def _refusal(
        self, state: Library, question: str, interpretation: Interpretation, found: Retrieval, hint: str | None
    ) -> Answer | None:
        """The refusal of a question the guides do not answer, or None to answer it."""
        settings = self.settings.answer
        score = relevance(found, settings)
        if unknown := self.unknown_subject(interpretation):
            reason = (
                f"The guides do not cover {unknown}; they are about these roles: "
                + ", ".join(state.lexicon.label(role) for role in state.index.roles)
                + "."
            )
            return refusal(question, interpretation, state.index, found.hits, 0.0, reason=reason)
        threshold = settings.refusal_threshold if interpretation.roles else settings.refusal_threshold_no_role
        if found.hits and (score >= threshold or self.always_answered(interpretation)):
            return None
        reason = f"I could not find an answer to that in the career guides. {hint}" if hint else None
        return refusal(
            question, interpretation, state.index, found.hits, confidence_from_score(score, settings), reason=reason
        )

    def always_answered(self, interpretation: Interpretation) -> bool:
        """Whether a question is answered whatever its similarity to the guides: a structured
        question or a comparison about roles the guides cover."""
        return bool(interpretation.roles) and interpretation.kind in _ALWAYS_ANSWERED

    def unknown_subject(self, interpretation: Interpretation) -> str | None:
        """What a question asks about when the guides do not know it: a job ("the job of airline
        pilot") or a thing to get ("a student visa")."""
        if not self.settings.answer.subject_check or interpretation.changed:
            return None
        # A mark such as "[3]" would hide the subject, and must not be echoed as a citation.
        question = without_reference_marks(interpretation.question)
        job = asked_subject(question)
        if job is not None and self._unknown_job(job):
            return f"the job of {job}"
        thing = asked_thing(question)
        return thing if thing is not None and self._unknown(thing) else None

    def _unknown_job(self, job: str) -> bool:
        """Whether the guides do not know the job `job`. They know it when it holds a role's own
        name or alias, or a role's hint in words they use ("postdoc"); otherwise only when it is
        close in meaning to a role's name or alias ("faculty member", not "pilot", a word they use
        of pilot studies)."""
        roles, spans = self._state.lexicon.detect_roles(job)
        if spans or (roles and not self._has_unknown_word(job)):
            return False
        return self._closeness_to_roles(job) < self.settings.answer.job_closeness

    def _closeness_to_roles(self, phrase: str) -> float:
        """The cosine of `phrase` to the closest name or alias of a role of the loaded guides."""
        state = self._state
        with self._cache_lock:
            cached = self._role_names
        if cached is None or cached[0]() is not state:
            names = sorted({name for doc in state.index.documents.values() for name in (doc.label, *doc.aliases)})
            cached = (weakref.ref(state), self.embed_many(names))
            with self._cache_lock:
                self._role_names = cached
        vectors = cached[1]
        return float(np.max(vectors @ self.embed_many([phrase])[0])) if len(vectors) else 0.0

    def _unknown(self, phrase: str) -> bool:
        """Whether the guides do not know what `phrase` names: no role's own name or alias is in it
        ("a lecturer applicant" is covered), and it has a word they never use ("pilot")."""
        return not self._state.lexicon.detect_roles(phrase)[1] and self._has_unknown_word(phrase)

    def _has_unknown_word(self, phrase: str) -> bool:
        lexicon = self._state.lexicon
        return any(not lexicon.in_guides(word) for word, _, _ in tokens_of(phrase) if len(word) > 2)
