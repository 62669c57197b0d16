"""One generation of the index with everything computed from it, built once and read by a whole question."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from guide.ask.lexicon import Lexicon
from guide.ask.meaning import KindModel, example_questions
from guide.ask.retrieval import Retriever
from guide.config import Settings
from guide.index import LoadedIndex
from guide.language import Language

EmbedMany = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Library:
    """One loaded index with what reads it: the retriever over it, the lexicon of its roles and
    the embeddings of its roles' names.

    It never changes; the engine swaps in a new one when the index is rebuilt, and a question
    takes the library once and hands it down, so it is understood, refused or answered from one
    generation from start to end.
    """

    index: LoadedIndex
    retriever: Retriever
    lexicon: Lexicon
    # The roles' labels and aliases, and their embeddings (one row each), for the subject check.
    role_names: tuple[str, ...] = ()
    role_name_vectors: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    # The example questions of each kind, embedded (the language's and the collection's).
    kinds: KindModel | None = None
    # What the guides name as topics of their own (see `defined_terms`), as sets of stems.
    terms: frozenset[frozenset[str]] = frozenset()
    # Whether the embedder's closeness follows meaning (the `fake` test model's does not).
    semantic: bool = True

    @property
    def language(self) -> Language:
        return self.lexicon.language

    def closeness_to_roles(self, vector: np.ndarray) -> float:
        """The cosine of an embedded phrase to the closest name or alias of a role."""
        return float(np.max(self.role_name_vectors @ vector)) if len(self.role_names) else 0.0

    def defines(self, phrase: str) -> bool:
        """Whether the guides name `phrase` as a topic of their own ("the tenure track"): it is
        then something they cover, not a job they lack."""
        words = self.lexicon.stems(phrase)
        return bool(words) and words in self.terms

    def topic_stems(self, text: str, expanded: bool = False) -> frozenset[str]:
        """The stems of what `text` asks about: not the field's name nor the words of asking;
        with the guides' wording for its everyday words added when `expanded`."""
        lexicon = self.lexicon
        asking = lexicon.stems(" ".join(self.language.ASKING))
        return lexicon.stems(lexicon.without_field(lexicon.expand(text) if expanded else text)) - asking

    def speaks_as_fully(self, own: Iterable[str], others: Iterable[str], words: frozenset[str]) -> bool:
        """Whether the best of the texts `own` shares some of `words`, and as many as the best of `others`."""
        best = max((len(self.lexicon.stems(text) & words) for text in own), default=0)
        return best > 0 and best >= max((len(self.lexicon.stems(text) & words) for text in others), default=0)

    def closest_role(self, vector: np.ndarray) -> str | None:
        """The role whose name or alias comes closest to an embedded phrase."""
        if not len(self.role_names):
            return None
        roles = self.lexicon.detect_roles(self.role_names[int(np.argmax(self.role_name_vectors @ vector))])[0]
        return roles[0] if roles else None


def open_library(
    index: LoadedIndex,
    settings: Settings,
    embed_many: EmbedMany,
    known_words: Iterable[str] = (),
    semantic: bool = True,
) -> Library:
    """The library of a loaded index: everything its questions need that depends on the generation.

    `semantic`: whether the embedder's closeness follows meaning (question kinds are read from
    example questions only then)."""
    retrieval = settings.retrieval
    if not retrieval.answer_material_only:
        index = dataclasses.replace(index, spans=[dataclasses.replace(span, material=True) for span in index.spans])
    lexicon = Lexicon(
        index.documents.values(), index.collection, typo_tolerance=retrieval.typo_tolerance, english=known_words
    )
    names = tuple(sorted({name for doc in index.documents.values() for name in (doc.label, *doc.aliases)}))
    vectors = embed_many(list(names)) if names else np.zeros((0, 1), dtype=np.float32)
    kind_model = None
    if settings.answer.kind_by_meaning and semantic:
        kind_model = KindModel(example_questions(lexicon.language, index.collection.examples), embed_many)
    retriever = Retriever(index, retrieval, lexicon.language)
    return Library(index, retriever, lexicon, names, vectors, kind_model, defined_terms(index, lexicon), semantic)


def defined_terms(index: LoadedIndex, lexicon: Lexicon, most_words: int = 4) -> frozenset[frozenset[str]]:
    """The topics the guides name themselves, as sets of stems: the headings of their sections,
    and the terms they define at the start of a sentence ("Tenure-track: A probationary period
    …"), of at most `most_words` words."""
    names = {heading for span in index.spans for heading in span.section.split(" > ")}
    names.update(span.text.split(":", 1)[0] for span in index.spans if ":" in span.text[:60])
    stemmed = (lexicon.stems(name) for name in names if len(lexicon.tokens(name)) <= most_words)
    return frozenset(stems for stems in stemmed if stems)
