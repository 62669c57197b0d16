"""The question-answering service: one loaded index and model, shared by every session and thread.

A question goes one way: cleaned, understood (`guide.ask.interpret`), retrieved (`guide.ask.retrieval`),
then either refused here (the same rule for every answerer) or handed to the answerer that
`answer.backend` names (`guide.answer.base`), which writes the cited answer.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from guide.answer.base import Answerer, Event, Final, Stage
from guide.answer.records import Answer
from guide.answer.refusal import refusal
from guide.answer.registry import make_answerer
from guide.ask import kinds
from guide.ask.gate import AskedJob, RefusalGate
from guide.ask.interpret import (
    Interpretation,
    KindReader,
    clean_question,
    expand_shorthand,
    interpret_turn,
    wording_hint,
)
from guide.ask.lexicon import Lexicon
from guide.ask.library import Library, open_library
from guide.ask.retrieval import Hit, Retrieval
from guide.config import Settings
from guide.errors import GuideError
from guide.index import LoadedIndex, load_index
from guide.index.embedding import CrossEncoderReranker, Embedder, Reranker, load_embedder
from guide.index.storage import current_generation

logger = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 1024


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
        self._known_words: frozenset[str] = getattr(embedder, "words", frozenset())
        self._semantic: bool = getattr(embedder, "semantic", True)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._state = open_library(index, settings, self.embed_many, self._known_words, self._semantic)
        self._make_reranker = reranker
        self._reranker: Reranker | None = None
        self._reload_lock = threading.Lock()
        self._unloadable: Path | None = None
        self.active = 0  # questions being answered now (a draining replica waits for 0)
        self._active_lock = threading.Lock()
        self.answerer: Answerer = make_answerer(settings, self.embed_many)
        self.gate = RefusalGate(settings, self.embed_many, getattr(self.answerer, "kinds", ()))

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the model (unless given) and the index named by `settings`."""
        # The index is checked first: a damaged one fails at once, before the model loads.
        index = load_index(settings.index_dir, model=settings.embedding.model)
        return cls(settings, embedder or load_embedder(settings.embedding), index)

    @property
    def library(self) -> Library:
        """The live generation and what reads it; a question takes it once (see `Library`)."""
        return self._state

    @property
    def index(self) -> LoadedIndex:
        return self._state.index

    def reload(self) -> None:
        """Load the live index again; questions already running finish on the old one."""
        index = load_index(self.settings.index_dir, model=self.settings.embedding.model)
        self._state = open_library(index, self.settings, self.embed_many, self._known_words, self._semantic)

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

    def interpret(
        self, question: str, history: Sequence[str] = (), library: Library | None = None,
        previous: Interpretation | None = None,
    ) -> Interpretation:
        """How a question is understood, after the earlier questions of its conversation, or after
        `previous`, the interpretation of the turn before (then `history` is not read again).

        Every turn is cleaned and cut to `answer.max_question_chars` as the question is: a long
        earlier turn costs no more than a long question.
        """
        retrieval = self.settings.retrieval
        library = library or self._state
        if not retrieval.follow_ups:
            history, previous = (), None
        if previous is None:
            for earlier in history:
                if earlier := self._cleaned(earlier, library.lexicon):
                    previous = self._interpret_one(earlier, previous, library)
        return self._interpret_one(self._cleaned(question, library.lexicon), previous, library)

    def _cleaned(self, text: str, lexicon: Lexicon) -> str:
        return clean_question(text, self.settings.answer.max_question_chars, lexicon.language)[0]

    def _kind_reader(self, library: Library) -> KindReader | None:
        model, settings = library.kinds, self.settings.answer
        if not model:
            return None
        return KindReader(
            lambda *texts: model.read(self.embed_many(list(texts))),
            settings.kind_score,
            settings.kind_margin,
            settings.kind_overrule,
        )

    def _interpret_one(self, question: str, previous: Interpretation | None, library: Library) -> Interpretation:
        retrieval, lexicon = self.settings.retrieval, library.lexicon
        question = expand_shorthand(question, library.language) or question
        if retrieval.typo_tolerance:
            question = lexicon.correct(question)
        found = interpret_turn(
            question, previous, lexicon, retrieval.follow_up_only_when_leaning, self._kind_reader(library),
            retrieval.follow_up_unless_across,
        )
        if not self.settings.answer.question_kinds and found.kind != kinds.COMPARE:
            found = dataclasses.replace(found, kind=kinds.FACT)
        return found

    def _expand(self, library: Library, text: str) -> str:
        return library.lexicon.expand(text) if self.settings.retrieval.expand_queries else text

    def search(
        self, question: str, k: int | None = None, roles: Sequence[str] = (), history: Sequence[str] = ()
    ) -> tuple[Interpretation, list[Hit]]:
        """The best passages for a question (and its conversation), best first."""
        library = self._state
        interpretation = self.interpret(question, history, library)
        return interpretation, self._search(library, interpretation, k, roles).hits

    def retrieve(
        self, interpretation: Interpretation, k: int | None = None, roles: Sequence[str] = (),
        library: Library | None = None,
    ) -> Retrieval:
        """The passages and sentence scores for an understood question."""
        return self._search(library or self._state, interpretation, k, roles)

    def _search(self, library: Library, interpretation: Interpretation, k: int | None, roles: Sequence[str]) -> Retrieval:
        k = k or self.settings.retrieval.k
        query = self._expand(library, interpretation.query)
        texts = [query]
        if (
            self.settings.retrieval.question_as_asked
            and not interpretation.changed
            and interpretation.question != query
        ):
            # The role-free topic finds the passage within the role's guide; the question as
            # asked keeps what the role name itself contributes ("How many PhDs are awarded?").
            texts.append(self._expand(library, interpretation.question))
        vectors = self.embed_many(texts)
        # A question that names no role but names the field prefers the field's guides.
        prefer = interpretation.roles or library.lexicon.field_preference(interpretation.question)
        found = library.retriever.search(vectors, query, k, roles=roles, prefer_roles=prefer)
        if interpretation.roles:
            found = _named_first(library, interpretation, found)
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
        self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = (),
        previous: Interpretation | None = None,
    ) -> Answer:
        """A cited answer to `question`, or a refusal that says what the guides cover.

        Args:
            question: the question as typed.
            history: the earlier questions of the conversation, oldest first.
            k: how many passages to retrieve (default `retrieval.k`).
            roles: answer only from guides of these roles.
            previous: the interpretation of the turn before (`Answer.interpretation`), which a
                conversation carries so that its history is not read again.
        """
        with self._active_lock:
            self.active += 1
        try:
            for event in self._events(question, history, k, roles, previous, streaming=False):
                if isinstance(event, Final):
                    return event.answer
            raise AssertionError("an answer stream ends with its answer")
        finally:
            with self._active_lock:
                self.active -= 1

    def stream(
        self, question: str, history: Sequence[str] = (), k: int | None = None, roles: Sequence[str] = (),
        previous: Interpretation | None = None,
    ) -> Iterator[Event]:
        """`ask`, as events to show while it runs: the stages it goes through (`Stage`), pieces of
        the answer's text as they are written (`Text`, from answerers that write as they go),
        and last the whole answer (`Final`), the same one `ask` returns."""
        with self._active_lock:
            self.active += 1
        try:
            yield from self._events(question, history, k, roles, previous, streaming=True)
        finally:
            with self._active_lock:
                self.active -= 1

    def _events(
        self,
        question: str,
        history: Sequence[str],
        k: int | None,
        roles: Sequence[str],
        previous: Interpretation | None,
        streaming: bool,
    ) -> Iterator[Event]:
        # The one read of the live generation for this question: everything below uses `library`.
        library = self._state
        language = library.language
        yield Stage("understanding")
        cleaned, notice = clean_question(question, self.settings.answer.max_question_chars, language)
        hint = wording_hint(cleaned, language) if cleaned else language.NO_QUESTION
        if not cleaned or (hint is not None and not any(ch.isalnum() for ch in cleaned)):
            asked = cleaned or question
            answer = refusal(asked, Interpretation(asked, "", ""), library, [], 0.0, reason=hint)
            yield Final(self._finish(answer, notice))
            return
        interpretation = self.interpret(cleaned, history, library, previous)
        yield Stage("searching")
        found = self._search(library, interpretation, k, roles)
        refused = self.gate.check(library, interpretation, found, hint)
        if refused is not None:
            answer = refusal(cleaned, interpretation, library, found.hits, refused.confidence, reason=refused.reason)
            yield Final(self._finish(answer, notice))
            return
        asked = self.gate.asked_job(library, interpretation)
        if asked is not None and interpretation.roles != (asked.role,):
            # A job named otherwise than by a role's names is answered from the closest role's guide.
            labels = (library.lexicon.label(asked.role),)
            interpretation = dataclasses.replace(interpretation, roles=(asked.role,), labels=labels)
            found = self._search(library, interpretation, k, roles)
        # A job the closest role does not cover is said first in the answer.
        redirect = None if asked is None or asked.covered else asked
        yield Stage("writing")
        stream = getattr(self.answerer, "stream", None)
        if not streaming or stream is None:
            answer = self.answerer.answer(cleaned, interpretation, found, library)
            yield Final(self._finish(answer, notice, redirect, library))
            return
        for event in stream(cleaned, interpretation, found, library):
            yield Final(self._finish(event.answer, notice, redirect, library)) if isinstance(event, Final) else event

    def _finish(
        self, answer: Answer, notice: str | None, redirect: AskedJob | None = None, library: Library | None = None
    ) -> Answer:
        settings = self.settings.answer
        answer = dataclasses.replace(answer, notice=notice, cutoffs=(settings.medium_confidence, settings.high_confidence))
        if redirect is None or answer.refused or library is None:
            return answer
        # A job the guides do not cover, answered from the closest role: said first, and unsure.
        job, role = redirect.job, redirect.role
        language = library.language
        subject = language.THE_JOB_OF.format(job=job)
        opening = language.CLOSEST_COVERED.format(subject=subject, closest=library.lexicon.label(role))
        return dataclasses.replace(
            answer,
            text=f"{opening} {answer.text}",
            lead=f"{opening} {answer.lead}" if answer.lead else "",
            confidence=min(answer.confidence, settings.redirect_confidence),
            not_covered=subject,
        )


def _named_first(library: Library, interpretation: Interpretation, found: Retrieval) -> Retrieval:
    """`found` with the named roles' passages first when the top one is another guide's but
    theirs speaks to the question as fully (`Library.speaks_as_fully`): among hundreds of guides
    some other passage is nearly always a little closer by chance."""
    hits, roles = found.hits, set(interpretation.roles)
    own = [hit for hit in hits if hit.chunk.role in roles]
    if not own or hits[0].chunk.role in roles:
        return found
    words = library.topic_stems(interpretation.query)
    if not library.speaks_as_fully([own[0].chunk.text], [hits[0].chunk.text], words):
        return found
    others = [hit for hit in hits if hit.chunk.role not in roles]
    ordered = [dataclasses.replace(hit, rank=rank) for rank, hit in enumerate([*own, *others], start=1)]
    return dataclasses.replace(found, hits=ordered)
