"""Understanding a question: the roles it names, its topic, and what it inherits from earlier turns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# How people name the shipped roles. "explicit" names pick a role outright; "generic" ones
# (tenure, faculty, postdoc) only count when no explicit name is present.
ROLE_TERMS: dict[str, dict[str, list[str]]] = {
    "assistant-professor": {
        "explicit": [r"assistant[- ]?(?:{field} )?prof(?:essor)?(?:s|ships?)?", r"asst\.? prof\w*"],
        "generic": [r"tenure[- ]track", r"tenure", r"(?:junior )?faculty", r"professorships?", r"professors?"],
    },
    "lecturer": {
        "explicit": [r"lecturers?", r"lectureships?", r"lecturing", r"(?:to|can i|could i) lecture"],
        "generic": [r"teaching[- ]focused"],
    },
    "clinical-professor": {
        "explicit": [r"clinical[- ]?(?:{field} )?prof(?:essor)?s?(?:hips?)?", r"clinical (?:faculty|track|academics?)"],
        "generic": [r"clinical", r"clinicians?", r"medical schools?", r"hospitals?", r"healthcare", r"medicine"],
    },
    "researcher": {
        "explicit": [
            r"research(?:er)? (?:jobs?|positions?|posts?|roles?|careers?|scientists?|assistants?|fellows?|associates?|staff|track)",
            r"researchers?",
            r"research[- ]only",
        ],
        "generic": [r"post-?docs?", r"postdoctoral", r"research labs?"],
    },
    "phd": {
        "explicit": [
            r"ph\.? ?d\.?s?",
            r"doctorates?",
            r"doctoral",
            r"grad(?:uate)? school",
            r"admits?",
            r"admissions?",
        ],
        "generic": [r"dissertations?", r"thesis", r"stipends?"],
    },
}

# Roles that are often a step towards another one; named beside another role, they are not the subject.
PREREQUISITE_ROLES = ("phd",)

ROLE_LABELS = {
    "assistant-professor": "assistant professor",
    "lecturer": "lecturer",
    "clinical-professor": "clinical professor",
    "researcher": "research positions",
    "phd": "PhD",
}

ASPECTS: dict[str, tuple[str, list[str]]] = {
    "qualifications": (
        "Required academic qualifications and degrees",
        [r"qualif\w*", r"degrees?", r"requirements?", r"credentials?"],
    ),
    "experience": (
        "Preferred experience, publications and postdoctoral work",
        [r"experience", r"publications?", r"papers?"],
    ),
    "skills": (
        "Skills and competencies such as programming and mathematics",
        [r"skills?", r"competenc\w*", r"programming"],
    ),
    "research focus": (
        "Research focus and expertise needed",
        [r"research focus", r"expertise", r"specialis\w*", r"specializ\w*"],
    ),
    "responsibilities": (
        "Roles, responsibilities and duties, teaching and mentoring",
        [r"responsibilit\w*", r"duties", r"day[- ]to[- ]day"],
    ),
    "career path": (
        "Career path, advancement, promotion and opportunities",
        [r"careers?(?: path)?", r"advancement", r"progress\w*", r"promotions?", r"opportunit\w*"],
    ),
}

# Abbreviations and everyday words that the guides spell differently; added to the retrieval query.
EXPANSIONS: dict[str, str] = {
    r"gpa": "grade point average",
    r"post-?docs?": "postdoctoral",
    r"pay|paid|earn(?:s|ings)?|wages?": "salary stipends",
    r"journals?": "publications venues",
    r"doctorates?|doctoral": "PhD",
    r"h-?index": "citations",
    r"(?:ai|ml) conferences?": "NeurIPS ICML",
    r"tenure clock": "tenure-track years",
    r"grants?": "grant funding",
}

_FIELD = re.compile(r"(?<![\w-])(?:machine[- ]learning|ml|artificial intelligence|ai)(?![\w-])", re.I)
# "it" and "this" stand for a thing, such as the PhD itself; "they" for the people in a role.
_PRONOUN = re.compile(r"\b(?:it|its|this|that)\b", re.I)
_COMPARE = re.compile(
    r"\b(compare|comparing|comparison|versus|vs\.?|differences?|differ|contrast|side by side)\b", re.I
)
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
# Words that carry no topic of their own in a follow-up such as "And what about lecturers?".
_FILLER = set(
    """a an and the what whats what's about how for of to in on at as is are was were be been being do does did
    so then also too same one ones them they those these that this it its role roles position positions job jobs
    career careers case please tell me more you your i my we us our can could would should will any anything else
    with versus vs or but if which who whom whose why when where there here than like instead now again ok okay
    thanks thank hi hello hey kind sort type become becoming one's someone someone's person people""".split()
)


@dataclass(frozen=True)
class Interpretation:
    """How a question was understood; `query` is the text retrieval uses."""

    question: str
    query: str
    topic: str
    roles: tuple[str, ...] = ()
    roles_from_history: bool = False
    topic_from_history: bool = False
    compare: bool = False
    aspects: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was carried over from earlier turns."""
        return self.roles_from_history or self.topic_from_history

    def describe(self) -> str:
        """A one-line statement of the understood question, for "Interpreted as: …"."""
        if self.compare:
            aspects = ", ".join(self.aspects) if self.aspects else "all shared aspects"
            return f"Compare {' and '.join(role_label(r) for r in self.roles)} on {aspects}"
        about = f" (about: {', '.join(role_label(r) for r in self.roles)})" if self.roles else ""
        return f"{self.topic}{about}"


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("-", " "))


