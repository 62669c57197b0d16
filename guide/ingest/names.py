"""The names of a corpus's roles, resolved with the whole corpus in view, and the collisions found.

Every guide names its role by its slug and label, its title (the title's head before a
separator, when short, and the capitalised abbreviations in it, such as "CPA"), and the
`aliases` and `hints` of its front matter. Across a corpus these collide, and the rules are:

- a name made only of the field's names (a role `machine-learning` in a collection about
  machine learning) picks no guide: every question names the field;
- a name claimed by several roles goes to the strongest claim (own name or title over an
  alias, an alias over a hint); claims of equal strength by aliases or hints cancel out, and
  own names of equal strength are all kept (the question then names both roles);
- an alias or hint of one word that the guides of many other roles use ("admissions",
  "faculty") picks no guide, once the corpus has enough roles to tell;
- an abbreviation in the titles of several roles ("UK") is no one's name;
- a name that a role outside the field wins from a role of the field (a guide whose title
  names the field) still picks the field's role when the question names the field too: an
  "ML postdoc" is the field's research guide's, "postdoc" alone the postdoc pages'.

The longer of two overlapping names wins when a question is read (guide.ask.lexicon).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guide.ingest.corpus import Document
from guide.language import DEFAULT, Language

FIELD = "\0field"  # one token standing for any of the field's names
OWN, ALIAS, HINT = 3, 2, 1
# How many roles a corpus needs before a word many of them use counts as common, and how many
# of the other roles must use it.
COMMON_MIN_ROLES = 10
COMMON_SHARE = 1 / 3
TITLE_HEAD_WORDS = 3


@dataclass(frozen=True)
class RoleName:
    """One name of a role as the words it is matched by, and how strongly it names the role."""

    role: str
    priority: int  # OWN: the role's own name or title, ALIAS, or HINT
    tokens: tuple[str, ...]
    # Picks the role only in a text that names the field too.
    with_field: bool = False


@dataclass(frozen=True)
class NameWarning:
    """A collision found among the names: which name, of which files, and what the rules did."""

    kind: str  # "field", "shared", "shared-dropped" or "common"
    name: str
    files: tuple[str, ...]
    kept: str | None = None  # the role that keeps a shared name

    def message(self, language: Language = DEFAULT) -> str:
        return language.NAME_WARNINGS[self.kind].format(
            name=self.name, files=", ".join(self.files), kept=self.kept or ""
        )

    def to_json(self, language: Language = DEFAULT) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "files": list(self.files),
            "kept": self.kept,
            "message": self.message(language),
        }


def tokens_of(text: str, language: Language = DEFAULT) -> list[tuple[str, int, int]]:
    """Lower-case words of `text` with their spans; a possessive ending is dropped."""
    return [
        (language.possessive_base(match.group().lower().replace("’", "'")), match.start(), match.end())
        for match in language.WORD.finditer(text)
    ]


def field_phrases(names: Iterable[str], language: Language = DEFAULT) -> list[tuple[str, ...]]:
    """The field's names as word tuples, longest first (so "machine learning" beats "machine")."""
    phrases = {tuple(word for word, _, _ in tokens_of(name, language)) for name in names}
    return sorted((phrase for phrase in phrases if phrase), key=len, reverse=True)


def collapse(tokens: list[tuple[str, int, int]], field: Sequence[tuple[str, ...]]) -> list[tuple[str, int, int]]:
    """Tokens with each name of the field ("machine learning") made one FIELD token."""
    words = [word for word, _, _ in tokens]
    out, i = [], 0
    while i < len(tokens):
        for name in field:
            if tuple(words[i : i + len(name)]) == name:
                out.append((FIELD, tokens[i][1], tokens[i + len(name) - 1][2]))
                i += len(name)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _words(phrase: str, field: Sequence[tuple[str, ...]], language: Language) -> tuple[str, ...]:
    return tuple(word for word, _, _ in collapse(tokens_of(phrase, language), field))


def _title_names(doc: Document, language: Language) -> tuple[list[str], list[str]]:
    """The head of a guide's title, when short, and the abbreviations written in capitals in it."""
    head = language.TITLE_SEPARATOR.split(doc.title, maxsplit=1)[0]
    heads = [head] if 0 < len(tokens_of(head, language)) <= TITLE_HEAD_WORDS else []
    capitals = [m.group() for m in language.WORD.finditer(doc.title) if m.group().isupper() and 2 <= len(m.group()) <= 6]
    return heads, capitals


