"""Understanding a question: the roles it names, its topic, its kind, and what it takes from earlier turns.

Nothing here knows one corpus: role names come from the guides' front matter (`label`,
`aliases`, `hints`, `prerequisite`) and the field's names and query expansions from the
collection file, gathered in a `Lexicon`. What is written here is how English questions work:
which words ask for a history, a list across roles, a follow-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from guide.ingest.collection import Collection, Facet
from guide.ingest.corpus import Document, without_reference_marks

# Kinds of question, each answered its own way (see guide/answer.py).
KINDS = ("fact", "overview", "duties", "career", "history", "trends", "cross-role", "situation", "compare")

FIELD = "\0field"  # one token standing for any of the field's names

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_COMPARE = re.compile(
    r"\b(compare|comparing|comparison|versus|vs\.?|differences?|differ|contrast|side by side)\b", re.I
)
# Words that carry no topic of their own in a follow-up such as "And what about lecturers?".
_FILLER = set(
    """a an and the what whats what's about how for of to in on at as is are was were be been being do does did
    so then also too same one ones them they those these that this it its role roles position positions job jobs
    career careers case please tell me more you your i my we us our can could would should will any anything else
    with versus vs or but if which who whom whose why when where there here than like instead now again ok okay
    thanks thank hi hello hey kind sort type become becoming one's someone someone's person people""".split()
)
# Common English words that a small corpus may not use but that are no typos ("being", "should").
_COMMON = frozenset(
    """being having doing going getting making taking happens happen happened would should could might
    around before after during through without within between across against about above below under
    people years year things something anything everything really actually usually often always never""".split()
)
# A question that leans on the conversation: a pronoun standing for the earlier subject, or an
# elliptical opening ("And for…", "What about…").
_ANAPHOR = re.compile(
    r"\b(?:they|them|their|theirs|it|its|there|he|she|his|hers"
    r"|(?:this|that|these|those|the|same)\s+(?:role|roles|job|jobs|position|positions|post|posts|career|one|ones|path|program|programme|degree)"
    r"|(?:this|that)(?=\s*[?.!]|\s*$))\b",
    re.I,
)
_ELLIPTICAL = re.compile(r"^\s*(?:and|what about|how about|also|but|or|then|so|same)\b", re.I)
# "it" that stands for nothing: "Is it worth…", "how hard is it to…", "it is common to…".
_DUMMY_IT = re.compile(
    r"\b(?:is|was|would|will|does|isn't)\s+it\s+(?:be\s+)?(?:\w+\s+){0,2}?(?:to|for|that|worth|possible|true)\b"
    r"|\bit(?:'s|’s|\s+is|\s+was)\s+(?:\w+\s+){0,2}?(?:to|that)\b",
    re.I,
)
# "there" that points at nothing: "Is there demand…", "there are many…".
_EXISTENTIAL_THERE = re.compile(r"\b(?:is|are|was|were|will|would)\s+there\b|\bthere(?:'s|’s|\s+(?:is|are|was|were|will|would|has|have))\b", re.I)
_PRONOUN_FOR_ROLE = re.compile(r"\b(?:it|its|this|that)\b", re.I)

# How a question's wording shows its kind, tried in this order.
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "situation",
        re.compile(
            r"(?:^|[.!?]\s+)(?:i|i'm|i’m|im|my|i've|i’ve)\b.*\b(?:can|could|am|should|would|will|do|is|are)\s+(?:i|it|my|that)\b"
            r"|\b(?:i have|i've got|i’ve got|i hold|i only have|i'm a|i am a|i’m a|with my)\b.*\?",
            re.I,
        ),
    ),
    (
        "cross-role",
        re.compile(
            r"\bwhich\s+(?:\w+\s+){0,3}?(?:roles|jobs|positions|posts|careers|ranks|job|role|position|career|post)\b"
            r"(?!\s+(?:do|does|should|would)\s+(?:i|you|they|one)\b)"
            r"|\bwhat\s+(?:academic\s+|other\s+)?(?:roles|jobs|positions|careers)\b"
            r"|\b(?:different|each|every|all|the various)\s+(?:\w+\s+)?(?:roles|jobs|positions|careers)\b"
            r"|\bacross\s+(?:the\s+)?(?:roles|jobs|positions)\b",
            re.I,
        ),
    ),
    (
        "history",
        re.compile(
            r"\b(?:history|historic\w*|historically|origins?|originate\w*|come about|came about|emerged?|date back|dates back"
            r"|coined|how old|when (?:did|was|were)|where does .* come from|first (?:appear|created|introduced)\w*|take off|took off)\b",
            re.I,
        ),
    ),
    (
        "trends",
        re.compile(
            r"\b(?:trends?|trending|outlook|future|demand|growing|growth|prospects?|hot|hiring|job market|market|in demand)\b",
            re.I,
        ),
    ),
    (
        "career",
        re.compile(
            r"\b(?:comes? after|after (?:being|a|an|the|my)|next step|career (?:path|ladder|progression)|ladder|progress\w*"
            r"|promot\w+|advance\w*|leads? to|lead\b|take me|where can .* (?:take|lead|go)|move up|career after)\b",
            re.I,
        ),
    ),
    (
        "duties",
        re.compile(
            r"\b(?:duties|responsibilit\w+|day[- ]to[- ]day|all day|actually do|involve[sd]?|typical (?:day|week)"
            r"|what (?:does|do) (?:an?|the)\s+(?:[\w'’-]+\s+){0,5}?(?:do|work on)(?=\s*[?.!]|\s*$))",
            re.I,
        ),
    ),
    (
        "overview",
        re.compile(
            r"\b(?:how (?:do|can|could|would|should|does) (?:i|you|one|someone|people|a person)\s+(?:becom\w*|get|land|secure|qualify|break|start|enter|pursue)"
            r"|how to (?:becom\w*|get|land|secure|qualify|enter|pursue)|becom\w*|what (?:do|does|would|will) (?:i|you|one) need"
            r"|what does it take|what is needed|requir\w*ments?|reqs?|prereq\w*|qualifications?|entry|eligib\w*"
            r"|what (?:do|does) it take)\b",
            re.I,
        ),
    ),
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
    kind: str = "fact"
    labels: tuple[str, ...] = ()
    # The question names roles (and the field) and nothing else ("prof"): it asks about the role.
    names_only: bool = False
    # The topic as "Interpreted as" shows it: without the field's name left dangling where a role
    # was taken out ("What GPA do I need?", not "… for an ML?"); `topic` when empty.
    shown_topic: str = ""
    # The question with its one role mention marked (ROLE_MARK), to restate a follow-up that takes
    # its topic for the follow-up's role ("What GPA do I need for a lecturer?").
    template: str = ""

    @property
    def changed(self) -> bool:
        """Whether anything was carried over from earlier turns."""
        return self.roles_from_history or self.topic_from_history

    def describe(self) -> str:
        """A one-line statement of the understood question, for "Interpreted as: …"."""
        labels = self.labels or tuple(role.replace("-", " ") for role in self.roles)
        if self.compare:
            aspects = ", ".join(self.aspects) if self.aspects else "all shared aspects"
            return f"Compare {' and '.join(labels)} on {aspects}"
        if self.topic_from_history and self.template and len(labels) == 1:
            return _restate(self.template, labels[0])
        about = f" (about: {', '.join(labels)})" if labels else ""
        return f"{self.shown_topic or self.topic}{about}"


@dataclass(frozen=True)
class _Name:
    role: str
    priority: int  # 3: the role's own name, 2: an alias, 1: a hint
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class _Match:
    role: str
    priority: int
    start: int
    end: int


def tokens_of(text: str) -> list[tuple[str, int, int]]:
    """Lower-case words of `text` with their spans; a possessive "'s" is dropped."""
    found = []
    for match in _WORD.finditer(text):
        word = match.group().lower().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        found.append((word, match.start(), match.end()))
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), or `limit + 1` once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _allowed_typos(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


def _plural_of(word: str, base: str) -> bool:
    return word in (base + "s", base + "es") or (base.endswith("y") and word == base[:-1] + "ies")


class Lexicon:
    """How one corpus names its roles and field, built from its guides and collection file."""

    def __init__(
        self,
        documents: Iterable[Document],
        collection: Collection | None = None,
        typo_tolerance: bool = True,
        english: Iterable[str] = (),
    ) -> None:
        """
        Args:
            documents: the guides, with their role names.
            collection: the collection file's contents (defaults when None).
            typo_tolerance: correct misspelt words and accept typos in role names.
            english: known English words (such as the embedding model's whole-word tokens), which
                are never taken for typos of the guides' words.
        """
        self.collection = collection or Collection()
        self.typo_tolerance = typo_tolerance
        self._english = frozenset(english)
        self._documents = list(documents)
        self.labels: dict[str, str] = {}
        self.prerequisites: set[str] = set()
        self._field = [tuple(w for w, _, _ in tokens_of(name)) for name in self.collection.field]
        self._field = sorted({f for f in self._field if f}, key=len, reverse=True)
        names: list[_Name] = []
        for doc in self._documents:
            # Labels go into answers, where a "[2]" would pass for a citation.
            self.labels.setdefault(doc.role, without_reference_marks(doc.label) or doc.role.replace("-", " "))
            if doc.prerequisite:
                self.prerequisites.add(doc.role)
            own = {doc.role.replace("-", " "), doc.label}
            for priority, phrases in ((3, own), (2, doc.aliases), (1, doc.hints)):
                for phrase in phrases:
                    if tokens := self._collapse([w for w, _, _ in tokens_of(phrase)]):
                        names.append(_Name(doc.role, priority, tuple(tokens)))
        self._names = list(dict.fromkeys(names))
        self._expansions = [
            ([tuple(w for w, _, _ in tokens_of(word)) for word in expansion.words], expansion.add)
            for expansion in self.collection.expansions
        ]

    @property
    def roles(self) -> list[str]:
        return sorted(self.labels)

    def label(self, role: str) -> str:
        return self.labels.get(role, role.replace("-", " "))

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the guides and of the role names: what is not a typo."""
        words = {w for doc in self._documents for w, _, _ in tokens_of(doc.text)}
        words.update(w for doc in self._documents for w, _, _ in tokens_of(doc.title))
        words.update(t for name in self._names for t in name.tokens)
        words.update(t for f in self._field for t in f)
        return frozenset(words)

    @cached_property
    def _guide_stems(self) -> frozenset[str]:
        return frozenset(_stem(word) for word in self.vocabulary)

    @cached_property
    def _english_stems(self) -> frozenset[str]:
        return frozenset(_stem(word) for word in self._english)

    @cached_property
    def _by_first_letter(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for word in self.vocabulary:
            if word.isalpha() and len(word) >= 4:
                groups.setdefault(word[0], []).append(word)
        return groups

    def in_guides(self, word: str) -> bool:
        """Whether the guides use a word, in this or another form ("funds" for "funding")."""
        return word in self.vocabulary or not word.isalpha() or _stem(word) in self._guide_stems

    def known(self, word: str) -> bool:
        """Whether a word is the guides' own or common English: never "corrected"."""
        return (
            self.in_guides(word)
            or word in _FILLER
            or word in _COMMON
            or word in self._english
            or _stem(word) in self._english_stems
        )

    def correct(self, text: str) -> str:
        """`text` with misspelt words replaced by the closest word the guides use ("requirments")."""
        pieces, cursor = [], 0
        for word, start, end in tokens_of(text):
            allowed = _allowed_typos(word)
            if not allowed or self.known(word):
                continue
            best, distance = None, allowed + 1
            # Typos rarely hit the first letter; looking only there keeps this fast on large corpora.
            for candidate in sorted(self._by_first_letter.get(word[0], ())):
                found = edit_distance(word, candidate, min(allowed, distance - 1) if best else allowed)
                if found < distance:
                    best, distance = candidate, found
            if best is not None:
                pieces += [text[cursor:start], best]
                cursor = end
        return "".join(pieces) + text[cursor:] if pieces else text

    # ------------------------------------------------------------ roles

    def _collapse(self, words: Sequence[str]) -> list[str]:
        """`words` with each name of the field replaced by the FIELD token."""
        return [word for word, _, _ in self._collapse_tokens([(word, 0, 0) for word in words])]

    def _collapsed_tokens(self, text: str) -> list[tuple[str, int, int]]:
        return self._collapse_tokens(tokens_of(text))

    def _collapse_tokens(self, tokens: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """Tokens with each name of the field ("machine learning") made one FIELD token."""
        words = [word for word, _, _ in tokens]
        out, i = [], 0
        while i < len(tokens):
            for name in self._field:
                if tuple(words[i : i + len(name)]) == name:
                    out.append((FIELD, tokens[i][1], tokens[i + len(name) - 1][2]))
                    i += len(name)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def _word_matches(self, wanted: str, word: str) -> bool:
        if word == wanted or _plural_of(word, wanted):
            return True
        allowed = _allowed_typos(word) if self.typo_tolerance else 0
        if not allowed or wanted == FIELD or self.known(word):
            return False
        return edit_distance(word, wanted, allowed) <= allowed or any(
            edit_distance(word, form, allowed) <= allowed for form in (wanted + "s",)
        )

    def _matches(self, tokens: list[tuple[str, int, int]]) -> list[_Match]:
        found = []
        for name in self._names:
            for first in range(len(tokens)):
                position, matched_end = first, None
                for number, wanted in enumerate(name.tokens):
                    # The field's name may stand inside a role's name: "assistant ML professor".
                    while number and position < len(tokens) and tokens[position][0] == FIELD and wanted != FIELD:
                        position += 1
                    if position < len(tokens) and self._word_matches(wanted, tokens[position][0]):
                        matched_end = tokens[position][2]
                        position += 1
                    else:
                        matched_end = None
                        break
                if matched_end is not None:
                    found.append(_Match(name.role, name.priority, tokens[first][1], matched_end))
        return found

    def detect_roles(self, text: str) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
        """The roles a text names, in order of first mention, and the spans naming them.

        Where names overlap, the stronger wins: a role's own name over another's alias, an
        alias over a hint, a longer name over a shorter one ("research scientist" is the
        research-scientist guide's name, not the researcher guide's alias, once that guide exists).
        """
        roles, spans, _ = self.read_roles(text)
        return roles, spans

    def read_roles(self, text: str) -> tuple[tuple[str, ...], list[tuple[int, int]], bool]:
        """`detect_roles`, and whether the text says nothing but names of roles and of the field
        ("prof", "ML lecturer"), from one pass over the names."""
        tokens = self._collapsed_tokens(text)
        found = self._matches(tokens)
        roles, spans = self._choose_roles(found)
        rest = [
            word
            for word, start, end in tokens
            if word != FIELD and not any(m.start <= start and end <= m.end for m in found)
        ]
        return roles, spans, bool(roles) and not content_words(" ".join(rest))

    def _choose_roles(self, found: list[_Match]) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
        matches = sorted(found, key=lambda m: (-m.priority, m.start - m.end))
        kept: list[_Match] = []
        for match in matches:
            if not any(match.start < other.end and other.start < match.end for other in kept):
                kept.append(match)
        explicit: dict[str, list[tuple[int, int]]] = {}
        generic: dict[str, list[tuple[int, int]]] = {}
        for match in kept:
            (explicit if match.priority >= 2 else generic).setdefault(match.role, []).append((match.start, match.end))
        # A role that is a step towards others, named beside another role, is a requirement of it:
        # "Do lecturers need a PhD?".
        if len(explicit.keys() | generic.keys()) > 1:
            for role in self.prerequisites:
                explicit.pop(role, None)
                generic.pop(role, None)
        chosen = explicit or generic
        if len(chosen) > 1 and not explicit:
            # Several hints: keep the role hinted at most often.
            most = max(len(spans) for spans in chosen.values())
            chosen = {role: spans for role, spans in chosen.items() if len(spans) == most}
        ordered = sorted(chosen, key=lambda role: min(chosen[role])[0])
        spans = sorted(span for role in ordered for span in explicit.get(role, []))
        return tuple(ordered), spans

    # ------------------------------------------------------------ query text

    def over_field(self, text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Role-name `spans` of `text` widened over the field's name right before them ("an ML
        PhD"), so taking the role out does not leave "an ML" dangling."""
        fields = [(s, e) for w, s, e in self._collapsed_tokens(text) if w == FIELD]
        widened = []
        for start, end in spans:
            for field_start, field_end in fields:
                if field_end <= start and not text[field_end:start].strip():
                    start = field_start
            widened.append((start, end))
        return widened

    def without_field(self, text: str) -> str:
        """`text` without the field's own name, which every guide repeats, when other words remain."""
        spans = [(s, e) for w, s, e in self._collapsed_tokens(text) if w == FIELD]
        stripped = re.sub(r"\s{2,}", " ", _strip_spans(text, spans)).strip()
        return stripped if content_words(stripped) else text

    def expand(self, text: str) -> str:
        """`text` with the guides' wording added for abbreviations and everyday words it uses."""
        words = [w for w, _, _ in tokens_of(text)]
        extra = []
        for phrases, add in self._expansions:
            if add.lower() in text.lower() or add in extra:
                continue
            if any(tuple(words[i : i + len(p)]) == p for p in phrases for i in range(len(words))):
                extra.append(add)
        return f"{text} ({'; '.join(extra)})" if extra else text

    def aspects(self, text: str) -> tuple[str, ...]:
        """The facets a comparison names ("on qualifications")."""
        return tuple(facet.name for facet in self.facets_named(text, "compare"))

    def facets_named(self, text: str, kind: str) -> list[Facet]:
        """The facets of one question kind whose words `text` uses."""
        words = [w for w, _, _ in tokens_of(text)]
        named = []
        for facet in self.collection.facets_for(kind):
            phrases = [tuple(w for w, _, _ in tokens_of(word)) for word in facet.words]
            if any(
                all(_same_or_plural(words[i + k], p[k]) for k in range(len(p)))
                for p in phrases
                for i in range(len(words) - len(p) + 1)
            ):
                named.append(facet)
        return named


def stems(text: str) -> frozenset[str]:
    """The Snowball stems of the content words of `text` ("averages" and "average" meet)."""
    return frozenset(_stem(word) for word in content_words(text))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _same_or_plural(word: str, base: str) -> bool:
    return word == base or _plural_of(word, base) or _plural_of(base, word)


def question_kind(text: str) -> str:
    """The kind of answer a question asks for, from its wording (see `KINDS`)."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return "fact"


def leans_on_conversation(text: str) -> bool:
    """Whether a question refers back to an earlier turn (a pronoun, "And for…", "What about…")."""
    if _ELLIPTICAL.search(text):
        return True
    return bool(_ANAPHOR.search(_EXISTENTIAL_THERE.sub(" ", _DUMMY_IT.sub(" ", text))))


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
    result = _strip_spans(text, spans)
    # Drop articles and prepositions left dangling where a role name was removed.
    result = re.sub(
        r"\b(?:for|as|of|to become|become|be|being)?\s*\b(?:an?|the)\s*(?=[?.!,]|$)", "", result, flags=re.I
    )
    result = re.sub(r"\b(?:for|as|of|and|about)\s*(?=[?.!,]|$)", "", result, flags=re.I)
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", result)).strip()


ROLE_MARK = "\ue000"  # a private-use character: where a question named its role


def _role_template(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with its one role mention, and the article before it, marked ("What GPA do I need
    for ROLE_MARK?"); empty unless it names exactly one role after an article (a plural or bare
    name would not read right with another role put in)."""
    if len(spans) != 1:
        return ""
    start, end = spans[0]
    article = re.search(r"\b(an?|the)\s+$", text[:start], re.I)
    if article is None:
        return ""
    return text[: article.start()] + ROLE_MARK + text[end:]


def _restate(template: str, label: str) -> str:
    """The question of `template` asked about the role `label`, with "a" or "an" as it needs."""
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return template.replace(ROLE_MARK, f"{article} {label}")


def _strip_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


@dataclass
class _Reader:
    lexicon: Lexicon
    only_when_leaning: bool = True

    def one(self, question: str, previous: Interpretation | None) -> Interpretation:
        lexicon = self.lexicon
        roles, spans, names_only = lexicon.read_roles(question)
        labels = tuple(lexicon.label(role) for role in roles)
        topic = _without_roles(question, spans) or question
        widened = lexicon.over_field(question, spans)
        shown = _without_roles(question, widened) or question
        template = _role_template(question, widened)
        kind = question_kind(question)
        compare = bool(_COMPARE.search(question)) and len(roles) >= 2
        aspects = lexicon.aspects(question)
        if compare:
            return Interpretation(
                question, question, topic, roles, compare=True, aspects=aspects, kind="compare", labels=labels
            )
        has_topic = bool(content_words(lexicon.without_field(_strip_spans(question, spans))))
        if previous is not None and not has_topic:
            # "And for a clinical professor?": the earlier question, asked of the new role.
            if previous.compare and not roles:
                return Interpretation(
                    question, previous.query, previous.topic, previous.roles, True, True, True,
                    previous.aspects, "compare", previous.labels,
                )  # fmt: skip
            new_roles, new_labels = (roles, labels) if roles else (previous.roles, previous.labels)
            return Interpretation(
                question, previous.topic, previous.topic, new_roles, not roles, True, False,
                previous.aspects, previous.kind, new_labels, shown_topic=previous.shown_topic,
                template=previous.template,
            )  # fmt: skip
        # The role is matched by the role preference, so the query keeps only the topic: the names
        # of roles would pull it towards the passages that repeat them most, such as introductions.
        query = lexicon.without_field(topic) if has_topic else question
        leans = leans_on_conversation(question) or not self.only_when_leaning
        if previous is not None and not roles and previous.roles and leans:
            if _PRONOUN_FOR_ROLE.search(_DUMMY_IT.sub(" ", question)):
                # "How long does it take?": the pronoun stands for the role of the previous turn.
                query = f"{query} ({', '.join(previous.labels)})"
            return Interpretation(
                question, query, question, previous.roles, True, False, False, aspects, kind, previous.labels
            )
        if names_only and kind == "fact":
            # A role named and nothing else ("prof", "ML lecturer"): what the role takes.
            kind = "overview"
        return Interpretation(
            question, query, topic, roles, aspects=aspects, kind=kind, labels=labels, names_only=names_only,
            shown_topic=shown, template=template,
        )


def interpret(
    question: str,
    history: Sequence[str] = (),
    lexicon: Lexicon | None = None,
    only_when_leaning: bool = True,
) -> Interpretation:
    """Understand `question` in the light of the earlier questions of the conversation.

    A question without a topic of its own ("And for a lecturer?") takes the topic of the
    previous turn; one that names no role takes the roles of the previous turn only when it
    leans on it ("How long does it take?", "What about pay?"). A question with a subject of its
    own ("What are the trends in hiring?") is answered on its own.
    """
    reader = _Reader(lexicon or Lexicon(()), only_when_leaning)
    previous: Interpretation | None = None
    for earlier in history:
        if earlier and earlier.strip():
            previous = reader.one(earlier, previous)
    return reader.one(question, previous)


# "How do I become an airline pilot?", "What does a nurse earn?", "a plumber's pay": the job asked about.
_SUBJECT = re.compile(
    r"\b(?:become|becoming|be|work as|working as|job as|career as|train as|training as)\s+(?:an?|the)\s+"
    r"(?P<a>[\w'’ -]{2,40}?)(?=\s*(?:[?.!,;]|$)|\s+(?:in|at|for|with|and|or|who|without|if|after|before|by|like)\b)"
    r"|\b(?:does|do|did|would|will|can|could|should|is|are)\s+(?:an?|the)\s+(?P<b>[\w'’ -]{2,40}?)\s+"
    r"(?:earn|earns|make|makes|do|need|needs|get|gets|study|have|has|require|requires|take|takes|paid|typically|usually|actually)\b"
    r"|\b(?:an?|the)\s+(?P<c>[\w -]{2,30}?)(?:'s|’s)\s+(?:pay|salary|job|role|day|duties|career|earnings|wage|work)\b",
    re.I,
)


# "I work as a nurse.", "I'm currently training as a …": the asker's own job, not what they ask about.
_ASKER = re.compile(
    r"(?:^|[.!?;,:]\s*|\b(?:and|but|so|because)\s+)(?:i|i'm|i’m|i am|we|we're|we’re|we are)\s+"
    r"(?:currently\s+|now\s+|still\s+|already\s+)?$",
    re.I,
)
_BACKGROUND_VERB = re.compile(r"(?:work|working|train|training)\b", re.I)


def _about_the_asker(before: str) -> bool:
    """Whether a clause ending in `before` has the asker as subject: "I work as…", "I'm currently
    training as…", "I have a master's and work as…"."""
    if _ASKER.search(before):
        return True
    sentence = re.split(r"[.!?]", before)[-1]
    return bool(re.match(r"\s*(?:i|i'm|i’m|i am|we)\b", sentence, re.I) and re.search(r"\band\s+$", sentence, re.I))


def asked_subject(text: str) -> str | None:
    """The job a question asks about, when it names one in a recognisable way (not the asker's
    own: "I work as a nurse. Can I become a lecturer?" asks about the lecturer)."""
    for match in _SUBJECT.finditer(text):
        if _BACKGROUND_VERB.match(match.group()) and _about_the_asker(text[: match.start()]):
            continue
        return next(group for group in match.groups() if group).strip()
    return None


# "How do I get a student visa for a PhD?": the thing a question asks how to obtain.
_THING = re.compile(
    r"\b(?:get|getting|obtain|obtaining)\s+(?P<thing>(?:an?|the)\s+[\w'’ -]{2,40}?)"
    r"(?=\s*(?:[?.!,;]|$)|\s+(?:for|to|in|at|as|with|if|when|before|after|while|from)\b)",
    re.I,
)


def asked_thing(text: str) -> str | None:
    """The thing a question asks how to get ("a student visa"), when it names one that way."""
    match = _THING.search(text)
    return match.group("thing").strip() if match else None
