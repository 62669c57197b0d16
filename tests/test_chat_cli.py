"""`echo "question" | guide ask` and `guide chat --terminal`, run as a user runs them (model `fake`)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def _guide(settings, *args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GUIDE_MODEL": "fake", "PYTHONPATH": str(ROOT)}
    folders = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    command = [sys.executable, "-m", "guide.cli", *folders, *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_ask_reads_a_plain_question_from_standard_input(fake_shipped_index):
    result = _guide(fake_shipped_index, "ask", stdin="What GPA do PhD admits\nusually have?\n")
    assert result.returncode == 0, result.stderr
    assert "3.5/4.0" in result.stdout and "[1]" in result.stdout and "Sources:" in result.stdout
    as_json = _guide(fake_shipped_index, "ask", "--json", stdin="What GPA do PhD admits usually have?")
    assert '"question": "What GPA do PhD admits usually have?"' in as_json.stdout


def test_ask_with_nothing_on_standard_input_says_what_to_give(fake_shipped_index):
    result = _guide(fake_shipped_index, "ask", stdin="  \n")
    assert result.returncode == 2 and "held no question" in result.stderr and "Traceback" not in result.stderr


def test_terminal_chat_answers_follow_ups_in_one_process_until_quit(fake_shipped_index):
    lines = "What GPA do PhD admits usually have?\n\nHow much postdoc experience does an assistant professor need?\n"
    lines += "What about lecturers?\n/new\nWhat about lecturers?\n/quit\nnever asked\n"
    result = _guide(fake_shipped_index, "chat", "--terminal", stdin=lines)
    assert result.returncode == 0, result.stderr
    assert "3.5/4.0" in result.stdout and "never asked" not in result.stdout
    # The follow-up is read in the conversation; after /new the same words stand alone.
    assert result.stdout.count("Interpreted as:") == 1 and "(a new conversation)" in result.stderr
    assert result.stdout.count("Sources:") >= 3
