"""The writing answerer (`answer.backend: writer`): a language model writes, each sentence is checked.

The model gets the question and the retrieved passages, numbered, and writes a short answer in
which every sentence ends with the number of its passage. Each sentence is checked as it
arrives (`guide.answer.verify`): shown on the passage it cites when that one supports it, moved
to the passage that does, or else replaced by a sentence of the extractive answer, so nothing
reaches the reader that the passages do not say. The extractive answer is shown instead, with
a notice, when the model is down or slower than `answer.writer_timeout`, when too few written
sentences survive or they cover less than it does, and for comparisons and cross-role answers
(its table and groups hold more than a few sentences can).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from guide.answer.citations import CitationList
from guide.answer.extractive import ExtractiveAnswerer
from guide.answer.llm_clients import ChatModel, Messages, ModelUnavailable, make_model
from guide.answer.records import Answer, as_sentence
from guide.answer.verify import Verifier, degrees_in, numbers_in
from guide.ask.interpret import Interpretation
from guide.ask.retrieval import Hit, Retrieval
from guide.config import Settings

if TYPE_CHECKING:
    from guide.answer.base import EmbedMany, Final, Library, Text

logger = logging.getLogger(__name__)

# Kinds the extractive answer covers better than a few written sentences can.
QUOTED_KINDS = frozenset({"compare", "cross-role"})
# A supported sentence this close to a sentence already shown says it again, and is left out.
REPEAT_SIMILARITY = 0.9
# The written answer stops taking sentences past this many words.
MAX_WORDS = 120
SYSTEM_PROMPT = (
    "You answer questions about academic careers in machine learning, using only the numbered passages given. "
    "Write at most four short sentences, under 100 words in all. End every sentence with the number of the "
    "passage it comes from in square brackets, like [2]. Keep the passages' own numbers, degrees and names, "
    "add nothing they do not say, and never make a requirement stronger than they do: if a passage says "
    "'preferred', do not write 'essential'."
)

_NOTICES = {
    "down": "The written answer is not available (the language model cannot be reached); these are the guides' own words.",
    "slow": "The language model took too long; these are the guides' own words.",
    "few": "Too few of the written sentences were supported by the passages; these are the guides' own words.",
    "coverage": "The written answer left out points the guides make; these are the guides' own words.",
}


class WriterTimeout(Exception):
    """The model did not finish within `answer.writer_timeout`."""


def build_messages(question: str, interpretation: Interpretation, hits: Sequence[Hit]) -> Messages:
    """The chat messages: the instructions, then the numbered passages and the question."""
    passages = "\n\n".join(
        f"[{n}] {hit.chunk.title} > {hit.chunk.section}\n{hit.chunk.text}" for n, hit in enumerate(hits, start=1)
    )
    about = f"\nThe question is about: {', '.join(interpretation.labels)}." if interpretation.labels else ""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Passages:\n\n{passages}\n\nQuestion: {question}{about}"},
    ]


_ABBREVIATIONS = frozenset("e.g i.e etc dr prof vs approx mr ms mrs st no fig".split())
# The end of a sentence: its closing mark (and any quote or bracket), citations written after it,
# then a space before the next sentence (which does not start with a citation).
_END = re.compile(r"[.!?][\"'”’)]*((?:\s*\[[^\]\n]{1,20}\])*)\.?(?=\s+[^\s\[])")


class SentenceStream:
    """Cuts streamed text into whole sentences as they complete (citation marks stay with theirs)."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        """The sentences `piece` completes; a line break ends one too (a list item, a heading)."""
        self._buffer += piece
        sentences = []
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            whole, rest = self._split(line)
            sentences += [*whole, rest.strip()]
        whole, self._buffer = self._split(self._buffer)
        return [s for s in sentences + whole if s]

    @staticmethod
    def _split(text: str) -> tuple[list[str], str]:
        """The whole sentences of `text`, and what follows the last one."""
        sentences = []
        start = 0
        for match in _END.finditer(text):
            before = text[start : match.start()].split()
            last = before[-1].lower().rstrip(".") if before else ""
            # "e.g.", "Ph.D.", "Dr." and initials do not end sentences.
            if last in _ABBREVIATIONS or re.fullmatch(r"[a-z]|(?:[a-z]{1,3}\.)+[a-z]{1,3}", last):
                continue
            sentences.append(text[start : match.end()].strip())
            start = match.end()
        return sentences, text[start:]

    def finish(self) -> tuple[str | None, str]:
        """At the end of the reply: the last sentence when it is whole, and the cut-off rest otherwise."""
        rest, self._buffer = self._buffer.strip(), ""
        if not rest:
            return None, ""
        claim = re.sub(r"(\s*\[[^\]\n]{1,20}\])+$", "", rest)
        return (rest, "") if claim.rstrip().endswith((".", "!", "?")) else (None, rest)


@dataclasses.dataclass
class _Draft:
    """The written answer as it grows."""

    parts: list[str] = dataclasses.field(default_factory=list)
    shown_rows: set[int] = dataclasses.field(default_factory=set)
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def words(self) -> int:
        return sum(len(re.sub(r"\[\d+\]", "", part).split()) for part in self.parts)


class WritingAnswerer:
    """Answers with a language model's sentences, each verified against the passages."""

    # Every kind the extractive answerer answers: it falls back to that answerer for any of them.
    kinds = ExtractiveAnswerer.kinds

    def __init__(self, settings: Settings, embed_many: EmbedMany, model: ChatModel | None = None) -> None:
        self.settings = settings
        self._embed_many = embed_many
        self._extractive = ExtractiveAnswerer(settings, embed_many)
        # The model is made now, so that a wrong setting stops at start-up with its message.
        self.model = model or make_model(settings.writer)

    def answer(self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library) -> Answer:
        final = None
        for event in self.stream(question, interpretation, retrieval, index):
            final = event
        return final.answer  # type: ignore[union-attr]

    def stream(
        self, question: str, interpretation: Interpretation, retrieval: Retrieval, index: Library
    ) -> Iterator[Text | Final]:
        from guide.answer.base import Final

        started = time.perf_counter()
        extractive = self._extractive.answer(question, interpretation, retrieval, index)
        hits = retrieval.hits
        if interpretation.kind in QUOTED_KINDS or not hits:
            # A table or one group per guide: the extractive answer as it is, the model not asked.
            stats = {"fallback": "kind", "seconds": time.perf_counter() - started}
            yield Final(dataclasses.replace(extractive, extra={**extractive.extra, "writer": stats}))
            return
        verifier = Verifier(index.index, hits, self._embed_many, self.settings.writer)
        cited = CitationList(index.index)
        points = extractive_points(extractive, index.index, hits)
        draft = _Draft(stats={"written": 0, "kept": 0, "reassigned": 0, "replaced": 0, "left_out": 0, "cut_off": 0})
        reason = ""
        try:
            for sentence in self._sentences(build_messages(question, interpretation, hits), started, draft.stats):
                if draft.words >= MAX_WORDS:
                    break
                shown = self._place(sentence, verifier, cited, points, draft)
                if shown:
                    draft.stats.setdefault("first_text_seconds", time.perf_counter() - started)
                    yield _text((" " if len(draft.parts) > 1 else "") + shown)
        except ModelUnavailable as error:
            logger.warning("The writer falls back to the extractive answer: %s", error)
            reason = "down"
        except WriterTimeout:
            reason = "slow"
        draft.stats["seconds"] = time.perf_counter() - started
        yield Final(self._conclude(extractive, draft, reason, points, verifier, cited))

    def _conclude(
        self, extractive: Answer, draft: _Draft, reason: str, points: list, verifier: Verifier, cited: CitationList
    ) -> Answer:
        """The written answer, or the extractive one with a notice when the written one falls short."""
        stats, settings = draft.stats, self.settings.writer
        written = stats["kept"] + stats["reassigned"]
        if reason and not written:
            return _fallback(extractive, _NOTICES[reason], {**stats, "fallback": reason})
        if written < settings.min_sentences:
            return _fallback(extractive, _NOTICES["few"], {**stats, "fallback": "few"})
        text = " ".join(draft.parts)
        stats["coverage"] = _coverage(points, draft.shown_rows, text, verifier)
        if stats["coverage"] < settings.min_coverage:
            return _fallback(extractive, _NOTICES["coverage"], {**stats, "fallback": "coverage"})
        if reason == "slow":
            text += "\n(The language model took too long to finish; the rest of its answer is left out.)"
        text += _replacement_note(stats)
        return Answer(
            extractive.question,
            extractive.interpretation,
            text,
            refused=False,
            confidence=extractive.confidence,
            citations=cited.citations(),
            kind=extractive.kind,
            extra={"writer": stats},
        )

    def _sentences(self, messages: Messages, started: float, stats: dict[str, Any]) -> Iterator[str]:
        """The model's whole sentences as they complete (a last one cut off is counted, not given);
        raises `WriterTimeout` past `answer.writer_timeout`."""
        splitter = SentenceStream()
        deadline = started + self.settings.answer.writer_timeout
        stats["model_text"] = ""  # what the model wrote, for measuring (never shown as it is)
        for piece in _pieces(self.model, messages, deadline):
            stats["model_text"] += piece
            yield from splitter.feed(piece)
        last, cut = splitter.finish()
        if last:
            yield last
        if cut:
            stats["cut_off"] += 1

    def _place(self, sentence: str, verifier: Verifier, cited: CitationList, points: list, draft: _Draft) -> str:
        """The sentence as shown (with its citation), its replacement, or "" when left out."""
        stats = draft.stats
        stats["written"] += 1
        verdict = verifier.check(sentence)
        if verdict.support is not None:
            if verdict.support.span_row in draft.shown_rows and verdict.support.similarity >= REPEAT_SIMILARITY:
                stats["repeated"] = stats.get("repeated", 0) + 1  # already shown (as a replacement, say)
                return ""
            stats[verdict.outcome] += 1
            hit = verifier.hits[verdict.support.passage]
            n = cited.cite(hit.row, verdict.support.span_row)
            draft.shown_rows.add(verdict.support.span_row)
            shown = f"{as_sentence(verdict.claim)} [{n}]"
        else:
            logger.info("Left out a written sentence (%s): %r", verdict.reason, verdict.claim)
            replacement = _replacement(verdict.claim, verifier, points, draft.shown_rows)
            if replacement is None:
                stats["left_out"] += 1
                return ""
            stats["replaced"] += 1
            chunk_row, span_row = replacement
            draft.shown_rows.add(span_row)
            n = cited.cite(chunk_row, span_row)
            shown = f"{as_sentence(verifier.index.spans[span_row].answer_text)} [{n}]"
        draft.parts.append(shown)
        return shown


