"""Near-duplicate guides: the same text under several names (country copies of a page, `x (1).md`).

Each guide's text is cut into overlapping runs of words (shingles). Two guides are copies when
their sets of shingles overlap by at least `ingest.duplicate_similarity` (Jaccard). Comparing
every pair would cost time quadratic in the guides; instead each guide gets a MinHash signature,
cut into bands, and only guides that share a band are compared, each with the first guide of
that band (so a hundred copies of one page cost a hundred comparisons, not ten thousand).

Of each group one guide is kept, the canonical one: a name without a copy marker ("(1)",
"- Copy") first, then the shortest file name, then the first in alphabetical order. It alone
is indexed, and it lists where else its text appears (`Document.also_at`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from guide.config import IngestSettings
from guide.ingest.corpus import Document
from guide.language import DEFAULT, Language

# Shingle hashes are combined and permuted in 64-bit arithmetic that wraps around.
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BLOCK = 1 << 15  # shingles hashed at once (bounds memory on a long guide)


@dataclass(frozen=True)
class DuplicateGroup:
    """Guides with (nearly) the same text: the one kept, the others, and the lowest similarity of a copy."""

    canonical: str
    copies: tuple[str, ...]
    similarity: float

    def to_json(self) -> dict[str, object]:
        return {"canonical": self.canonical, "copies": list(self.copies), "similarity": round(self.similarity, 3)}


def shingles(text: str, size: int, language: Language = DEFAULT) -> np.ndarray:
    """The distinct hashes of every run of `size` words of `text` (lower-cased); one run for a shorter text."""
    words = language.WORD.findall(text.lower())
    if not words:
        return np.zeros(0, dtype=np.uint64)
    tokens = np.array(
        [int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little") for word in words],
        dtype=np.uint64,
    )
    size = min(size, len(tokens))
    runs = np.zeros(len(tokens) - size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(size):
            runs = runs * _MIX + tokens[offset : offset + len(runs)]
    return np.unique(runs)


def signature(hashes: np.ndarray, permutations: int, seed: int = 19) -> np.ndarray:
    """The MinHash signature of a set of shingle hashes: per permutation, the smallest permuted hash."""
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 2**63, size=permutations, dtype=np.uint64) | np.uint64(1)
    offsets = rng.integers(0, 2**63, size=permutations, dtype=np.uint64)
    smallest = np.full(permutations, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for first in range(0, len(hashes), _BLOCK):
            block = hashes[first : first + _BLOCK, None] * multipliers + offsets
            smallest = np.minimum(smallest, block.min(axis=0))
    return smallest


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Shared shingles over all shingles of two sorted sets of hashes."""
    if not len(first) and not len(second):
        return 1.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)


def canonical_order(path: str, language: Language = DEFAULT) -> tuple[bool, int, str]:
    """Sort key of the guide to keep: no copy marker in the name, then the shortest name, then by name."""
    stem = Path(path).stem
    return (bool(language.COPY_MARKER.search(stem)), len(path), path)


def find_duplicates(
    documents: list[Document], settings: IngestSettings | None = None, language: Language = DEFAULT
) -> list[DuplicateGroup]:
    """Groups of guides whose texts are near-duplicates, each with its canonical guide; in time linear in the guides."""
    settings = settings or IngestSettings()
    if not settings.duplicates or len(documents) < 2:
        return []
    sets = [shingles(doc.text, settings.shingle_words, language) for doc in documents]
    rows = settings.lsh_rows
    parent = list(range(len(documents)))

    def root(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    first_in_band: dict[tuple[int, bytes], int] = {}
    for number, hashes in enumerate(sets):
        if not len(hashes):
            continue
        values = signature(hashes, settings.lsh_bands * rows)
        for band in range(settings.lsh_bands):
            key = (band, values[band * rows : (band + 1) * rows].tobytes())
            other = first_in_band.setdefault(key, number)
            if other != number and root(other) != root(number):
                if jaccard(sets[other], hashes) >= settings.duplicate_similarity:
                    parent[root(number)] = root(other)
    members: dict[int, list[int]] = {}
    for number in range(len(documents)):
        members.setdefault(root(number), []).append(number)
    groups = []
    for group in members.values():
        if len(group) < 2:
            continue
        keep = min(group, key=lambda n: canonical_order(documents[n].path, language))
        copies = sorted((n for n in group if n != keep), key=lambda n: documents[n].path)
        lowest = min(jaccard(sets[keep], sets[n]) for n in copies)
        groups.append(DuplicateGroup(documents[keep].path, tuple(documents[n].path for n in copies), lowest))
    return sorted(groups, key=lambda group: group.canonical)


def keep_canonical(documents: list[Document], groups: list[DuplicateGroup]) -> list[Document]:
    """The guides without the copies, each canonical guide listing where else its text is (`also_at`)."""
    copies = {path for group in groups for path in group.copies}
    also_at = {group.canonical: group.copies for group in groups}
    return [
        replace(doc, also_at=also_at[doc.path]) if doc.path in also_at else doc
        for doc in documents
        if doc.path not in copies
    ]