class _Claims:
    """Who claims each name: {words: {role: (priority, files)}}, with the words as written."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, ...], dict[str, tuple[int, set[str]]]] = {}
        self.written: dict[tuple[str, ...], str] = {}

    def add(self, words: tuple[str, ...], written: str, role: str, priority: int, path: str) -> None:
        claims = self.by_name.setdefault(words, {})
        best, files = claims.get(role, (0, set()))
        claims[role] = (max(best, priority), files | {path})
        self.written.setdefault(words, written.strip())


def role_names(
    documents: Sequence[Document], field: Iterable[str], language: Language = DEFAULT
) -> tuple[list[RoleName], list[NameWarning]]:
    """The names that pick each role, and the collisions found among them, by the module's rules."""
    phrases = field_phrases(field, language)
    ours = field_roles(documents, phrases, language)
    claims, abbreviations = _Claims(), _Claims()
    for doc in documents:
        heads, capitals = _title_names(doc, language)
        for priority, written in (
            *((OWN, name) for name in (doc.role.replace("-", " "), doc.label, *heads)),
            *((ALIAS, name) for name in doc.aliases),
            *((HINT, name) for name in doc.hints),
        ):
            if words := _words(written, phrases, language):
                claims.add(words, written, doc.role, priority, doc.path)
        for written in capitals:
            if (words := _words(written, phrases, language)) and words != (FIELD,):
                abbreviations.add(words, written, doc.role, ALIAS, doc.path)
    warnings: list[NameWarning] = []
    for words, owners in abbreviations.by_name.items():
        # One found in the titles of several roles ("UK" of country copies) is no one's name;
        # no maintainer wrote it, so it is not reported either.
        if len(owners) == 1 and words not in claims.by_name:
            (role, (priority, paths)), = owners.items()
            for path in paths:
                claims.add(words, abbreviations.written[words], role, priority, path)
    common = _common_words(documents, claims, language)
    names: list[RoleName] = []
    for words, owners in claims.by_name.items():
        written = claims.written[words]
        files = tuple(sorted(path for _, paths in owners.values() for path in paths))
        if all(word == FIELD for word in words):
            warnings.append(NameWarning("field", written, files))
            continue
        top = max(priority for priority, _ in owners.values())
        if top < OWN and words in common:
            warnings.append(NameWarning("common", written, files))
            continue
        winners = [role for role, (priority, _) in owners.items() if priority == top]
        if len(owners) > 1:
            kept = ", ".join(sorted(winners)) if len(winners) == 1 or top == OWN else None
            warnings.append(NameWarning("shared" if kept else "shared-dropped", written, files, kept))
            if kept is None:
                continue
        names.extend(RoleName(role, top, words) for role in winners)
        if not ours & set(winners):
            names.extend(
                RoleName(role, priority, words, with_field=True)
                for role, (priority, _) in owners.items()
                if role in ours and role not in winners
            )
    return names, sorted(warnings, key=lambda w: (w.kind, w.name))


def field_roles(documents: Sequence[Document], phrases: Sequence[tuple[str, ...]], language: Language) -> frozenset[str]:
    """The roles of the collection's field: a guide of theirs names the field in its title."""
    return frozenset(
        doc.role for doc in documents if phrases and FIELD in (w for w, _, _ in collapse(tokens_of(doc.title, language), phrases))
    )


def _common_words(
    documents: Sequence[Document], claims: _Claims, language: Language
) -> frozenset[tuple[str, ...]]:
    """The one-word names that the guides of many roles other than their own use."""
    roles = {doc.role for doc in documents}
    if len(roles) < COMMON_MIN_ROLES:
        return frozenset()
    single = {words[0]: words for words in claims.by_name if len(words) == 1 and words[0] != FIELD}
    users: dict[str, set[str]] = {word: set() for word in single}
    for doc in documents:
        for word, _, _ in tokens_of(doc.text, language):
            if word in users:
                users[word].add(doc.role)
    common = set()
    for word, words in single.items():
        owners = set(claims.by_name[words])
        if len(users[word] - owners) > COMMON_SHARE * (len(roles) - len(owners)):
            common.add(words)
    return frozenset(common)


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


def allowed_typos(word: str) -> int:
    """How many typos a word of this length may have and still match (none under 5 letters)."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2