def _pieces(model: ChatModel, messages: Messages, deadline: float) -> Iterator[str]:
    """The model's reply, read in a thread so that a model that hangs is left behind at `deadline`."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in model.stream_chat(messages, stop):
                pieces.put(("piece", piece))
            pieces.put(("end", None))
        except ModelUnavailable as error:
            pieces.put(("error", error))
        except Exception as error:  # noqa: BLE001 (any failure of the model falls back, never reaches a reader)
            logger.exception("The language model failed")
            pieces.put(("error", ModelUnavailable(f"the language model failed ({type(error).__name__})")))

    threading.Thread(target=produce, name="guide-writer", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise WriterTimeout
            try:
                kind, value = pieces.get(timeout=remaining)
            except queue.Empty:
                raise WriterTimeout from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


def _text(piece: str) -> Text:
    from guide.answer.base import Text

    return Text(piece)


def extractive_points(answer: Answer, index: Any, hits: Sequence[Hit]) -> list[tuple[int, int]]:
    """The (passage row, sentence row) pairs the extractive answer quotes, in its order."""
    if answer.points:
        return [(point.chunk_row, row) for point in answer.points for row in point.span_rows]
    rows = {(hit.chunk.doc_id, hit.chunk.start, hit.chunk.end): hit.row for hit in hits}
    found = []
    for citation in answer.citations:
        chunk_row = rows.get((citation.doc_id, citation.start, citation.end))
        if chunk_row is None:
            continue
        first, last = index.chunk_spans[chunk_row]
        marks = set(citation.highlights)
        found += [(chunk_row, row) for row in range(first, last) if (index.spans[row].start, index.spans[row].end) in marks]
    return found


def _replacement(
    claim: str, verifier: Verifier, points: list[tuple[int, int]], shown: set[int]
) -> tuple[int, int] | None:
    """The extractive answer's sentence closest to a dropped one, among those not shown yet."""
    unused = [(chunk_row, row) for chunk_row, row in points if row not in shown]
    if not unused:
        return None
    vector = verifier.embed(claim)
    similarities = verifier.embed_texts([verifier.index.spans[row].text for _, row in unused]) @ vector
    return unused[int(similarities.argmax())]