_FIELD_WORDS = r"(?:ml|machine[- ]learning|ai)"


def _role_patterns(role: str) -> dict[str, list[str]]:
    if role in ROLE_TERMS:
        terms = ROLE_TERMS[role]
        return {
            kind: [pattern.replace("{field}", _FIELD_WORDS) for pattern in patterns] for kind, patterns in terms.items()
        }
    words = [re.escape(word) for word in role.split("-") if word]
    return {"explicit": [r"[- ]?".join(words) + r"s?"], "generic": []}


def find_terms(patterns: Iterable[str], text: str) -> list[tuple[int, int]]:
    """Spans of `text` where any of the word patterns occurs as whole words (case-insensitive)."""
    spans = []
    for pattern in patterns:
        spans.extend(match.span() for match in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.I))
    return spans


def detect_roles(text: str, available: Sequence[str]) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
    """The roles a text names (among `available`), in order of first mention, and the spans naming them."""
    explicit: dict[str, list[tuple[int, int]]] = {}
    generic: dict[str, list[tuple[int, int]]] = {}
    for role in available:
        patterns = _role_patterns(role)
        if spans := find_terms(patterns["explicit"], text):
            explicit[role] = spans
        if spans := find_terms(patterns["generic"], text):
            generic[role] = spans
    if explicit:
        # A generic word inside an explicit name ("clinical" in "clinical professor") is not a second role.
        for role in list(generic):
            if role in explicit or all(_inside(span, explicit) for span in generic[role]):
                generic.pop(role)
    # A PhD or a postdoc named beside another role is a requirement of it, not the subject:
    # "Do lecturers need a PhD?", "How long a postdoc before a faculty job?".
    if len(explicit.keys() | generic.keys()) > 1:
        for role in PREREQUISITE_ROLES:
            explicit.pop(role, None)
            generic.pop(role, None)
        if "researcher" in generic and "researcher" not in explicit and len(generic.keys() | explicit.keys()) > 1:
            generic.pop("researcher")
    chosen = explicit or generic
    if len(chosen) > 1 and not explicit:
        # Several generic hints: keep the role hinted at most often.
        most = max(len(spans) for spans in chosen.values())
        chosen = {role: spans for role, spans in chosen.items() if len(spans) == most}
    ordered = sorted(chosen, key=lambda role: min(chosen[role])[0])
    spans = sorted(span for role in ordered for span in explicit.get(role, []))
    return tuple(ordered), spans


def _inside(span: tuple[int, int], found: dict[str, list[tuple[int, int]]]) -> bool:
    return any(start <= span[0] and span[1] <= end for spans in found.values() for start, end in spans)


