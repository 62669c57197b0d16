"""No visitor can stall a replica: reading a question costs time linear in its length, earlier
turns are cut like the question, and a long conversation answers as fast as a new one.

Each timing test measures the same work at a size and at four times that size in one run and
asserts the ratio (linear: about 4; quadratic: about 16), not an absolute time.
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from guide.ask.interpret import clean_question, interpret_turn, question_kind
from guide.ask.subjects import asked_subject
from guide.cli import main
from guide.engine import Engine
from guide.index import load_index
from guide.index.embedding import FakeEmbedder
from guide.language import english
from guide.language.patterns import AnyOf, FollowedBy

# Repeats that made a pattern or a reading step quadratic, and a few that could.
ADVERSARIAL = [". i", "i have ", "which ", "a ", "what does a ", "where can ", "where does ", "i work as a nurse and "]
ROLE_REPEATS = ["lecturer ", "prof ", "assistant professor ", "ML lecturer "]
LINEAR = 8  # the most the time may grow when the text grows 4 times


def _seconds(work: Callable[[], object], repeats: int = 2) -> float:
    """The CPU time one call of `work` takes (the best of `repeats`): other processes on the
    machine do not count, as they would in the time on the clock. Each measure runs `work` until
    at least `_LEAST` seconds have passed, so a call shorter than the clock's step is not read
    as nothing or as one step."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        calls, start = 0, time.process_time()
        while True:
            work()
            calls += 1
            spent = time.process_time() - start
            if spent >= _LEAST:
                break
        best = min(best, spent / calls)
    return best


_LEAST = 0.02


