"""How one corpus names its roles and field, and the words of a language as the rest of the package reads them.

Nothing here knows one corpus: role names come from the guides' front matter (`label`,
`aliases`, `hints`, `prerequisite`), the field's names and query expansions from the
collection file, and what words are, which carry no topic and how they are stemmed from the
corpus's language (`guide.language`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from guide.ingest.collection import Collection, Facet
from guide.ingest.corpus import Document, without_reference_marks
from guide.ingest.names import (
    FIELD,
    NameWarning,
    RoleName,
    allowed_typos,
    collapse,
    edit_distance,
    field_phrases,
    field_roles,
    role_names,
    tokens_of,
)
from guide.language import DEFAULT, Language

__all__ = ["FIELD", "Lexicon", "content_words", "stem", "stems", "strip_spans", "tokens_of"]



@dataclass(frozen=True)
class _Match:
    role: str
    priority: int
    start: int
    end: int
    with_field: bool = False


class Lexicon:
    """How one corpus names its roles and field, built from its guides and collection file."""

    def __init__(
        self,
        documents: Iterable[Document],
        collection: Collection | None = None,
        typo_tolerance: bool = True,
        english: Iterable[str] = (),
        language: Language | None = None,
    ) -> None:
        """
        Args:
            documents: the guides, with their role names.
            collection: the collection file's contents (defaults when None).
            typo_tolerance: correct misspelt words and accept typos in role names.
            english: known words (such as the embedding model's whole-word tokens), which are
                never taken for typos of the guides' words.
            language: the corpus's language (by default the one its collection file names).
        """
        self.collection = collection or Collection()
        self.language = language or load_collection_language(self.collection)
        self.typo_tolerance = typo_tolerance
        self._english = frozenset(english)
        self._documents = list(documents)
        self.labels: dict[str, str] = {}
        self.prerequisites: set[str] = set()
        self._field = field_phrases(self.collection.field, self.language)
        for doc in self._documents:
            # Labels go into answers, where a "[2]" would pass for a citation.
            self.labels.setdefault(doc.role, without_reference_marks(doc.label) or doc.role.replace("-", " "))
            if doc.prerequisite:
                self.prerequisites.add(doc.role)
        self.field_roles = field_roles(self._documents, self._field, self.language)
        names, warnings = role_names(self._documents, self.collection.field, self.language)
        self._names: list[RoleName] = names
        # Names that collide across the corpus, and what the rules made of them.
        self.warnings: list[NameWarning] = warnings
        self._expansions = [
            ([tuple(w for w, _, _ in self.tokens(word)) for word in expansion.words], expansion.add)
            for expansion in self.collection.expansions
        ]

    def tokens(self, text: str) -> list[tuple[str, int, int]]:
        return tokens_of(text, self.language)

    @property
    def roles(self) -> list[str]:
        return sorted(self.labels)

    def label(self, role: str) -> str:
        return self.labels.get(role, role.replace("-", " "))

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the guides and of the role names: what is not a typo."""
        words = {w for doc in self._documents for w, _, _ in self.tokens(doc.text)}
        words.update(w for doc in self._documents for w, _, _ in self.tokens(doc.title))
        words.update(t for name in self._names for t in name.tokens)
        words.update(t for f in self._field for t in f)
        return frozenset(words)

    @cached_property
    def _guide_stems(self) -> frozenset[str]:
        return frozenset(self._stem(word) for word in self.vocabulary)

    @cached_property
    def _english_stems(self) -> frozenset[str]:
        return frozenset(self._stem(word) for word in self._english)

    @cached_property
    def _by_first_letter(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for word in self.vocabulary:
            if word.isalpha() and len(word) >= 4:
                groups.setdefault(word[0], []).append(word)
        return groups

    def _stem(self, word: str) -> str:
        return stem(word, self.language)

    def _same_or_plural(self, word: str, base: str) -> bool:
        plural_of = self.language.plural_of
        return word == base or plural_of(word, base) or plural_of(base, word)

    def content_words(self, text: str) -> list[str]:
        return content_words(text, self.language)

    def stems(self, text: str) -> frozenset[str]:
        return stems(text, self.language)

    def in_guides(self, word: str) -> bool:
        """Whether the guides use a word, in this or another form ("funds" for "funding")."""
        return word in self.vocabulary or not word.isalpha() or self._stem(word) in self._guide_stems

    def known(self, word: str) -> bool:
        """Whether a word is the guides' own or common English: never "corrected"."""
        return (
            self.in_guides(word)
            or word in self.language.FILLER
            or word in self.language.COMMON
            or word in self._english
            or self._stem(word) in self._english_stems
        )

    def correct(self, text: str) -> str:
        """`text` with misspelt words replaced by the closest word the guides use ("requirments")."""
        pieces, cursor = [], 0
        for word, start, end in self.tokens(text):
            allowed = allowed_typos(word)
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
        return self._collapse_tokens(self.tokens(text))

    def _collapse_tokens(self, tokens: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """Tokens with each name of the field ("machine learning") made one FIELD token."""
        return collapse(tokens, self._field)

    def _word_matches(self, wanted: str, word: str) -> bool:
        if word == wanted or self.language.plural_of(word, wanted):
            return True
        allowed = allowed_typos(word) if self.typo_tolerance else 0
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
                    found.append(_Match(name.role, name.priority, tokens[first][1], matched_end, name.with_field))
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
        found = self._in_field(self._matches(tokens), tokens)
        roles, spans = self._choose_roles(found)
        # Beside a role's own name or alias, a hint is a topic ("phd stipend" asks about stipends);
        # alone, it names the role ("prof").
        names = [m for m in found if m.priority > 1] or found
        rest = [word for (word, _, _), covered in zip(tokens, _covered(tokens, names), strict=True) if word != FIELD and not covered]
        return roles, spans, bool(roles) and not self.content_words(" ".join(rest))

    def field_preference(self, text: str) -> tuple[str, ...]:
        """The roles of the field, when `text` names the field and the corpus has roles outside
        it: "the career ladder in ML research" is read in the field's guides first."""
        if self.field_roles and len(self.field_roles) < len(self.roles) and _names_field(self._collapsed_tokens(text)):
            return tuple(sorted(self.field_roles))
        return ()

    def _in_field(self, found: list[_Match], tokens: list[tuple[str, int, int]]) -> list[_Match]:
        """`found` as the field decides (guide.ingest.names): naming the field, a text gives the
        field's role the words it shares with another ("ML postdoc"), unless the other's name is
        longer ("ML adjunct professor"); not naming it, it gives them to the other."""
        if not _names_field(tokens):
            return [m for m in found if not m.with_field]
        # A match is covered when the furthest end of ours starting no later than it reaches its end.
        ours = sorted((m.start, m.end) for m in found if m.role in self.field_roles)
        starts = [start for start, _ in ours]
        reach = list(itertools.accumulate((end for _, end in ours), max))

        def covered(m: _Match) -> bool:
            place = bisect.bisect_right(starts, m.start)
            return bool(place) and reach[place - 1] >= m.end
        return [m for m in found if m.role in self.field_roles or not covered(m)]

    def _choose_roles(self, found: list[_Match]) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
        matches = sorted(found, key=lambda m: (-m.priority, m.start - m.end))
        kept: list[_Match] = []
        # The kept spans never overlap, so sorted by start they are sorted by end too: a new
        # match overlaps one of them only if it overlaps the last one starting before its end.
        starts: list[int] = []
        ends: list[int] = []
        for match in matches:
            place = bisect.bisect_left(starts, match.end)
            if place and ends[place - 1] > match.start:
                continue
            kept.append(match)
            starts.insert(place, match.start)
            ends.insert(place, match.end)
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
        field_at = {e: s for w, s, e in self._collapsed_tokens(text) if w == FIELD}  # by where each ends
        widened = []
        for start, end in spans:
            before = start  # back over the spaces before the span, to where a field's name would end
            while before and text[before - 1].isspace():
                before -= 1
            widened.append((field_at.get(before, start), end))
        return widened

    def without_field(self, text: str) -> str:
        """`text` without the field's own name, which every guide repeats, when other words remain."""
        spans = [(s, e) for w, s, e in self._collapsed_tokens(text) if w == FIELD]
        stripped = re.sub(r"\s{2,}", " ", strip_spans(text, spans)).strip()
        return stripped if self.content_words(stripped) else text

    def expand(self, text: str) -> str:
        """`text` with the guides' wording added for abbreviations and everyday words it uses."""
        words = [w for w, _, _ in self.tokens(text)]
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
        words = [w for w, _, _ in self.tokens(text)]
        named = []
        # Every facet of the kind, a group of careers' own too ("pharmacist licensure").
        for facet in (f for f in self.collection.facets if kind in f.kinds):
            phrases = [tuple(w for w, _, _ in self.tokens(word)) for word in facet.words]
            if any(
                all(self._same_or_plural(words[i + k], p[k]) for k in range(len(p)))
                for p in phrases
                for i in range(len(words) - len(p) + 1)
            ):
                named.append(facet)
        return named


def _names_field(tokens: Sequence[tuple[str, int, int]]) -> bool:
    return any(word == FIELD for word, _, _ in tokens)


def load_collection_language(collection: Collection) -> Language:
    from guide.language import load_language

    return load_language(collection.language)


def stems(text: str, language: Language = DEFAULT) -> frozenset[str]:
    """The stems of the content words of `text` ("averages" and "average" meet)."""
    return frozenset(stem(word, language) for word in content_words(text, language))


def stem(word: str, language: Language = DEFAULT) -> str:
    return _stemmer(language.STEMMER).stemWord(word)


@lru_cache(maxsize=8)
def _stemmer(algorithm: str):
    import Stemmer

    return _Cached(Stemmer.Stemmer(algorithm))


class _Cached:
    """A stemmer that remembers the stems it made (questions repeat the guides' words)."""

    def __init__(self, stemmer) -> None:
        self.stemWord = lru_cache(maxsize=65536)(stemmer.stemWord)


def content_words(text: str, language: Language = DEFAULT) -> list[str]:
    """Words of `text` that say what it is about (no fillers, no stop words)."""
    return [word for word in (w.lower() for w in language.WORD.findall(text)) if word not in language.FILLER]


def strip_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with each of `spans` replaced by a space."""
    # Cut from the last span back, in one join: one slice of the text per span, not a copy.
    pieces, cursor = [], len(text)
    for start, end in sorted(spans, reverse=True):
        pieces += [text[min(end, cursor) : cursor], " "]
        cursor = min(cursor, start)
    pieces.append(text[:cursor])
    return "".join(reversed(pieces))


def _covered(tokens: Sequence[tuple[str, int, int]], found: Iterable[_Match]) -> list[bool]:
    """For each token, whether one of the matches `found` holds it whole, in one sweep."""
    ordered = sorted(found, key=lambda match: match.start)
    covered, reach, i = [], -1, 0
    for _, start, end in tokens:
        # The match reaching furthest among those starting at or before the token holds it if any does.
        while i < len(ordered) and ordered[i].start <= start:
            reach = max(reach, ordered[i].end)
            i += 1
        covered.append(end <= reach)
    return covered
