"""Answerers: what turns a question and its retrieved passages into a cited answer.

The engine understands the question, retrieves, and decides whether to refuse (the same for
every answerer); an answerer only writes the answer. `answer.backend` names one of `ANSWERERS`:

    ANSWERERS["extractive"] = ExtractiveAnswerer      # quotes the guides' sentences
    ANSWERERS["writer"] = WritingAnswerer             # a language model writes, each sentence checked

A factory is called once per engine with the settings and the engine's cached query embedder;
another answerer (a generative one, say) is one module with such a class plus one line here.
Its answer must cite what it says: every `[n]` in `Answer.text` is one of `Answer.citations`,
built with `guide.answer.CitationList` from the passages of the retrieval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, Union

import numpy as np

from guide.answer.extractive import ExtractiveAnswerer
from guide.answer.records import Answer
from guide.answer.writer import WritingAnswerer
from guide.ask.interpret import Interpretation, Lexicon
from guide.ask.retrieval import Retrieval, Retriever
from guide.config import Settings
from guide.errors import ConfigError
from guide.index import LoadedIndex

EmbedMany = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Library:
    """One loaded index with what reads it: the retriever over it and the lexicon of its roles.

    It never changes; the engine swaps in a new one when the index is rebuilt, so an answer is
    written from one index from start to end.
    """

    index: LoadedIndex
    retriever: Retriever
    lexicon: Lexicon


class Answerer(Protocol):
    """Writes the answer to a question the engine has decided to answer."""

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


AnswererFactory = Callable[[Settings, EmbedMany], Answerer]

# `answer.backend` name -> factory (a class taking the settings and the query embedder).
ANSWERERS: dict[str, AnswererFactory] = {"extractive": ExtractiveAnswerer, "writer": WritingAnswerer}


def make_answerer(settings: Settings, embed_many: EmbedMany) -> Answerer:
    """The answerer `answer.backend` names."""
    name = settings.answer.backend
    if name not in ANSWERERS:
        raise ConfigError(f"Unknown answerer {name!r} (answer.backend); known: {', '.join(sorted(ANSWERERS))}.")
    return ANSWERERS[name](settings, embed_many)
