"""The extractive answerer (the default): answers made of the guides' own sentences, each cited.

By the question's kind: a comparison is a table of the roles' sentences per aspect
(`guide.answer.compare`); a broad, duties, career, history, trends, cross-role or situation
question, or one that names a facet ("What skills…"), is a lead and cited points found through
the guides' sections (`guide.answer.structured`); any other question, or a structured one the
guides give no points for, gets the best few sentences of the top passages (`guide.answer.facts`).
Every builder reads the same `Request`.
"""

from __future__ import annotations

from guide.answer.base import EmbedMany, Request
from guide.answer.compare import compose_comparison
from guide.answer.facts import compose_fact
from guide.answer.records import Answer
from guide.answer.structured import compose_structured
from guide.ask import kinds
from guide.ask.interpret import Interpretation
from guide.ask.library import Library
from guide.ask.retrieval import Retrieval
from guide.config import Settings
from guide.ingest.collection import Facet


class ExtractiveAnswerer:
    """Quotes the guides: comparisons, structured answers and short fact answers."""

    kinds = kinds.KINDS

    def __init__(self, settings: Settings, embed_many: EmbedMany) -> None:
        self.settings = settings
        self._embed_many = embed_many

    def answer(self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library) -> Answer:
        request = Request(question, interpretation, retrieval, index, self.settings, self._embed_many)
        if interpretation.kind == kinds.COMPARE:
            return compose_comparison(request)
        focus = self.focus(index, interpretation)
        if interpretation.kind in kinds.STRUCTURED or focus:
            answer = compose_structured(request, focus)
            if answer is not None:
                return answer
        return compose_fact(request)

    def focus(self, index: Library, interpretation: Interpretation) -> tuple[Facet, ...]:
        """The facets a narrow question about a role names ("What skills…"), other than its requirements."""
        if not self.settings.answer.question_kinds or not interpretation.roles:
            return ()
        if interpretation.kind not in (kinds.FACT, kinds.OVERVIEW):
            return ()
        lexicon = index.lexicon
        asking = index.language.ASKING
        named = [f for f in lexicon.facets_named(interpretation.topic, kinds.OVERVIEW) if f.name != "qualifications"]
        # Only when the facet is the whole topic ("ml researcher skills", "What skills do lecturers
        # need?"), not one word of a narrower question ("Which funders … for research grants?").
        facet_words = {w for f in named for phrase in f.words for w, _, _ in lexicon.tokens(phrase)}
        rest = [
            word
            for word in lexicon.content_words(lexicon.without_field(interpretation.topic))
            if word.rstrip("s") not in {w.rstrip("s") for w in facet_words} and word not in asking
        ]
        return tuple(named) if named and not rest else ()
