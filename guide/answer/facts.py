"""Fact answers: the one or two retrieved sentences that answer a narrow question, each cited."""

from __future__ import annotations

import dataclasses

from guide.answer.base import Request
from guide.answer.citations import CitationList
from guide.answer.records import Answer, as_sentence, capitalised
from guide.ask.gate import confidence_from_score, relevance
from guide.ask.interpret import Interpretation
from guide.ask.lexicon import content_words
from guide.ask.library import Library
from guide.ask.retrieval import Hit, Retrieval
from guide.config import AnswerSettings
from guide.index import LoadedIndex
from guide.language import DEFAULT, Language


def compose_fact(request: Request) -> Answer:
    """A short answer from the best sentences of the top passages, each with its citation.

    When none of them comes from the guide of a role the question names, the answer opens by
    saying so ("The lecturer guide does not say; the PhD guide does:"), and its confidence is
    at most `answer.other_guide_confidence`. Its confidence is otherwise the calibrated
    closeness of the question to the guides.
    """
    question, interpretation, found, settings = request.question, request.interpretation, request.retrieval, request.settings
    index, lexicon, language = request.library.index, request.library.lexicon, request.library.language
    label = lexicon.label
    confidence = confidence_from_score(relevance(found, settings.answer), settings.answer)
    # What the question is about, to tell the named guides' sentences that only their role brought in.
    topic_words = request.library.topic_stems(interpretation.query, expanded=True) if interpretation.roles else frozenset()
    chosen = select_sentences(interpretation, found, index, settings.answer, settings.retrieval.role_boost, language)
    chosen = _without_boost_artefacts(chosen, interpretation, request.library, topic_words)
    chosen = _named_guide_first(chosen, request)
    cited = CitationList(index)
    parts = [
        f"{as_sentence(index.spans[span_row].answer_text)} [{cited.cite(hit.row, span_row)}]" for span_row, hit in chosen
    ]
    text = " ".join(parts)
    quoted = list(dict.fromkeys(hit.chunk.role for _, hit in chosen))
    if interpretation.roles and quoted and not set(quoted) & set(interpretation.roles):
        # The guide of the role asked about has nothing on it: say so, and whose guide answers.
        asked, answering = list(interpretation.labels), [label(role) for role in quoted]
        silent = language.SILENT_GUIDE.format(
            asked=language.guides(asked), quoted=language.guides(answering),
            asked_does=language.does(len(asked)), quoted_does=language.does(len(answering)),
        )  # fmt: skip
        text = f"{capitalised(silent)}\n{text}"
        confidence = min(confidence, settings.answer.other_guide_confidence)
    return Answer(
        question,
        interpretation,
        text,
        refused=False,
        confidence=confidence,
        citations=cited.citations(),
    )


def _without_boost_artefacts(
    chosen: list[tuple[int, Hit]], interpretation: Interpretation, library: Library, topic_words: frozenset[str]
) -> list[tuple[int, Hit]]:
    """`chosen` without the sentences of the named roles' guides that only the role preference
    brought in: none of them shares a word with the topic, while another guide's sentence does
    ("What GPA do I need for a lecturer?": the lecturer guide says nothing of grades)."""
    if not topic_words or not interpretation.roles:
        return chosen
    roles = set(interpretation.roles)
    own = [(row, hit) for row, hit in chosen if hit.chunk.role in roles]
    other = [(row, hit) for row, hit in chosen if hit.chunk.role not in roles]
    if not own or not other:
        return chosen

    def on_topic(row: int) -> bool:
        return bool(library.lexicon.stems(library.index.spans[row].text) & topic_words)

    if any(on_topic(row) for row, _ in own) or not any(on_topic(row) for row, _ in other):
        return chosen
    return other


def _named_guide_first(chosen: list[tuple[int, Hit]], request: Request) -> list[tuple[int, Hit]]:
    """The named roles' own sentences in place of `chosen` when none of `chosen` is theirs but
    theirs speak to the question as fully (`Library.speaks_as_fully`): among hundreds of guides
    some other guide's sentence is nearly always closer by chance ("Which grants should they go
    for?" after a clinical professor question: the clinical guide's NIH grants, not a postdoc
    page's). The question's own words count, not their expansions, which would count twice for
    a sentence that says both ("grant-funded")."""
    interpretation, found, library = request.interpretation, request.retrieval, request.library
    roles = set(interpretation.roles)
    own = [hit for hit in found.hits if hit.chunk.role in roles]
    if not own or not chosen or any(hit.chunk.role in roles for _, hit in chosen):
        return chosen
    mine = select_sentences(
        interpretation, dataclasses.replace(found, hits=own), library.index, request.settings.answer,
        request.settings.retrieval.role_boost, library.language,
    )  # fmt: skip
    spans = library.index.spans
    # "universities" alone does not answer a question on the faculty seats universities
    # added, which another guide counts.
    words = library.topic_stems(interpretation.query)
    fully = library.speaks_as_fully((spans[row].text for row, _ in mine), (spans[row].text for row, _ in chosen), words)
    return mine if fully else chosen


def select_sentences(
    interpretation: Interpretation,
    found: Retrieval,
    index: LoadedIndex,
    settings: AnswerSettings,
    role_boost: float,
    language: Language = DEFAULT,
) -> list[tuple[int, Hit]]:
    """The (sentence row, hit) pairs that best answer the question, in reading order per passage.

    A sentence scores as retrieval scored it (its embedding and BM25), plus `role_boost` when its
    guide is of a role the question names, less how far its passage scores below the top
    passage; only the top `settings.evidence_passages` passages are read.
    """
    hits = found.hits
    passages = settings.evidence_passages
    max_sentences = settings.max_sentences
    best_hit: dict[int, Hit] = {}
    for hit in hits[:passages]:
        first, last = index.chunk_spans[hit.row]
        for span_row in range(first, last):
            best_hit.setdefault(span_row, hit)
    if not best_hit:
        return []
    preferred = set(interpretation.roles)
    top_score = hits[0].score
    scored = []
    for span_row, hit in best_hit.items():
        score = float(found.sentence_scores[span_row]) + settings.passage_rank_weight * (hit.score - top_score)
        if hit.chunk.role in preferred:
            score += role_boost
        scored.append((score, span_row, hit))
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = scored[0][0]
    by_row = {span_row: (score, hit) for score, span_row, hit in scored}
    chosen: list[tuple[int, Hit]] = []
    length = 0

    def take(span_row: int, hit: Hit) -> bool:
        nonlocal length
        text = index.spans[span_row].text
        if any(row == span_row for row, _ in chosen) or len(chosen) >= max_sentences:
            return False
        if chosen and (length + len(text) > settings.max_answer_chars or len(content_words(text, language)) < 3):
            return False
        chosen.append((span_row, hit))
        length += len(text)
        return True

    for score, span_row, hit in scored:
        if len(chosen) >= max_sentences or score < best - settings.sentence_margin:
            break
        if take(span_row, hit):
            # The sentence after a chosen one often completes it ("… need robust credentials.
            # Required qualifications include …"), so it may join with a looser margin.
            following = by_row.get(span_row + 1)
            if following is not None and following[0] >= best - settings.following_margin:
                take(span_row + 1, following[1])
    chosen.sort(key=lambda pair: (pair[1].rank, pair[0]))
    return chosen
