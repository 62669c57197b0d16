"""Checking a written sentence against the passages it may come from, before anyone sees it.

A sentence is supported by a passage when all of these hold:
- its embedding comes within `writer.min_similarity` (cosine) of one of the passage's sentences
  that may be quoted (not navigation or calls to action the build marked);
- `writer.min_overlap` of its content words (as Snowball stems) are the passage's;
- every number, name and degree in it is in the passage ("5-7 years", "NIH", "MD");
- it says no more than the passage: "essential" or "must" needs such a word in the passage's
  closest sentence ("preferred" is not "essential"), and it does not add or drop a "not".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from guide.ask.lexicon import stems, tokens_of
from guide.ask.retrieval import Hit
from guide.config import WriterSettings
from guide.index import LoadedIndex

# A citation as models write it: "[2]", "[2, 3]", "[2][3]", "[Passage 2]".
CITATION = re.compile(r"\s*\[(?:passages?\s*)?(\d+(?:\s*(?:,|and)\s*\d+)*)\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Words that make a claim a requirement; a sentence with one needs one in its source.
STRONG = frozenset(
    "must essential essentially required require requires requirement mandatory necessary necessarily need needs "
    "always only all never critical vital compulsory obligatory indispensable".split()
)
_NEGATION = frozenset("not no never cannot none nor".split())
# Degrees and titles that count as names wherever they stand in a sentence.
_DEGREES = frozenset("phd md msc bsc ba ma mba mphil dphil postdoc doctorate master bachelor".split())


@dataclass(frozen=True)
class Support:
    """How one passage (by its place in the prompt, from 0) supports a sentence."""

    passage: int
    span_row: int  # the passage's closest sentence
    similarity: float
    overlap: float
    missing: tuple[str, ...]  # numbers, names or degrees of the sentence the passage lacks
    strengthened: bool

    def holds(self, settings: WriterSettings) -> bool:
        return (
            self.similarity >= settings.min_similarity
            and self.overlap >= settings.min_overlap
            and not self.missing
            and not self.strengthened
        )


@dataclass(frozen=True)
class Verdict:
    """What becomes of a written sentence: kept on the passage it cites, moved to another, or dropped."""

    claim: str
    cited: tuple[int, ...]  # passages the sentence cited (from 0), in range
    support: Support | None  # the passage that supports it, or None: dropped
    reason: str = ""  # why it was dropped

    @property
    def outcome(self) -> str:
        if self.support is None:
            return "dropped"
        return "kept" if self.support.passage in self.cited else "reassigned"


def split_citations(sentence: str) -> tuple[str, tuple[int, ...]]:
    """The sentence without its citation marks, and the numbers it cited (as written, from 1)."""
    numbers = [int(n) for match in CITATION.finditer(sentence) for n in re.findall(r"\d+", match.group(1))]
    claim = CITATION.sub("", sentence).strip()
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
    return claim, tuple(dict.fromkeys(numbers))


def numbers_in(text: str) -> set[str]:
    """The numbers of `text` ("5-7 years" has 5 and 7; "3.5/4.0" has 3.5 and 4.0), thousands unmarked."""
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def names_in(text: str) -> set[str]:
    """The names and degrees of `text`, lower-cased: capitalised words past the first, acronyms, degrees."""
    found = set()
    words = re.findall(r"[A-Za-z][A-Za-z'’.]*[A-Za-z]|[A-Z]", text)
    for place, word in enumerate(words):
        bare = word.replace("’", "'").removesuffix("'s").replace(".", "")
        lower = bare.lower()
        acronym = sum(ch.isupper() for ch in bare) >= 2
        if lower in _DEGREES or acronym or (place > 0 and bare[:1].isupper() and bare.lower() != "i"):
            found.add(lower)
    return found


def degrees_in(text: str) -> set[str]:
    """The degrees `text` names ("PhD", "MD", "master's"), lower-cased."""
    return names_in(text) & _DEGREES


def _words(text: str) -> set[str]:
    return {word.replace(".", "") for word, _, _ in tokens_of(text)}


def _strong(text: str) -> bool:
    return bool(_words(text) & STRONG)


def _negated(text: str) -> bool:
    return bool(_words(text) & _NEGATION) or "n't" in text.lower()


class Verifier:
    """Checks sentences against the passages of one prompt (numbered from 1 in the prompt).

    Args:
        index: the loaded index the passages come from (its sentence embeddings are used).
        hits: the passages, in the order the prompt numbers them.
        embed_many: the query embedder (the model the index was built with).
        settings: the thresholds.
    """

    def __init__(
        self,
        index: LoadedIndex,
        hits: Sequence[Hit],
        embed_many: Callable[[Sequence[str]], np.ndarray],
        settings: WriterSettings,
    ) -> None:
        self.index = index
        self.hits = list(hits)
        self.settings = settings
        self._embed_many = embed_many
        # Only sentences that may be quoted support a claim (not navigation or calls to action).
        self._rows = [[row for row in range(*index.chunk_spans[hit.row]) if index.spans[row].material] for hit in self.hits]
        # The sentences are embedded as written (the index holds them with their headings, which
        # a written sentence lacks), in one batch for the whole prompt.
        texts = [index.spans[row].text for rows in self._rows for row in rows]
        vectors = embed_many(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        bounds = np.cumsum([0, *(len(rows) for rows in self._rows)])
        self._vectors = [vectors[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
        contexts = [hit.chunk.context_text() for hit in self.hits]
        self._stems = [stems(text) for text in contexts]
        self._numbers = [numbers_in(text) for text in contexts]
        self._names = [_words(text) | names_in(text) for text in contexts]

    def embed(self, text: str) -> np.ndarray:
        return self._embed_many([text])[0]

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed_many(list(texts))

    def support(self, claim: str, vector: np.ndarray, passage: int) -> Support:
        """How passage `passage` (from 0) supports `claim` (embedded as `vector`)."""
        rows = self._rows[passage]
        if not rows:
            return Support(passage, -1, 0.0, 0.0, (), False)
        similarities = self._vectors[passage] @ vector
        best = int(np.argmax(similarities))
        span_row = rows[best]
        claim_stems = stems(claim)
        overlap = len(claim_stems & self._stems[passage]) / len(claim_stems) if claim_stems else 0.0
        missing = sorted(numbers_in(claim) - self._numbers[passage]) + sorted(
            name for name in names_in(claim) if name not in self._names[passage]
        )
        source = self.index.spans[span_row].text
        strengthened = (_strong(claim) and not _strong(source)) or _negated(claim) != _negated(source)
        return Support(passage, span_row, float(similarities[best]), overlap, tuple(missing), strengthened)

    def check(self, sentence: str) -> Verdict:
        """The verdict on one written sentence, citation marks included."""
        claim, numbers = split_citations(sentence)
        cited = tuple(n - 1 for n in numbers if 1 <= n <= len(self.hits))
        if len(re.findall(r"\w+", claim)) < 3:
            return Verdict(claim, cited, None, "too short to be a sentence")
        if " > " in claim:
            # The prompt names each passage "Title > Section": a model that repeats it states nothing.
            return Verdict(claim, cited, None, "repeats a passage's heading")
        vector = self.embed(claim)
        supports = [self.support(claim, vector, passage) for passage in range(len(self.hits))]
        holding = [s for s in supports if s.holds(self.settings)]
        # The passage it cites, when that one supports it; else the best that does.
        chosen = [s for s in holding if s.passage in cited] or holding
        if chosen:
            return Verdict(claim, cited, max(chosen, key=lambda s: s.similarity))
        return Verdict(claim, cited, None, _why(supports, cited, self.settings))

    def supported_by(self, claim: str, passage_texts: Sequence[str]) -> bool:
        """Whether any of `passage_texts` (cited snippets) supports `claim`: for measuring answers."""
        vector = self.embed(claim)
        for passage, hit in enumerate(self.hits):
            if hit.chunk.text in passage_texts and self.support(claim, vector, passage).holds(self.settings):
                return True
        return False


def _why(supports: Sequence[Support], cited: tuple[int, ...], settings: WriterSettings) -> str:
    """Why no passage supports a sentence, from the closest one (the cited one first)."""
    if not supports:
        return "no passages"
    pool = [s for s in supports if s.passage in cited] or list(supports)
    best = max(pool, key=lambda s: s.similarity)
    if best.missing:
        return f"not in the passage: {', '.join(best.missing)}"
    if best.strengthened:
        return "says more than the passage (its wording is stronger or its negation differs)"
    if best.similarity < settings.min_similarity:
        return f"no passage says it (closest {best.similarity:.2f})"
    return f"too few of its words are the passage's ({best.overlap:.2f})"
