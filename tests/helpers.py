"""What several test modules share: paths, settings for a test folder, and two tiny guides."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from guide.config import Settings, apply_overrides
from guide.index.embedding import FakeEmbedder

__all__ = [
    "free_port",
    "running_app",
    "CHROMIUM",
    "CORPUS",
    "GUIDE_A",
    "GUIDE_B",
    "ROOT",
    "SHIPPED_FACTS",
    "FakeEmbedder",
    "ask_in_page",
    "make_settings",
    "write_small_corpus",
]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM = "/usr/bin/chromium"  # Debian's; `make test` installs it


# Questions the shipped guides answer, each with a fact its answer must hold (the first is the
# one the cluster test changes by publishing an index): for tests and benchmarks that drive the app.
SHIPPED_FACTS = [
    ("How long is the tenure track for an assistant professor?", "5-7 years"),
    ("What GPA do people admitted to ML PhD programs usually have?", "3.5/4.0"),
    ("How many years of postdoc do machine learning lecturer posts prefer?", "1-3 years"),
    ("Which programming skills does a clinical professor in ML need?", "Python"),
    ("How much postdoctoral experience do ML research jobs look for?", "postdoctoral experience"),
]


def make_settings(tmp_path: Path, corpus: Path, model: str = "fake", **overrides: object) -> Settings:
    """Settings with every file under `tmp_path`, the corpus at `corpus`, and the `fake` model by default."""
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


def write_small_corpus(folder: Path) -> Path:
    """A corpus of the two tiny guides in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lecturer.md").write_text(GUIDE_A, encoding="utf-8")
    (folder / "phd.md").write_text(GUIDE_B, encoding="utf-8")
    return folder


def ask_in_page(page, question: str, messages_before: int, timeout_ms: int = 90_000) -> None:
    """Type a question in the app and wait until its answer is fully drawn (the feedback buttons come last)."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(messages_before + 1)
    answer.get_by_test_id("stFeedback").wait_for(timeout=timeout_ms)
    page.wait_for_timeout(300)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(cwd: Path, env: dict[str, str], *options: str, timeout: float = 90) -> Iterator[str]:
    """`streamlit run app.py` from `cwd` with `env` on a free loopback port: its address once healthy.

    Fails the test with the app's output when it exits or is not healthy within `timeout` seconds;
    stops it afterwards.
    """
    import subprocess
    import sys
    import time
    import urllib.request

    import pytest

    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               *options]  # fmt: skip
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("streamlit exited: " + process.stdout.read().decode(errors="replace"))
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start within {timeout:.0f} s")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
