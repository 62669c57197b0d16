"""Structured answers: a one-line lead, then short cited points found through the guides' own sections.

Each kind of question has a plan: which facets it needs (qualifications, experience, … for
"How do I become…"; responsibilities for "What does … do?"; trends for "What are the trends…")
and whether points come from the role's guide or from every guide. A sentence's fit to a facet
is its embedding's similarity to the facet's description; sentences are embedded with their
heading, so a guide's own headings ("Getting a postdoc", "Where it leads") guide the choice
without anything here knowing them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from guide.ask.interpret import Interpretation, content_words
from guide.ask.retrieval import Retrieval, Retriever
from guide.config import StructureSettings
from guide.index import LoadedIndex
from guide.ingest.collection import Facet
from guide.ingest.corpus import without_reference_marks


@dataclass(frozen=True)
class Point:
    """One cited point of a structured answer."""

    text: str
    n: int
    group: str = ""  # the guide's role label, when points are grouped by guide
    facet: str = ""  # what the point is about, shown before it ("Qualifications: …")
    span_rows: tuple[int, ...] = ()  # the sentences quoted, in order
    chunk_row: int = -1

    def line(self) -> str:
        label = f"{self.facet[:1].upper()}{self.facet[1:]}: " if self.facet else ""
        return f"- {label}{as_sentence(self.text)} [{self.n}]"


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
                lines.append(f"{group[:1].upper()}{group[1:]}:")
            lines.append(point.line())
        return "\n".join(lines)


# What each kind needs: the facet kind, points per guide, whether every guide is asked, the lead.
@dataclass(frozen=True)
class _Plan:
    facet_kind: str
    per_guide: int
    every_guide: bool
    lead: str


_PLANS: dict[str, _Plan] = {
    "overview": _Plan("overview", 0, False, "What it takes, from the {label} guide:"),
    "situation": _Plan("situation", 2, False, "It depends on what the {label} guide asks for:"),
    "duties": _Plan("duties", 4, False, "What the job involves, from the {label} guide:"),
    "career": _Plan("career", 3, False, "Where it leads, from the {label} guide:"),
    "history": _Plan("history", 2, False, "How it came about, from the {label} guide:"),
    "trends": _Plan("trends", 4, True, "Trends, from the guides that describe them:"),
    "cross-role": _Plan("", 1, True, "What each guide says:"),
}

STRUCTURED_KINDS = tuple(_PLANS)


def facet_kind(kind: str) -> str:
    """Which facets a structured kind of question draws on ("" for none: across roles)."""
    return _PLANS[kind].facet_kind
# A question that names what it asks about ("ml researcher skills"): that facet's section.
_FOCUSED = _Plan("overview", 3, False, "From the {label} guide:")


def _usable(index: LoadedIndex, rows: np.ndarray) -> np.ndarray:
    """Rows of sentences that say something on their own (not "Core skills include:")."""
    keep = [
        row
        for row in rows
        if not index.spans[row].text.rstrip().endswith(":") and len(content_words(index.spans[row].text)) >= 4
    ]
    return np.asarray(keep, dtype=np.int64)


def compose_structure(
    interpretation: Interpretation,
    found: Retrieval,
    retriever: Retriever,
    labels: Callable[[str], str],
    facets: Sequence[Facet],
    facet_vectors: np.ndarray,
    settings: StructureSettings,
    focused: bool = False,
) -> Structure | None:
    """Lead and points for a structured kind of question, or None when the guides give no points.

    Args:
        interpretation: the understood question, with its kind and roles.
        found: retrieval for the question: hits, and every sentence's score for it.
        retriever: the index with sentence rows per role and the passage holding each sentence.
        labels: a role's label ("clinical professor").
        facets: the collection's facets for this kind (empty for cross-role questions).
        facet_vectors: the embeddings of the facets' descriptions, one row each.
        settings: thresholds and sizes (see `StructureSettings`).
        focused: the question names these facets ("What skills…"): quote their section.
    """
    kind = interpretation.kind
    plan = _FOCUSED if focused else _PLANS[kind]
    index = retriever.index
    if plan.every_guide and (kind == "cross-role" or not interpretation.roles):
        roles = list(index.roles)
    else:
        roles = list(interpretation.roles[:2]) or ([found.hits[0].chunk.role] if found.hits else [])
    if not roles:
        return None
    question = found.sentence_scores
    # Each facet's score for every sentence: like a search for its description, plus a bonus
    # when the sentence's heading, or the sentence itself, names the facet ("History and Evolution").
    fits, names = [], []
    for facet, vector in zip(facets, facet_vectors, strict=True):
        fit, named = retriever.facet_scores(facet, vector, settings.heading_bonus)
        fits.append(fit)
        names.append(named)
    fit_matrix = np.stack(fits, axis=1) if fits else np.zeros((len(index.spans), 0), dtype=np.float32)
    named_matrix = np.stack(names, axis=1) if names else np.zeros((len(index.spans), 0), dtype=bool)
    chosen: set[int] = set()
    picked: list[tuple[float, str, str, int]] = []  # (score, role, facet name, span row)
    wanted = 0  # facets asked for, for an overview's coverage
    also: dict[int, list[str]] = {}  # span row -> further facets its point covers
    for role in roles:
        rows = _usable(index, retriever.role_spans(role))
        if rows.size == 0:
            continue
        if not facets:
            # Across roles: each guide's sentence that best answers the question itself.
            scores = question[rows]
            best = int(np.argmax(scores))
            picked.append((float(scores[best]), role, "", int(rows[best])))
            continue
        similarity = fit_matrix[rows]  # sentences x facets
        if plan.per_guide == 0:
            # One point per facet (qualifications, experience, …), in the facets' order. A question
            # that only names the role ("prof") says nothing more: the facets alone decide.
            wanted += len(facets)
            weight = 0.0 if interpretation.names_only else settings.overview_question_weight
            for number, facet in enumerate(facets):
                total = similarity[:, number] + weight * question[rows]
                order = np.argsort(-total, kind="stable")
                best = order[0]
                if similarity[best, number] < settings.facet_threshold:
                    continue  # the guide says nothing on this facet
                i = next((i for i in order if int(rows[i]) not in chosen), None)
                if int(rows[best]) in chosen:
                    # Another point quotes this facet's best sentence: it covers the facet too,
                    # unless a sentence of its own fits nearly as well.
                    if i is None or total[best] - total[i] > settings.shared_point_margin:
                        also.setdefault(int(rows[best]), []).append(facet.name)
                        continue
                if i is not None and similarity[i, number] >= settings.facet_threshold:
                    chosen.add(int(rows[i]))
                    picked.append((float(total[i]), role, facet.name, int(rows[i])))
            continue
        # The guide's section for the facet (the one holding the best-fitting sentence, its
        # heading usually naming the facet), then that section's best sentences.
        fit = similarity.max(axis=1)
        per_guide = plan.per_guide if not plan.every_guide or len(roles) == 1 else 1
        # One point from each of many guides: the facet decides, as for an overview.
        weight = settings.overview_question_weight if per_guide == 1 else settings.question_weight
        total = fit + weight * question[rows]
        taken = _section_points(index, rows, fit, total, named_matrix[rows].any(axis=1), per_guide, settings)
        picked.extend((float(total[i]), role, "", int(rows[i])) for i in taken)
    if not facets:
        if not picked:
            return None
        top = max(score for score, *_ in picked)
        floor = max(settings.cross_role_threshold, top - settings.cross_role_margin)
        picked = [p for p in picked if p[0] >= floor]
    if not picked:
        return None
    grouped = plan.every_guide or len(roles) > 1
    if grouped:
        # Guides with the strongest points first; within a guide, reading order.
        best = {}
        for score, role, _, _ in picked:
            best[role] = max(best.get(role, -9.0), score)
        order = sorted(best, key=lambda role: -best[role])[: settings.max_groups]
        picked = sorted((p for p in picked if p[1] in order), key=lambda p: (order.index(p[1]), p[3]))
    elif kind == "situation":
        picked.sort(key=lambda p: -p[0])  # the requirement it hinges on first
    elif plan.per_guide:
        picked.sort(key=lambda p: p[3])  # reading order
    label = labels(roles[0])
    if plan.every_guide:
        coverage = min(1.0, len({p[1] for p in picked}) / max(1, min(len(roles), 3)))
    elif plan.per_guide:
        coverage = 1.0  # a section was found; how well it answers is in `fit`
    else:
        coverage = (len(picked) + sum(len(names) for names in also.values())) / max(wanted, 1)
    points = []
    for _, role, facet_name, row in picked:
        rows = [row]
        # A requirement often runs on into the next sentence ("A PhD … is essential. Many positions
        # prefer postdoctoral experience lasting 1-3 years."): it joins the point when it fits too.
        following = row + 1
        if (
            facet_name
            and following < len(index.spans)
            and following not in chosen
            and index.spans[following].doc_id == index.spans[row].doc_id
            and index.spans[following].section == index.spans[row].section
            and retriever.material[following]
            and float(fit_matrix[following].max()) >= settings.facet_threshold + settings.continuation_margin
            and len(content_words(index.spans[following].text)) >= 4
        ):
            rows.append(following)
            chosen.add(following)
        points.append(
            Point(
                text=" ".join(as_sentence(index.spans[r].answer_text) for r in rows),
                n=0,
                group=labels(role) if grouped else "",
                facet=without_reference_marks(", ".join([facet_name, *also.get(row, [])])) if facet_name else "",
                span_rows=tuple(rows),
                chunk_row=int(retriever.span_chunk[row]),
            )
        )
    if not facets:
        fits = [p[0] for p in picked]
    elif plan.per_guide == 0:
        fits = [float(fit_matrix[p.span_rows[0]].max()) for p in points]
    else:
        # Quoting a section: a point is as good as it fits the facet and answers the question.
        weight = settings.question_weight
        fits = [
            (float(fit_matrix[p.span_rows[0]].max()) + weight * float(question[p.span_rows[0]])) / (1 + weight)
            for p in points
        ]
    return Structure(
        kind,
        plan.lead.format(label=label),
        tuple(points),
        min(coverage, 1.0),
        grouped,
        # Facet by facet, every point must fit; otherwise the section found is judged by its best point.
        sum(fits) / len(fits) if plan.per_guide == 0 else max(fits),
    )


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


def as_sentence(text: str) -> str:
    """`text` ending as a sentence does (a full stop added when it has no closing mark)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":", ")")) else text + "."
