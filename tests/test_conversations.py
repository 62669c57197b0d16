"""Conversations kept in SQLite: turns whole, per browser, shared read-only, deleted and pruned."""

from __future__ import annotations

import time

import pytest

from guide.serve.conversations import ConversationStore, answer_from_json, answer_json, new_id, valid_id


@pytest.fixture(scope="module")
def fake_engine(fake_shipped_index):
    from guide.engine import Engine
    from tests.helpers import FakeEmbedder

    return Engine.load(fake_shipped_index, FakeEmbedder())


@pytest.fixture(scope="module")
def postgres():
    from guide.serve.cluster import PostgresServer

    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conversations.db'}"
    else:
        url = request.getfixturevalue("postgres").url
        fresh = ConversationStore(url)
        with fresh._connection() as connection:  # a fresh schema per test
            fresh._metadata.drop_all(connection)
        fresh.close()
    store = ConversationStore(url, retention_days=30)
    yield store
    store.close()


def test_an_answer_comes_back_whole_from_its_json(fake_engine):
    for question in ("How do I become a lecturer?", "Compare a lecturer and an assistant professor", "pilot?"):
        answer = fake_engine.ask(question)
        assert answer_from_json(answer_json(answer)) == answer


def test_turns_come_back_in_order_and_only_to_their_browser_list(store, fake_engine):
    conversation, browser, other = new_id(), new_id(), new_id()
    first, second = fake_engine.ask("What GPA do PhD admits have?"), fake_engine.ask("How do I become a lecturer?")
    store.add_turn(conversation, browser, "What GPA do PhD admits have?", first)
    store.add_turn(conversation, browser, "How do I become a lecturer?", second)
    store.add_turn(new_id(), other, "Someone else's question", first)
    assert store.turns(conversation) == [("What GPA do PhD admits have?", first), ("How do I become a lecturer?", second)]
    assert [summary.title for summary in store.list(browser)] == ["What GPA do PhD admits have?"]
    assert [summary.title for summary in store.list(other)] == ["Someone else's question"]
    share = store.share_token(conversation)
    assert valid_id(share) and share != conversation and store.by_share(share) == conversation
    assert store.turns(new_id()) == [] and store.by_share(new_id()) is None


def test_delete_and_delete_all_remove_the_rows(store, fake_engine):
    browser, answer = new_id(), fake_engine.ask("What GPA do PhD admits have?")
    ids = [new_id() for _ in range(3)]
    for conversation in ids:
        store.add_turn(conversation, browser, "Q", answer)
        store.add_turn(conversation, browser, "Q again", answer)
    assert store.count() == (3, 6)
    assert not store.delete(ids[0], new_id())  # another browser cannot delete it
    assert store.delete(ids[0], browser) and store.count() == (2, 4) and store.turns(ids[0]) == []
    assert store.delete_all(browser) == 2 and store.count() == (0, 0)


def test_conversations_past_the_retention_are_pruned(store, fake_engine):
    answer = fake_engine.ask("What GPA do PhD admits have?")
    old, recent = new_id(), new_id()
    store.add_turn(old, new_id(), "old", answer)
    store.add_turn(recent, new_id(), "recent", answer)
    assert store.prune(now=time.time() + 10 * 86400) == 0
    assert store.prune(now=time.time() + 31 * 86400) == 2 and store.count() == (0, 0)


def test_pruning_runs_by_itself_when_turns_are_added(tmp_path, fake_engine):
    from sqlalchemy import text

    store = ConversationStore(f"sqlite:///{tmp_path / 'c.db'}", retention_days=1)
    answer = fake_engine.ask("What GPA do PhD admits have?")
    old, new = new_id(), new_id()
    store.add_turn(old, new_id(), "two days old", answer)
    with store._engine.begin() as connection:
        connection.execute(text("UPDATE conversations SET updated = updated - 2 * 86400"))
    store.add_turn(new, new_id(), "within the hour: no pruning yet", answer)
    assert store.count() == (2, 2)
    store._pruned_at -= 3600  # an hour later
    store.add_turn(new, new_id(), "next", answer)
    assert store.count() == (1, 2) and store.turns(old) == []


def test_only_ids_this_module_makes_are_ids():
    assert valid_id(new_id()) and not valid_id("../etc") and not valid_id(None) and not valid_id("A" * 32)


def test_a_bad_url_is_a_clear_error():
    from guide.serve.conversations import ConversationsUnavailable

    with pytest.raises(ConversationsUnavailable, match="not a database URL"):
        ConversationStore("nonsense://x")


def test_the_retention_and_url_are_settings_of_the_environment(monkeypatch):
    from guide.config import load_settings
    from guide.errors import ConfigError

    settings = load_settings(environ={"GUIDE_CONVERSATION_DAYS": "7", "GUIDE_CONVERSATIONS_URL": "sqlite:///c.db"})
    assert settings.conversations.retention_days == 7 and settings.conversations.url == "sqlite:///c.db"
    with pytest.raises(ConfigError, match="at least 0"):
        load_settings(environ={"GUIDE_CONVERSATION_DAYS": "-1"})