def _growth(work: Callable[[str], object], seed: str, chars: int, repeats: int = 2, tries: int = 3) -> float:
    """How many times longer `work` takes on `seed` repeated to 4 × `chars` than to `chars`.

    A measure over `LINEAR` is taken again (up to `tries` times) and the least is returned: a
    busy machine can slow one measure, but a quadratic cost (about 16) shows in every one."""
    short, long = seed * (chars // len(seed)), seed * (4 * chars // len(seed))
    work(short)  # warm caches (stems, compiled patterns) so the first size is not charged for them
    least = float("inf")
    for _ in range(tries):
        least = min(least, _seconds(lambda: work(long), repeats) / max(_seconds(lambda: work(short), repeats), 1e-6))
        if least < LINEAR:
            break
    return least


@pytest.fixture(scope="module")
def fake_engine(fake_shipped_index) -> Engine:
    return Engine(fake_shipped_index, FakeEmbedder(), load_index(fake_shipped_index.index_dir, model="fake"))


# ------------------------------------------------------------------ patterns


@pytest.mark.parametrize("seed", ADVERSARIAL)
def test_question_kinds_are_found_in_linear_time(seed):
    assert _growth(question_kind, seed, 8_000) < LINEAR


@pytest.mark.parametrize("seed", ["i work as a nurse and ", "work as a doctor ", "i am working as a x, "])
def test_the_asked_job_is_found_in_linear_time(seed):
    assert _growth(asked_subject, seed, 8_000) < LINEAR


def test_every_pattern_over_questions_is_linear():
    """Every pattern the package applies to a visitor's text, on every adversarial repeat."""
    patterns = [pattern for _, pattern in english.KIND_PATTERNS]
    patterns += [english.WORD, english.COMPARE, english.ANAPHOR, english.ELLIPTICAL, english.DUMMY_IT]
    patterns += [english.EXISTENTIAL_THERE, english.PRONOUN_FOR_ROLE, english.SUBJECT, english.THING]
    patterns += [english.DANGLING_ARTICLE, english.DANGLING_PREPOSITION]
    slow = []
    for pattern in patterns:
        for seed in [*ADVERSARIAL, "the ", "is it ", "become a ", "get a "]:
            growth = _growth(lambda text, p=pattern: sum(1 for _ in p.finditer(text)) if isinstance(p, re.Pattern)
                             else p.search(text), seed, 8_000, repeats=3)  # fmt: skip
            if growth >= LINEAR:
                slow.append((getattr(pattern, "pattern", pattern), seed, round(growth, 1)))
    assert not slow


def test_followed_by_finds_what_the_regular_expression_finds():
    """`first.*then`, against the expression it stands for, on texts built to tell them apart:
    several lines, `then` running on past a line break, several openings on one line."""
    first, then = re.compile(r"(?:^|[.!?]\s+)(?:i|my)\b", re.I), re.compile(r"\b(?:can|is)\s+(?:i|it)\b", re.I)
    followed = FollowedBy(first, then)
    expression = re.compile(first.pattern + ".*" + then.pattern, re.I)
    words = ["I", "i", "my", "can", "is", "it", ".", "?", " ", "\n", "x", "can\nI", ". i"]
    import random

    chooser = random.Random(21)
    for _ in range(20_000):
        text = " ".join(chooser.choice(words) for _ in range(chooser.randint(0, 10)))
        assert bool(followed.search(text)) == bool(expression.search(text)), text
    assert AnyOf((re.compile("x"), followed)).search("I think it can it") is not None
    assert AnyOf((re.compile("x"), followed)).search("I think\nit can it") is None


def test_the_situation_pattern_keeps_its_meaning():
    assert question_kind("I have a master's and two papers, can I apply?") == "situation"
    assert question_kind("My GPA is 3.1. Is it enough?") == "situation"
    assert question_kind("I have a master's.\nWhat next") != "situation"
    assert question_kind("Where does the word postdoc come from?") == "history"
    assert question_kind("Where can a PhD take me?") == "career"


@pytest.mark.parametrize("seed", [*ADVERSARIAL, *ROLE_REPEATS])
def test_a_question_is_understood_in_linear_time(fake_engine, seed):
    """Roles, topic and kind of a long text (not cut): role names found, overlaps and the words
    they cover settled, the role taken out, in time linear in the text."""
    assert _growth(lambda text: interpret_turn(text, None, fake_engine.lexicon), seed, 8_000, repeats=1) < LINEAR


# ------------------------------------------------------------------ earlier turns


def test_an_earlier_turn_is_cut_like_the_question(fake_engine):
    limit = fake_engine.settings.answer.max_question_chars
    # The role is named past the limit: read in full, the follow-up would take it.
    long = "well " * (limit // 4) + "How do I become a lecturer?"
    cut, _ = clean_question(long, limit)
    assert len(cut) <= limit
    carried = fake_engine.interpret("What about pay?", [long])
    assert carried == fake_engine.interpret("What about pay?", [cut]) and "lecturer" not in carried.roles


def test_a_long_earlier_turn_costs_no_more_than_a_long_question(fake_engine):
    """The issue's repro: `{"question": "What about pay?", "history": [". i" * 8000]}` took ~40 s."""
    growth = _growth(lambda turn: fake_engine.ask("What about pay?", [turn]), ". i", 8_000)
    assert growth < LINEAR
    started = time.perf_counter()
    fake_engine.ask("What about pay?", [". i" * 8_000])
    assert time.perf_counter() - started < 5


def test_ask_batch_with_long_histories_is_linear(fake_shipped_index, tmp_path):
    runner = CliRunner()
    folders = ["--corpus", str(fake_shipped_index.corpus_dir), "--index", str(fake_shipped_index.index_dir)]

    def batch(turn: str) -> None:
        lines = [json.dumps({"question": "What about pay?", "history": [turn, "How do I become a lecturer?", turn]})]
        path = tmp_path / "batch.jsonl"
        path.write_text("\n".join(lines * 3) + "\n")
        result = runner.invoke(main, [*folders, "ask", "--batch", str(path)], env={"GUIDE_MODEL": "fake"})
        assert result.exit_code == 0, result.output
        assert [json.loads(line)["question"] for line in result.output.splitlines()] == ["What about pay?"] * 3

    batch("x")  # loads the fake model and the index once, outside the measured runs
    assert _growth(batch, ". i", 20_000, repeats=1) < LINEAR


# ------------------------------------------------------------------ conversations


def test_a_long_conversation_reads_each_question_after_the_last_interpretation(fake_engine):
    """Carrying the previous turn's interpretation reads a question as re-reading the whole
    conversation does, and costs the same at the 200th turn as at the first."""
    questions = ["How much postdoc experience does an assistant professor need?", "And for a lecturer?",
                 "What about pay?", "How do I become a research scientist?", "How long does it take?"]  # fmt: skip
    conversation = (questions * 40)[:200]
    previous = None
    for number, question in enumerate(conversation):
        carried = fake_engine.interpret(question, previous=previous)
        if number % 40 == 4:
            assert carried == fake_engine.interpret(question, conversation[:number])
        previous = carried
    # A new conversation of one turn, the last one: the same question read after the same turn.
    new = _seconds(lambda: fake_engine.ask("What about pay?", conversation[-1:]), 3)
    long = _seconds(lambda: fake_engine.ask("What about pay?", previous=previous), 3)
    assert long / max(new, 1e-4) < 3
