"""A second answerer, for tests only: the first answer-material sentence of the top passage, cited.

It shows what an answerer takes: this class, and one line registering it
(`ANSWERERS["first-sentence"] = FirstSentenceAnswerer`), done by the tests that use it.
"""

from __future__ import annotations

from guide.answer.base import EmbedMany, Library
from guide.answer.citations import CitationList
from guide.answer.records import Answer, as_sentence
from guide.ask.interpret import Interpretation
from guide.ask.retrieval import Retrieval
from guide.config import Settings


class FirstSentenceAnswerer:
    def __init__(self, settings: Settings, embed_many: EmbedMany) -> None:
        self.settings = settings

    def answer(self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library) -> Answer:
        top = retrieval.hits[0]
        first, last = index.index.chunk_spans[top.row]
        row = next(row for row in range(first, last) if index.retriever.material[row])
        cited = CitationList(index.index)
        n = cited.cite(top.row, row)
        text = f"{as_sentence(index.index.spans[row].answer_text)} [{n}]"
        return Answer(question, interpretation, text, refused=False, confidence=top.dense, citations=cited.citations())
