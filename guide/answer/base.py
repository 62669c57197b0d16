"""The answerer protocol: what turns a question and its retrieved passages into a cited answer.

The engine understands the question, retrieves, and the refusal gate decides whether to refuse
(the same for every answerer); an answerer only writes the answer, and declares in `kinds` the
kinds of question it answers its own way. Its answer must cite what it says: every `[n]` in
`Answer.text` is one of `Answer.citations`, built with `guide.answer.citations.CitationList`
from the passages of the retrieval. `guide.answer.registry` names the answerers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, Union

from guide.answer.records import Answer
from guide.ask.interpret import Interpretation
from guide.ask.library import EmbedMany, Library
from guide.ask.retrieval import Retrieval
from guide.config import Settings

__all__ = ["Answerer", "EmbedMany", "Event", "Final", "Library", "Request", "Stage", "StreamingAnswerer", "Text"]


@dataclass(frozen=True)
class Request:
    """What every answer builder reads: the question, how it was understood, what was retrieved
    for it, the generation it came from, the settings and the query embedder."""

    question: str
    interpretation: Interpretation
    retrieval: Retrieval
    library: Library
    settings: Settings
    embed_many: EmbedMany


class Answerer(Protocol):
    """Writes the answer to a question the engine has decided to answer."""

    # The kinds of question (`guide.ask.kinds`) it answers in their own form; the refusal gate
    # answers a question about a role as a whole only when its kind is one of them.
    kinds: tuple[str, ...]

    def answer(self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library) -> Answer:
        """The cited answer.

        Args:
            question: the question as asked (cleaned).
            interpretation: how it was understood: its kind, roles, topic and search query.
            retrieval: the passages found for it and every sentence's score.
            index: the index the passages come from, with its retriever and lexicon.
        """
        ...


@dataclass(frozen=True)
class Stage:
    """What the engine is doing now, for a status line: "understanding", "searching", "writing"."""

    name: str


@dataclass(frozen=True)
class Text:
    """A piece of the answer's text as it is written, to show before the whole answer is ready."""

    text: str


@dataclass(frozen=True)
class Final:
    """The whole answer, with its citations: the last event of a stream."""

    answer: Answer


Event = Union[Stage, Text, Final]  # noqa: UP007 (a runtime alias)


class StreamingAnswerer(Answerer, Protocol):
    """An answerer that can show its answer as it writes it (optional: `Engine.stream` uses
    `answer` and sends the whole text at once for answerers without it)."""

    def stream(
        self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library
    ) -> Iterator[Text | Final]:
        """Pieces of the answer as they are ready, then the whole answer (ends with one `Final`)."""
        ...
