"""The extractive answerer (the default): answers made of the guides' own sentences, each cited.

By the question's kind: a comparison is a table of the roles' sentences per aspect
(`guide.answer.compare`); a broad, duties, career, history, trends, cross-role or situation question,
or one that names a facet ("What skills…"), is a lead and cited points found through the
guides' sections (`guide.answer.structured`); any other question, or a structured one the guides give
no points for, gets the best few sentences of the top passages (`guide.answer.records`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from guide.answer.compare import compose_comparison
from guide.answer.records import Answer, compose_answer, confidence_from_score, relevance, structured_answer
from guide.answer.structured import STRUCTURED_KINDS, compose_structure, facet_kind
from guide.ask.interpret import Interpretation, content_words, stems, tokens_of
from guide.ask.retrieval import Retrieval
from guide.config import Settings
from guide.ingest.collection import Facet

if TYPE_CHECKING:
    from guide.answer.base import EmbedMany, Library

# Words that ask without saying about what: "What skills do lecturers need?".
_ASKING = frozenset("need needs needed require requires required want expected important key main useful".split())
_ASKING_STEMS = stems(" ".join(_ASKING))


def _logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


class ExtractiveAnswerer:
    """Quotes the guides: comparisons, structured answers and short fact answers."""

    def __init__(self, settings: Settings, embed_many: EmbedMany) -> None:
        self.settings = settings
        self._embed_many = embed_many

    def answer(self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library) -> Answer:
        if interpretation.kind == "compare":
            facets = index.index.collection.facets_for("compare")
            return compose_comparison(
                question,
                interpretation,
                index.index,
                lambda text: self._embed_many([text])[0],
                facets,
                index.lexicon.label,
                self.settings.compare,
            )
        if interpretation.kind in STRUCTURED_KINDS or self.focus(index, interpretation):
            answer = self._structured(index, question, interpretation, retrieval)
            if answer is not None:
                return answer
        confidence = confidence_from_score(relevance(retrieval, self.settings.answer), self.settings.answer)
        lexicon = index.lexicon
        # What the question is about, to tell the named guides' sentences that only their role brought in.
        topic_words = frozenset()
        if interpretation.roles:
            topic_words = stems(lexicon.without_field(lexicon.expand(interpretation.query))) - _ASKING_STEMS
        return compose_answer(
            question, interpretation, retrieval, index.index, self.settings, confidence, lexicon.label, topic_words
        )

    def focus(self, index: Library, interpretation: Interpretation) -> tuple[Facet, ...]:
        """The facets a narrow question about a role names ("What skills…"), other than its requirements."""
        if not self.settings.answer.question_kinds or not interpretation.roles:
            return ()
        if interpretation.kind not in ("fact", "overview"):
            return ()
        lexicon = index.lexicon
        named = [f for f in lexicon.facets_named(interpretation.topic, "overview") if f.name != "qualifications"]
        # Only when the facet is the whole topic ("ml researcher skills", "What skills do lecturers
        # need?"), not one word of a narrower question ("Which funders … for research grants?").
        facet_words = {w for f in named for phrase in f.words for w, _, _ in tokens_of(phrase)}
        rest = [
            word
            for word in content_words(lexicon.without_field(interpretation.topic))
            if word.rstrip("s") not in {w.rstrip("s") for w in facet_words} and word not in _ASKING
        ]
        return tuple(named) if named and not rest else ()

    def _structured(
        self, index: Library, question: str, interpretation: Interpretation, found: Retrieval
    ) -> Answer | None:
        focus = self.focus(index, interpretation)
        if focus:
            facets = focus
            interpretation = dataclasses.replace(interpretation, kind="overview")
        else:
            kind = facet_kind(interpretation.kind)
            facets = index.index.collection.facets_for(kind) if kind else ()
        vectors = self._embed_many([facet.description for facet in facets]) if facets else np.zeros((0, 1))
        shape = self.settings.structure
        structure = compose_structure(
            interpretation, found, index.retriever, index.lexicon.label, facets, vectors, shape, focused=bool(focus)
        )
        if structure is None:
            return None
        # How much of what the question asks the answer covers (facets or guides found) times how
        # well its points fit what they stand for; not the similarity of the question to one passage.
        confidence = structure.coverage * _logistic(shape.confidence_slope * (structure.fit - shape.confident_fit))
        return structured_answer(question, interpretation, structure, index.index, confidence)