def _coverage(points: list[tuple[int, int]], shown: set[int], text: str, verifier: Verifier) -> float:
    """Share of the extractive answer's sentences the written answer covers: a written sentence
    on the same sentence of the passage, or one as close as support needs, and in either case the
    sentence's numbers and degrees said ("1-3 years", "MD"), which support alone does not ask."""
    if not points:
        return 1.0
    bare = re.sub(r"\[\d+\]", "", text)
    said = numbers_in(bare) | degrees_in(bare)
    texts = [verifier.index.spans[row].text for _, row in points]
    holding = [numbers_in(point) | degrees_in(point) <= said for point in texts]
    near = [row in shown for _, row in points]
    sentences = [part for part in re.split(r"(?<=\])\s+", text) if part]
    far = [number for number, is_near in enumerate(near) if not is_near and holding[number]]
    if far and sentences:
        closeness = verifier.embed_texts([texts[n] for n in far]) @ verifier.embed_texts(sentences).T
        for number, row in zip(far, closeness, strict=True):
            near[number] = bool(row.max() >= verifier.settings.min_similarity)
    return sum(n and h for n, h in zip(near, holding, strict=True)) / len(points)


def _fallback(answer: Answer, notice: str, stats: dict[str, Any]) -> Answer:
    """The extractive answer, opening with why it is shown instead of a written one."""
    extra = {**answer.extra, "writer": stats}
    if not notice:
        return dataclasses.replace(answer, extra=extra)
    lead = f"{notice}\n\n{answer.lead}" if answer.points else answer.lead
    return dataclasses.replace(answer, text=f"{notice}\n{answer.text}", lead=lead, extra=extra)


def _replacement_note(stats: dict[str, Any]) -> str:
    """The line saying how many written sentences were replaced or left out, when any were."""
    replaced, left_out = stats["replaced"], stats["left_out"]
    if not replaced and not left_out:
        return ""
    said = []
    if replaced:
        said.append(f"{replaced} replaced by the guides' own words")
    if left_out:
        said.append(f"{left_out} left out")
    total = replaced + left_out
    return (
        f"\n({total} of the model's sentences {'was' if total == 1 else 'were'} not supported by the passages: "
        + " and ".join(said)
        + ".)"
    )
