"""The chat against long input and long conversations, driven through AppTest (model `fake`)."""

from __future__ import annotations

import time

import pytest

from guide.engine import Engine
from guide.index import load_index
from guide.index.embedding import FakeEmbedder
from tests.test_app import _assistant_texts, _start

QUESTIONS = [
    "How much postdoc experience does an assistant professor need?",
    "And for a lecturer?",
    "What about pay?",
    "How do I become a research scientist?",
    "How long does it take?",
]


@pytest.fixture
def fake_app(fake_shipped_index, monkeypatch, tmp_path):
    return _start(monkeypatch, tmp_path, fake_shipped_index)


def _warnings(at) -> list[str]:
    return [warning.value for warning in at.warning]


def test_a_message_over_the_limit_is_refused_with_the_limit_and_not_kept(fake_app, fake_shipped_index):
    limit = fake_shipped_index.answer.max_question_chars
    # A message over the limit is refused unread, saying how long it is and may be (not cut
    # without a word, as the input's own `max_chars` would).
    fake_app.chat_input[0].set_value(". i" * 10_000).run()
    assert not fake_app.exception
    assert any("30,000" in text and f"{limit:,}" in text for text in _warnings(fake_app))
    assert not _assistant_texts(fake_app) and fake_app.session_state["messages"] == []
    # The conversation goes on as if it had not been sent.
    fake_app.chat_input[0].set_value("How do I become a lecturer?").run()
    assert not fake_app.exception and len(_assistant_texts(fake_app)) == 1
    assert [m["content"] for m in fake_app.session_state["messages"] if m["role"] == "user"] == [
        "How do I become a lecturer?"
    ]


def test_a_message_at_the_limit_is_answered(fake_app, fake_shipped_index):
    limit = fake_shipped_index.answer.max_question_chars
    question = ("How do I become a lecturer? " * limit)[: limit - 1] + "?"
    fake_app.chat_input[0].set_value(question).run()
    assert not fake_app.exception and not _warnings(fake_app)
    assert len(_assistant_texts(fake_app)) == 1


def test_a_follow_up_is_read_after_the_last_answer_not_the_whole_conversation(fake_app, monkeypatch):
    asked: list[dict] = []
    original = Engine.stream

    def recording(self, question, *args, **kwargs):
        asked.append({"question": question, **kwargs})
        yield from original(self, question, *args, **kwargs)

    monkeypatch.setattr(Engine, "stream", recording)
    fake_app.chat_input[0].set_value("How much postdoc experience does an assistant professor need?").run()
    fake_app.chat_input[0].set_value("And for a lecturer?").run()
    assert not fake_app.exception
    first_answer = fake_app.session_state["messages"][1]["answer"]
    assert asked[0].get("previous") is None and asked[1]["previous"] == first_answer.interpretation
    assert not asked[1].get("history")
    second = fake_app.session_state["messages"][3]["answer"].interpretation
    assert second.topic_from_history and second.roles == ("lecturer",)


def test_a_200_turn_conversation_answers_as_fast_as_a_new_one(fake_shipped_index, monkeypatch, tmp_path):
    """Issue 21 item 10: the 200th turn took ~30 times as long as the first (the whole
    conversation was read again). Each turn now costs the same: the CPU time the engine spends
    on the next answer, in a 200-turn conversation and in a one-turn one ending the same way."""
    engine = Engine(fake_shipped_index, FakeEmbedder(), load_index(fake_shipped_index.index_dir, model="fake"))
    messages = []
    for question in (QUESTIONS * 40)[:200]:
        answer = engine.ask(question, [m["content"] for m in messages[-2:] if m["role"] == "user"])
        messages += [{"role": "user", "content": question}, {"role": "assistant", "answer": answer}]
    spent: list[float] = []
    original = Engine.stream

    def timed(self, *args, **kwargs):
        start = time.thread_time()
        yield from original(self, *args, **kwargs)
        spent.append(time.thread_time() - start)

    monkeypatch.setattr(Engine, "stream", timed)

    def next_answer(conversation: list[dict]) -> float:
        at = _start(monkeypatch, tmp_path, fake_shipped_index)
        at.session_state["messages"] = list(conversation)
        at.run()
        for _ in range(3):  # the best of three: the first also fills the query cache
            at.chat_input[0].set_value("What about pay?").run()
            assert not at.exception
            at.session_state["messages"] = list(conversation)
        return min(spent[-3:])

    new, long = next_answer(messages[-2:]), next_answer(messages)
    assert long / max(new, 1e-4) < 3
