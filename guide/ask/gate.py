"""The refusal gate: whether the guides answer a question at all, decided the same way for every answerer.

A question is refused when the guides come too close to nothing (its best similarity plus the
share of its words the guides use, below `answer.refusal_threshold`, or the stricter
`answer.refusal_threshold_no_role` when it names no role), or when it asks about a job or a
thing to get that the guides never mention. A question about a role as a whole (the kinds of
`kinds.ABOUT_A_ROLE`) is answered whatever its wording, when the answerer answers that kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from guide.ask import kinds
from guide.ask.interpret import Interpretation
from guide.ask.library import Library
from guide.ask.retrieval import Retrieval
from guide.ask.subjects import asked_subject, asked_thing
from guide.config import AnswerSettings, Settings
from guide.ingest.corpus import without_reference_marks

NEAREST_ROLES = 3  # how many roles a refusal of an unknown job names


@dataclass(frozen=True)
class AskedJob:
    """A job a question asks about, the role of the guides closest to it, and whether that role
    covers it (else the answer says the guides do not cover the job, and is unsure)."""

    job: str
    role: str
    covered: bool


@dataclass(frozen=True)
class Refusal:
    """Why a question is not answered (None: the plain "not in the guides"), and how sure that is."""

    reason: str | None
    confidence: float


def relevance(found: Retrieval, settings: AnswerSettings) -> float:
    """How close the guides come to the question.

    The best dense similarity among the hits, plus a share of the question's topic words that
    the guides use at all: "How do I become an airline pilot?" is near "how to become a
    lecturer" in meaning, but "airline" and "pilot" appear nowhere in the guides.
    """
    return max((hit.dense for hit in found.hits), default=0.0) + settings.coverage_weight * found.coverage


def confidence_from_score(score: float, settings: AnswerSettings) -> float:
    """Probability-like confidence from the best passage's similarity (logistic, calibrated)."""
    return 1.0 / (1.0 + math.exp(-settings.confidence_slope * (score - settings.refusal_threshold)))


class RefusalGate:
    """Decides refusals from the settings, the question's interpretation and what was retrieved.

    Args:
        settings: the `answer` thresholds and checks.
        embed_many: the query embedder, for a job's closeness in meaning to the roles' names.
        answered_kinds: the kinds the answerer answers its own way (it declares them).
    """

    def __init__(
        self,
        settings: Settings,
        embed_many: Callable[[Sequence[str]], np.ndarray],
        answered_kinds: Iterable[str] = kinds.KINDS,
    ) -> None:
        self.settings = settings.answer
        self._embed_many = embed_many
        self._always = frozenset(kinds.ABOUT_A_ROLE) & frozenset(answered_kinds)

    def check(
        self, library: Library, interpretation: Interpretation, found: Retrieval, hint: str | None = None
    ) -> Refusal | None:
        """The refusal of a question the guides do not answer, or None to answer it."""
        settings = self.settings
        language = library.language
        if unknown := self.unknown_subject(library, interpretation):
            # The roles nearest the question, not all of them: the list must not grow with the corpus.
            nearest = dict.fromkeys([hit.chunk.role for hit in found.hits] + sorted(library.index.roles))
            roles = language.join([library.lexicon.label(role) for role in list(nearest)[:NEAREST_ROLES]])
            return Refusal(language.NOT_COVERED.format(subject=unknown, roles=roles), 0.0)
        score = relevance(found, settings)
        # A role carried over only because the question names none does not make it about the role.
        threshold = settings.refusal_threshold if interpretation.about_roles else settings.refusal_threshold_no_role
        if found.hits and (score >= threshold or self.always_answered(interpretation)):
            return None
        reason = f"{language.NOT_FOUND} {hint}" if hint else None
        return Refusal(reason, confidence_from_score(score, settings))

    def always_answered(self, interpretation: Interpretation) -> bool:
        """Whether a question is answered whatever its similarity to the guides: one about a role
        as a whole (a structured question or a comparison) of roles the guides cover."""
        return bool(interpretation.about_roles) and interpretation.kind in self._always

    def unknown_subject(self, library: Library, interpretation: Interpretation) -> str | None:
        """What a question asks about when the guides do not know it: a job ("the job of airline
        pilot") or a thing to get ("a student visa")."""
        if not self.settings.subject_check or interpretation.leans:
            return None
        language = library.language
        # A mark such as "[3]" would hide the subject, and must not be echoed as a citation.
        question = without_reference_marks(interpretation.question)
        job = asked_subject(question, language)
        if job is not None and self._unknown_job(library, job):
            return language.THE_JOB_OF.format(job=job)
        thing = asked_thing(question, language)
        return thing if thing is not None and self._unknown(library, thing) else None

    def asked_job(self, library: Library, interpretation: Interpretation) -> AskedJob | None:
        """The role that answers a question about a job the question does not name by a role's own
        name or alias ("an AI scientist", "a data scientist"): the role whose name comes closest;
        `covered` when it comes close enough to be taken for that role. None without such a job."""
        if not self.settings.subject_check or interpretation.leans or len(interpretation.roles) > 1:
            return None
        job = asked_subject(without_reference_marks(interpretation.question), library.language)
        if job is None or library.lexicon.detect_roles(job)[1] or library.defines(job):
            return None
        # The field's own name says nothing of the job ("machine learning scientist" is a scientist).
        vector = self._embed_many([library.lexicon.without_field(job)])[0]
        closest = library.closest_role(vector)
        if closest is None:
            return None
        return AskedJob(job, closest, library.closeness_to_roles(vector) >= self.settings.job_taken_closeness)

    def _unknown_job(self, library: Library, job: str) -> bool:
        """Whether the guides do not know the job `job`. They know it when it holds a role's own
        name or alias, or a role's hint in words they use ("postdoc"); otherwise only when it is
        close in meaning to a role's name or alias ("faculty member", not "pilot", a word they use
        of pilot studies)."""
        roles, spans = library.lexicon.detect_roles(job)
        if spans or (roles and not self._has_unknown_word(library, job)) or library.defines(job):
            return False
        return library.closeness_to_roles(self._embed_many([job])[0]) < self.settings.job_closeness

    def _unknown(self, library: Library, phrase: str) -> bool:
        """Whether the guides do not know what `phrase` names: no role's own name or alias is in it
        ("a lecturer applicant" is covered), and it has a word they never use ("pilot")."""
        return not library.lexicon.detect_roles(phrase)[1] and self._has_unknown_word(library, phrase)

    @staticmethod
    def _has_unknown_word(library: Library, phrase: str) -> bool:
        lexicon = library.lexicon
        return any(not lexicon.in_guides(word) for word, _, _ in lexicon.tokens(phrase) if len(word) > 2)
