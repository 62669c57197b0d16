"""Structured answers: a one-line lead, then short cited points found through the guides' own sections.

Each kind of question has a plan: which facets it needs (qualifications, experience, … for
"How do I become…"; responsibilities for "What does … do?"; trends for "What are the trends…")
and whether points come from the role's guide or from every guide. A sentence's fit to a facet
is its embedding's similarity to the facet's description; sentences are embedded with their
heading, so a guide's own headings ("Getting a postdoc", "Where it leads") guide the choice
without anything here knowing them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from guide.answer.base import Request
from guide.answer.citations import CitationList
from guide.answer.records import Answer, Point, as_sentence, capitalised
from guide.answer.sentences import says_something
from guide.ask import kinds
from guide.ask.gate import confidence_from_score, relevance
from guide.ask.library import Library
from guide.config import StructureSettings
from guide.index import LoadedIndex
from guide.ingest.collection import Facet
from guide.ingest.corpus import without_reference_marks


@dataclass(frozen=True)
class Structure:
    """What a structured answer found: its lead, its points and how much of the plan they cover."""

    kind: str
    lead: str
    points: tuple[Point, ...]
    coverage: float
    grouped: bool
    # The mean score of the points for what they stand for (facet, or the question across roles).
    fit: float = 0.0

    def text(self) -> str:
        lines = [self.lead]
        group = None
        for point in self.points:
            if self.grouped and point.group != group:
                group = point.group
                lines.append(f"{capitalised(group)}:")
            lines.append(point.line())
        return "\n".join(lines)


# What each kind needs: the facet kind, points per guide, whether every guide is asked, the lead
# (a key of the language's `LEADS`).
@dataclass(frozen=True)
class _Plan:
    facet_kind: str
    per_guide: int
    every_guide: bool
    lead: str


_PLANS: dict[str, _Plan] = {
    kinds.OVERVIEW: _Plan(kinds.OVERVIEW, 0, False, kinds.OVERVIEW),
    kinds.SITUATION: _Plan(kinds.SITUATION, 2, False, kinds.SITUATION),
    kinds.DUTIES: _Plan(kinds.DUTIES, 4, False, kinds.DUTIES),
    kinds.CAREER: _Plan(kinds.CAREER, 3, False, kinds.CAREER),
    kinds.HISTORY: _Plan(kinds.HISTORY, 2, False, kinds.HISTORY),
    kinds.TRENDS: _Plan(kinds.TRENDS, 4, True, kinds.TRENDS),
    kinds.CROSS_ROLE: _Plan("", 1, True, kinds.CROSS_ROLE),
}
# A question that names what it asks about ("ml researcher skills"): that facet's section.
_FOCUSED = _Plan(kinds.OVERVIEW, 5, False, "focused")


def facet_kind(kind: str) -> str:
    """Which facets a structured kind of question draws on ("" for none: across roles)."""
    return _PLANS[kind].facet_kind


@dataclass
class _Picks:
    """The points a plan has picked so far: (score, role, facet name, sentence row) each."""

    picked: list[tuple[float, str, str, int]] = field(default_factory=list)
    chosen: set[int] = field(default_factory=set)  # sentence rows already quoted
    also: dict[int, list[str]] = field(default_factory=dict)  # sentence row -> further facets it covers
    wanted: int = 0  # facets asked for, for an overview's coverage


def compose_structured(request: Request, focus: Sequence[Facet] = ()) -> Answer | None:
    """Lead and cited points for a structured kind of question, or None when the guides give none;
    `focus`: the facets a narrow question names ("What skills…"), whose section is quoted."""
    library, shape = request.library, request.settings.structure
    interpretation = request.interpretation
    if focus:
        facets: tuple[Facet, ...] = tuple(focus)
        kind, plan = kinds.OVERVIEW, _FOCUSED
        request = dataclasses.replace(request, interpretation=dataclasses.replace(interpretation, kind=kind))
    else:
        kind, plan = interpretation.kind, _PLANS[interpretation.kind]
        asked = () if plan.every_guide else _roles_of(request, kind, plan)  # their group's facets, if any
        facets = library.index.collection.facets_for(plan.facet_kind, asked) if plan.facet_kind else ()
    vectors = request.embed_many([facet.description for facet in facets]) if facets else np.zeros((0, 1))
    structure = compose_structure(request, kind, plan, facets, vectors)
    if structure is None:
        return None
    # How much of what the question asks the answer covers (facets or guides found) times how
    # well its points fit what they stand for; not the similarity of the question to one passage.
    confidence = structure.coverage / (1.0 + math.exp(-shape.confidence_slope * (structure.fit - shape.confident_fit)))
    if not interpretation.roles and not _PLANS.get(kind, plan).every_guide:
        # The question named no role: the guide is the top passage's, a guess as good as that
        # passage's closeness to the question.
        confidence = min(
            confidence,
            confidence_from_score(relevance(request.retrieval, request.settings.answer), request.settings.answer),
        )
    return structured_answer(request, structure, confidence)


def _roles_of(request: Request, kind: str, plan: _Plan) -> list[str]:
    """The guides' roles the points come from: every role, or those asked about (at most two)."""
    interpretation, found = request.interpretation, request.retrieval
    if plan.every_guide and (kind == kinds.CROSS_ROLE or not interpretation.roles):
        return list(request.library.index.roles)
    return list(interpretation.roles[:2]) or ([found.hits[0].chunk.role] if found.hits else [])


