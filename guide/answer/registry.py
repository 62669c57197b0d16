"""The answerers `answer.backend` can name, and the factory the engine calls once.

    ANSWERERS["extractive"] = ExtractiveAnswerer      # quotes the guides' sentences
    ANSWERERS["writer"] = WritingAnswerer             # a language model writes, each sentence checked

A factory is called with the settings and the engine's cached query embedder; another answerer
is one module with such a class (see `guide.answer.base.Answerer`) plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from guide.answer.base import Answerer
from guide.answer.extractive import ExtractiveAnswerer
from guide.answer.writer import WritingAnswerer
from guide.ask.library import EmbedMany
from guide.config import Settings
from guide.errors import ConfigError

AnswererFactory = Callable[[Settings, EmbedMany], Answerer]

# `answer.backend` name -> factory (a class taking the settings and the query embedder).
ANSWERERS: dict[str, AnswererFactory] = {"extractive": ExtractiveAnswerer, "writer": WritingAnswerer}


def make_answerer(settings: Settings, embed_many: EmbedMany) -> Answerer:
    """The answerer `answer.backend` names."""
    name = settings.answer.backend
    if name not in ANSWERERS:
        raise ConfigError(f"Unknown answerer {name!r} (answer.backend); known: {', '.join(sorted(ANSWERERS))}.")
    return ANSWERERS[name](settings, embed_many)
