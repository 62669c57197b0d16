"""Time of the work a hostile input can cause: a long one-line guide, and `guide status` on an index.

`python bench/hostile.py` prints, for one-line guides of 0.5 to 4.9 MB (under the 5 MB limit),
how long a build with the `fake` model takes, and how long `guide status` (which checks every
index file's checksum) takes on the largest of them. Both should grow linearly.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guide.index import build_index  # noqa: E402
from guide.index.embedding import FakeEmbedder  # noqa: E402
from tests.helpers import make_settings  # noqa: E402

SENTENCE = "A lecturer in statistics teaches e.g. regression and supervises Dr. Smith's students. "


def main() -> None:
    for megabytes in (0.5, 1.0, 2.0, 4.9):
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            corpus = base / "corpus"
            corpus.mkdir()
            count = int(megabytes * 1e6 / len(SENTENCE))
            (corpus / "one-line.md").write_text("---\ntitle: One line\nrole: lecturer\n---\n" + SENTENCE * count + "\n")
            settings = make_settings(base, corpus)
            started = time.perf_counter()
            report = build_index(settings, FakeEmbedder())
            built = time.perf_counter() - started
            line = f"{megabytes:>4} MB on one line: {report.spans:>6} sentences, built in {built:5.2f} s"
            if megabytes == 4.9:
                env = {"GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(settings.index_dir), "GUIDE_MODEL": "fake"}
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "guide.cli", "status", "--quiet"], env=env, cwd=ROOT, check=True)
                line += f"; guide status {time.perf_counter() - started:.2f} s"
            print(line, flush=True)


if __name__ == "__main__":
    main()