def compose_structure(
    request: Request, kind: str, plan: _Plan, facets: Sequence[Facet], facet_vectors: np.ndarray
) -> Structure | None:
    """The points of a plan, in the order they are shown, with their coverage and fit."""
    library, settings = request.library, request.settings.structure
    roles = _roles_of(request, kind, plan)
    if not roles:
        return None
    fit_matrix, named_matrix = _facet_matrices(library, facets, facet_vectors, settings.heading_bonus)
    question = request.retrieval.sentence_scores
    specificity = _specificity(request, facet_vectors, settings) if plan.every_guide and facets else 0.0
    picks = _Picks()
    for role in roles:
        rows = np.asarray(
            [
                row
                for row in library.retriever.role_spans(role)
                if says_something(library.index.spans[row].text, library.language)
            ],
            dtype=np.int64,
        )
        if rows.size == 0:
            continue
        if not facets:
            # Across roles: each guide's sentence that best answers the question itself.
            best = int(np.argmax(question[rows]))
            picks.picked.append((float(question[rows][best]), role, "", int(rows[best])))
        elif plan.per_guide == 0:
            _pick_per_facet(picks, role, rows, fit_matrix[rows], question[rows], facets, request, settings)
        else:
            per_guide = plan.per_guide if not plan.every_guide or len(roles) == 1 else 1
            # One point from each of many guides: the facet and the question decide together.
            weight = settings.group_question_weight if per_guide == 1 else settings.question_weight
            particular = specificity if per_guide == 1 else 0.0
            fit = fit_matrix[rows].max(axis=1)
            total = fit + (weight + settings.specific_question_weight * particular) * question[rows]
            if particular > 0:
                # A particular question: its best sentence, wherever the guide says it.
                taken = [int(np.argmax(total))]
            else:
                taken = _section_points(
                    library.index, rows, fit, total, named_matrix[rows].any(axis=1), per_guide, settings
                )
            picks.picked.extend((float(total[i]), role, "", int(rows[i])) for i in taken)
    _keep_answering_guides(picks, plan, bool(facets), len(roles), question, settings)
    if not picks.picked:
        return None
    grouped = plan.every_guide or len(roles) > 1
    _order(picks, plan, kind, grouped, settings)
    points = _points(picks, library, fit_matrix, settings, grouped)
    lead = library.language.LEADS[plan.lead].format(label=library.lexicon.label(roles[0]))
    fit = _fit(points, picks, plan, facets, fit_matrix, question, settings)
    return Structure(kind, lead, tuple(points), min(_coverage(picks, plan, roles), 1.0), grouped, fit)


def _keep_answering_guides(
    picks: _Picks, plan: _Plan, faceted: bool, guides: int, question: np.ndarray, settings: StructureSettings
) -> None:
    """Drop the points of guides that answer the question much worse than the best guide."""
    if not faceted and picks.picked:
        top = max(score for score, *_ in picks.picked)
        floor = max(settings.cross_role_threshold, top - settings.cross_role_margin)
        picks.picked = [p for p in picks.picked if p[0] >= floor]
    elif plan.every_guide and guides > 1 and picks.picked:
        # A guide joins a grouped answer only when its point answers the question about as well
        # as the best guide's does: two trend questions get the guides that speak to each.
        answers = [float(question[row]) for *_, row in picks.picked]
        floor = max(answers) - settings.group_margin
        picks.picked = [p for p, a in zip(picks.picked, answers, strict=True) if a >= floor]