def detect_aspects(text: str) -> tuple[str, ...]:
    return tuple(name for name, (_, patterns) in ASPECTS.items() if find_terms(patterns, text))


def content_words(text: str) -> list[str]:
    """Words of `text` that say what it is about (no fillers, no stop words)."""
    return [word for word in (w.lower() for w in _WORD.findall(text)) if word not in _FILLER]


def clean_question(text: str, max_chars: int) -> tuple[str, str | None]:
    """The question with control characters removed and whitespace folded, cut to `max_chars`.

    Returns:
        The cleaned question and a notice for the user when it was cut (else None).
    """
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in "\u200d" else ch for ch in text
    )
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
        return cut, f"Your question was {len(text):,} characters long; only the first {len(cut):,} were used."
    return text, None


def wording_hint(text: str) -> str | None:
    """Why a question cannot be matched to English guides by its wording, if that is the reason."""
    letters = [ch for ch in text if ch.isalpha()]
    if not any(ch.isalnum() for ch in text):
        return "Please ask your question in words; this one has no letters or digits."
    if letters and sum(ch.isascii() for ch in letters) / len(letters) < 0.5:
        return "The guides are written in English, so questions in English match them best."
    return None


def _without_roles(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    result = "".join(pieces)
    # Drop articles and prepositions left dangling where a role name was removed.
    result = re.sub(
        r"\b(?:for|as|of|to become|become|be|being)?\s*\b(?:an?|the)\s*(?=[?.!,]|$)", "", result, flags=re.I
    )
    result = re.sub(r"\b(?:for|as|of|and|about)\s*(?=[?.!,]|$)", "", result, flags=re.I)
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", result)).strip()


def interpret(question: str, history: Sequence[str] = (), available_roles: Sequence[str] = ()) -> Interpretation:
    """Understand `question` in the light of the earlier questions of the conversation.

    A question without a topic of its own ("And for a lecturer?") takes the topic of the
    previous turn; one that names no role takes the roles of the previous turn.
    """
    previous: Interpretation | None = None
    for earlier in history:
        if earlier and earlier.strip():
            previous = _interpret_one(earlier, previous, available_roles)
    return _interpret_one(question, previous, available_roles)


def _interpret_one(question: str, previous: Interpretation | None, available: Sequence[str]) -> Interpretation:
    roles, spans = detect_roles(question, available)
    topic = _without_roles(question, spans) or question
    compare = bool(_COMPARE.search(question)) and len(roles) >= 2
    aspects = detect_aspects(question)
    if compare:
        return Interpretation(question, question, topic, roles, compare=True, aspects=aspects)
    has_topic = bool(content_words(_strip_spans(question, spans)))
    if previous is not None and not has_topic:
        if previous.compare and not roles:
            return Interpretation(
                question, previous.query, previous.topic, previous.roles, True, True, True, previous.aspects
            )
        new_roles = roles or previous.roles
        return Interpretation(
            question, previous.topic, previous.topic, new_roles, not roles, True, False, previous.aspects
        )
    # The role is matched by the role preference, so the query keeps only the topic: the names
    # of roles would pull it towards the passages that repeat them most, such as introductions.
    query = _without_field(topic) if has_topic else question
    if previous is not None and not roles and previous.roles:
        if _PRONOUN.search(question):
            # "How long does it take?": the pronoun stands for the role of the previous turn.
            query = f"{query} ({', '.join(role_label(role) for role in previous.roles)})"
        return Interpretation(question, query, question, previous.roles, True, False, False, aspects)
    return Interpretation(question, query, topic, roles, aspects=aspects)


def _without_field(text: str) -> str:
    """`text` without the field's own name, which every guide repeats, when other words remain."""
    stripped = re.sub(r"\s{2,}", " ", _FIELD.sub(" ", text)).strip()
    return stripped if content_words(stripped) else text


def expand_query(text: str) -> str:
    """`text` with the guides' wording added for abbreviations and everyday words it uses."""
    extra = [
        words
        for pattern, words in EXPANSIONS.items()
        if find_terms([pattern], text) and words.lower() not in text.lower()
    ]
    return f"{text} ({'; '.join(extra)})" if extra else text


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text
