"""A question's kind read from its meaning: its closeness to example questions of each kind.

The examples are data: the language's own (`EXAMPLE_QUESTIONS`, a YAML file of several wordings
per kind about careers in general) and the collection's (`examples:` in collection.yaml). A
question is embedded as retrieval embeds it, and each kind scores the mean similarity of its
closest examples; the wording patterns of the language stay as a second opinion for questions
the examples do not settle, so a new wording of a known kind is understood without code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guide.ask import kinds
from guide.language import Language

logger = logging.getLogger(__name__)

EmbedMany = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class KindReading:
    """What the examples say of a question: the closest kind, its score and its lead over the next."""

    kind: str
    score: float
    margin: float


@functools.lru_cache(maxsize=8)
def _language_examples(path: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not path:
        return ()
    import yaml

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return tuple((str(kind), tuple(str(q) for q in questions or ())) for kind, questions in raw.items())


def example_questions(
    language: Language, extra: Iterable[tuple[str, Sequence[str]]] = ()
) -> tuple[tuple[str, str], ...]:
    """(kind, question) pairs: the language's examples, then the collection's; unknown kinds skipped."""
    pairs: list[tuple[str, str]] = []
    path = getattr(language, "EXAMPLE_QUESTIONS", None)
    for kind, questions in (*_language_examples(str(path) if path else None), *extra):
        if kind not in kinds.KINDS or kind == kinds.COMPARE:
            logger.warning("Example questions of the unknown kind %r are not used (kinds: %s)", kind, ", ".join(kinds.KINDS))
            continue
        pairs.extend((kind, question) for question in questions)
    return tuple(pairs)


class KindModel:
    """Reads question kinds from their closeness to labelled example questions.

    Args:
        examples: (kind, question) pairs.
        embed_many: the query embedder (normalised rows).
        neighbours: how many of a kind's closest examples its score averages.
    """

    def __init__(self, examples: Sequence[tuple[str, str]], embed_many: EmbedMany, neighbours: int = 3) -> None:
        self.kinds = tuple(dict.fromkeys(kind for kind, _ in examples))
        self._labels = np.asarray([self.kinds.index(kind) for kind, _ in examples], dtype=np.int64)
        self._vectors = embed_many([question for _, question in examples]) if examples else np.zeros((0, 1))
        self._neighbours = neighbours

    def __bool__(self) -> bool:
        return len(self.kinds) > 1

    def read(self, vectors: np.ndarray) -> KindReading | None:
        """The kind whose examples come closest to an embedded question (None without examples).

        `vectors`: one row, or several readings of the question (as asked, and with a stand-in for
        its roles), whose scores are averaged.
        """
        if not self:
            return None
        similarities = self._vectors @ np.atleast_2d(vectors).T
        scores = []
        for number in range(len(self.kinds)):
            mine = np.sort(similarities[self._labels == number], axis=0)[::-1][: self._neighbours]
            scores.append(float(mine.mean()))
        order = np.argsort(scores)[::-1]
        best, second = scores[order[0]], scores[order[1]]
        return KindReading(self.kinds[order[0]], best, best - second)