def _specificity(request: Request, facet_vectors: np.ndarray, settings: StructureSettings) -> float:
    """How much more particular a question is than the facets it draws on, from 0 (it asks what
    a facet's description says: "What are the trends?") to 1 ("Which countries hire most?"),
    by its meaning's distance from the closest description."""
    if settings.specific_span <= 0 or not request.interpretation.query:
        return 0.0
    vector = request.embed_many([request.interpretation.query])[0]
    closeness = float((facet_vectors @ vector).max())
    return min(max((settings.specific_pivot - closeness) / settings.specific_span, 0.0), 1.0)


def _facet_matrices(
    library: Library, facets: Sequence[Facet], vectors: np.ndarray, bonus: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each facet's score for every sentence (sentences x facets), and whether its heading names it.

    A facet scores like a search for its description, plus a bonus when the sentence's heading,
    or the sentence itself, names the facet ("History and Evolution").
    """
    scored = [
        library.retriever.facet_scores(facet, vector, bonus) for facet, vector in zip(facets, vectors, strict=True)
    ]
    if not scored:
        count = len(library.index.spans)
        return np.zeros((count, 0), dtype=np.float32), np.zeros((count, 0), dtype=bool)
    return np.stack([fit for fit, _ in scored], axis=1), np.stack([named for _, named in scored], axis=1)


def _pick_per_facet(
    picks: _Picks,
    role: str,
    rows: np.ndarray,
    similarity: np.ndarray,
    question: np.ndarray,
    facets: Sequence[Facet],
    request: Request,
    settings: StructureSettings,
) -> None:
    """One point per facet (qualifications, experience, …), in the facets' order. A question that
    only names the role ("prof") says nothing more: the facets alone decide."""
    picks.wanted += len(facets)
    weight = 0.0 if request.interpretation.names_only else settings.overview_question_weight
    least = settings.overview_facet_threshold if request.library.semantic else settings.facet_threshold
    for number, facet in enumerate(facets):
        total = similarity[:, number] + weight * question
        order = np.argsort(-total, kind="stable")
        best = order[0]
        if similarity[best, number] < least:
            continue  # the guide says nothing on this facet
        i = next((i for i in order if int(rows[i]) not in picks.chosen), None)
        if int(rows[best]) in picks.chosen:
            # Another point quotes this facet's best sentence: it covers the facet too, unless a
            # sentence of its own fits nearly as well.
            if i is None or total[best] - total[i] > settings.shared_point_margin:
                picks.also.setdefault(int(rows[best]), []).append(facet.name)
                continue
        if i is not None and similarity[i, number] >= settings.facet_threshold:
            picks.chosen.add(int(rows[i]))
            picks.picked.append((float(total[i]), role, facet.name, int(rows[i])))


def _order(picks: _Picks, plan: _Plan, kind: str, grouped: bool, settings: StructureSettings) -> None:
    """The points in the order they are shown."""
    if grouped:
        # Guides with the strongest points first; within a guide, reading order.
        best: dict[str, float] = {}
        for score, role, _, _ in picks.picked:
            best[role] = max(best.get(role, -9.0), score)
        order = sorted(best, key=lambda role: -best[role])[: settings.max_groups]
        picks.picked = sorted((p for p in picks.picked if p[1] in order), key=lambda p: (order.index(p[1]), p[3]))
    elif kind == kinds.SITUATION:
        picks.picked.sort(key=lambda p: -p[0])  # the requirement it hinges on first
    elif plan.per_guide:
        picks.picked.sort(key=lambda p: p[3])  # reading order


def _coverage(picks: _Picks, plan: _Plan, roles: Sequence[str]) -> float:
    """How much of what the plan asks for was found: guides, a section, or facets."""
    if plan.every_guide:
        return min(1.0, len({p[1] for p in picks.picked}) / max(1, min(len(roles), 3)))
    if plan.per_guide:
        return 1.0  # a section was found; how well it answers is in the fit
    return (len(picks.picked) + sum(len(names) for names in picks.also.values())) / max(picks.wanted, 1)


def _points(
    picks: _Picks, library: Library, fit_matrix: np.ndarray, settings: StructureSettings, grouped: bool
) -> list[Point]:
    """The picked sentences as points, each joined by the next sentence when it continues it."""
    index, retriever, label = library.index, library.retriever, library.lexicon.label
    points = []
    for _, role, facet_name, row in picks.picked:
        rows = [row]
        # A requirement often runs on into the next sentence ("A PhD … is essential. Many positions
        # prefer postdoctoral experience lasting 1-3 years."): it joins the point when it fits too.
        following = row + 1
        if (
            facet_name
            and following < len(index.spans)
            and following not in picks.chosen
            and index.spans[following].doc_id == index.spans[row].doc_id
            and index.spans[following].section == index.spans[row].section
            and retriever.material[following]
            and float(fit_matrix[following].max()) >= settings.facet_threshold + settings.continuation_margin
            and says_something(index.spans[following].text, library.language)
        ):
            rows.append(following)
            picks.chosen.add(following)
        facets = ", ".join([facet_name, *picks.also.get(row, [])]) if facet_name else ""
        points.append(
            Point(
                text=" ".join(as_sentence(index.spans[r].answer_text) for r in rows),
                n=0,
                group=label(role) if grouped else "",
                facet=without_reference_marks(facets),
                span_rows=tuple(rows),
                chunk_row=int(retriever.span_chunk[row]),
            )
        )
    return points


def _fit(
    points: Sequence[Point],
    picks: _Picks,
    plan: _Plan,
    facets: Sequence[Facet],
    fit_matrix: np.ndarray,
    question: np.ndarray,
    settings: StructureSettings,
) -> float:
    """How well the points fit what they stand for. Facet by facet, every point must fit;
    otherwise the section found is judged by its best point."""
    if not facets:
        fits = [p[0] for p in picks.picked]
    elif plan.per_guide == 0:
        fits = [float(fit_matrix[p.span_rows[0]].max()) for p in points]
    else:
        # Quoting a section: a point is as good as it fits the facet and answers the question.
        weight = settings.question_weight
        fits = [
            (float(fit_matrix[p.span_rows[0]].max()) + weight * float(question[p.span_rows[0]])) / (1 + weight)
            for p in points
        ]
    return sum(fits) / len(fits) if plan.per_guide == 0 else max(fits)


def _section_points(
    index: LoadedIndex,
    rows: np.ndarray,
    fit: np.ndarray,
    total: np.ndarray,
    named: np.ndarray,
    wanted: int,
    settings: StructureSettings,
) -> list[int]:
    """Positions (in `rows`) of up to `wanted` points: the best section's best sentences first.

    In a section whose heading names the facet every sentence may serve; elsewhere a sentence
    must fit the facet by `facet_threshold`. Other sections fill in when the best one runs short.
    """
    eligible = [i for i in range(len(rows)) if named[i] or fit[i] >= settings.facet_threshold]
    sections: dict[tuple[str, str], list[int]] = {}
    for i in eligible:
        span = index.spans[rows[i]]
        sections.setdefault((span.doc_id, span.section), []).append(i)
    if not sections:
        return []
    best = max(sections, key=lambda key: max(total[i] for i in sections[key]))
    taken = sorted(sections[best], key=lambda i: -total[i])[:wanted]
    if len(taken) < wanted:
        floor = total[taken[0]] - settings.point_margin
        others = sorted((i for i in eligible if i not in taken), key=lambda i: -total[i])
        taken += [i for i in others if fit[i] >= settings.facet_threshold and total[i] >= floor][: wanted - len(taken)]
    return taken


def structured_answer(request: Request, structure: Structure, confidence: float) -> Answer:
    """An answer made of a lead and cited points, numbered in the order they are cited."""
    cited = CitationList(request.library.index)
    points = tuple(
        Point(
            p.text, [cited.cite(p.chunk_row, row) for row in p.span_rows][0], p.group, p.facet, p.span_rows, p.chunk_row
        )
        for p in structure.points
    )
    numbered = Structure(structure.kind, structure.lead, points, structure.coverage, structure.grouped, structure.fit)
    return Answer(
        request.question,
        request.interpretation,
        numbered.text(),
        refused=False,
        confidence=confidence,
        citations=cited.citations(),
        kind=structure.kind,
        lead=structure.lead,
        points=points,
    )
