"""Builds an index with the fake embedder in a subprocess, so tests can kill it mid-build.

Usage: python -m tests.build_worker CORPUS INDEX
"""

from __future__ import annotations

import sys
from pathlib import Path

from guide.index import build_index
from tests.helpers import FakeEmbedder, make_settings


def main() -> None:
    corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
    settings = make_settings(index.parent, corpus, **{"index_dir": index})
    build_index(settings, FakeEmbedder(), force=True, progress=lambda phase, _: print(phase, flush=True))


if __name__ == "__main__":
    main()
