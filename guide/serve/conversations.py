"""Where conversations are kept, so a reload, another tab or another replica continues them.

A conversation has a random id (in the page's address, `?c=…`), the browser it belongs to (a
random id in a cookie, for the sidebar's list; no accounts), a separate random share token (a
read-only link, `?share=…`) and its turns: each question with its whole answer (citations,
highlights, table) as JSON. The database is the feedback one unless `conversations.url` names
another: a SQLite file by default, the shared PostgreSQL for replicas, through SQLAlchemy Core.
Conversations untouched for `conversations.retention_days` are deleted automatically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import secrets
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from guide.answer.records import Answer
from guide.errors import GuideError
from guide.serve.feedback_store import driver_url, safe_url

# Ids are 32 hex digits from `secrets`; anything else in an address or a cookie is not an id.
ID = re.compile(r"^[0-9a-f]{32}$")
# Pruning runs at most this often per store (it is one indexed DELETE).
PRUNE_EVERY_SECONDS = 3600.0
TITLE_CHARS = 80


class ConversationsUnavailable(GuideError):
    """The conversation database cannot be reached or used."""

    exit_code = 2


def new_id() -> str:
    """A fresh random id (conversation, browser or share token)."""
    return secrets.token_hex(16)


def valid_id(value: object) -> str | None:
    """`value` when it is an id this module made, else None."""
    return value if isinstance(value, str) and ID.match(value) else None


@dataclass(frozen=True)
class Summary:
    """One conversation in the sidebar's list."""

    id: str
    title: str
    updated: float
    share: str


def _tables():
    from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    conversations = Table(
        "conversations",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("browser", String(32), nullable=False, index=True),
        Column("share", String(32), nullable=False, unique=True),
        Column("title", Text, nullable=False),
        Column("created", Float, nullable=False),
        Column("updated", Float, nullable=False, index=True),
    )
    turns = Table(
        "conversation_turns",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("conversation", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("question", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("time", Float, nullable=False),
    )
    return metadata, conversations, turns


class ConversationStore:
    """The conversations of one database (SQLite or PostgreSQL), created on first use."""

    def __init__(self, url: str, retention_days: float = 30.0) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        self.url = url
        self.retention_days = retention_days
        try:
            self._engine = create_engine(driver_url(url), pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as error:
            raise ConversationsUnavailable(
                f"conversations.url {safe_url(url)!r} is not a database URL SQLAlchemy can open ({error})."
            ) from None
        if self._engine.dialect.name == "sqlite":
            # SQLite enforces ON DELETE CASCADE only when asked, per connection.
            event.listen(self._engine, "connect", lambda connection, _: connection.execute("PRAGMA foreign_keys=ON"))
        self._metadata, self._conversations, self._turns = _tables()
        self._created = False
        self._lock = threading.Lock()
        self._pruned_at = 0.0

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            if not self._created:
                with self._lock:
                    if not self._created:
                        self._create_schema()
                        self._created = True
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise ConversationsUnavailable(
                f"The conversation database {safe_url(self.url)} cannot be used: {reason}"
            ) from None

    def _create_schema(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(3):
            try:
                self._metadata.create_all(self._engine)
                return
            except SQLAlchemyError:
                if attempt == 2:  # another replica creating them at the same moment loses once at most
                    raise
                time.sleep(0.2)

    def add_turn(self, conversation: str, browser: str, question: str, answer: Answer) -> None:
        """Append a question and its answer, creating the conversation on its first turn."""
        from sqlalchemy import select

        now = time.time()
        with self._connection() as connection:
            c = self._conversations.c
            exists = connection.execute(select(c.id).where(c.id == conversation)).scalar()
            if exists is None:
                title = " ".join(question.split())[:TITLE_CHARS] or "(empty question)"
                connection.execute(
                    self._conversations.insert().values(
                        id=conversation, browser=browser, share=new_id(), title=title, created=now, updated=now
                    )
                )
            else:
                connection.execute(self._conversations.update().where(c.id == conversation).values(updated=now))
            connection.execute(
                self._turns.insert().values(
                    conversation=conversation, question=question, answer=answer_json(answer), time=now
                )
            )
        self.prune_now_and_then()

    def turns(self, conversation: str) -> list[tuple[str, Answer]]:
        """The questions and answers of a conversation, oldest first (none when it is unknown)."""
        from sqlalchemy import select

        t = self._turns.c
        with self._connection() as connection:
            rows = connection.execute(
                select(t.question, t.answer).where(t.conversation == conversation).order_by(t.seq)
            ).all()
        return [(question, answer_from_json(answer)) for question, answer in rows]

    def turn_count(self, conversation: str) -> int:
        """How many turns a conversation has: cheap, where `turns` reads and decodes every answer."""
        from sqlalchemy import func, select

        t = self._turns.c
        with self._connection() as connection:
            found = connection.execute(select(func.count()).where(t.conversation == conversation)).scalar()
        return int(found or 0)

    def by_share(self, share: str) -> str | None:
        """The conversation a share token opens, or None."""
        from sqlalchemy import select

        c = self._conversations.c
        with self._connection() as connection:
            return connection.execute(select(c.id).where(c.share == share)).scalar()

    def share_token(self, conversation: str) -> str | None:
        from sqlalchemy import select

        c = self._conversations.c
        with self._connection() as connection:
            return connection.execute(select(c.share).where(c.id == conversation)).scalar()

    def owner(self, conversation: str) -> str | None:
        from sqlalchemy import select

        c = self._conversations.c
        with self._connection() as connection:
            return connection.execute(select(c.browser).where(c.id == conversation)).scalar()

    def list(self, browser: str, limit: int = 50) -> list[Summary]:
        """A browser's conversations, the most recent first."""
        from sqlalchemy import select

        c = self._conversations.c
        query = select(c.id, c.title, c.updated, c.share).where(c.browser == browser)
        with self._connection() as connection:
            rows = connection.execute(query.order_by(c.updated.desc()).limit(limit)).all()
        return [Summary(*row) for row in rows]

    def delete(self, conversation: str, browser: str) -> bool:
        """Delete one of a browser's conversations with its turns; whether there was one."""
        c = self._conversations.c
        with self._connection() as connection:
            found = connection.execute(
                self._conversations.delete().where(c.id == conversation, c.browser == browser)
            ).rowcount
            if found:
                connection.execute(self._turns.delete().where(self._turns.c.conversation == conversation))
        return bool(found)

    def delete_all(self, browser: str) -> int:
        """Delete every conversation of a browser; how many."""
        from sqlalchemy import select

        c = self._conversations.c
        with self._connection() as connection:
            ids = list(connection.execute(select(c.id).where(c.browser == browser)).scalars())
            self._delete_ids(connection, ids)
        return len(ids)

    def prune(self, now: float | None = None) -> int:
        """Delete conversations untouched for longer than the retention; how many."""
        from sqlalchemy import select

        cutoff = (time.time() if now is None else now) - self.retention_days * 86400
        c = self._conversations.c
        with self._connection() as connection:
            ids = list(connection.execute(select(c.id).where(c.updated < cutoff)).scalars())
            self._delete_ids(connection, ids)
        self._pruned_at = time.monotonic()
        return len(ids)

    def prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_SECONDS or not self._pruned_at:
            self.prune()

    def _delete_ids(self, connection: Any, ids: list[str]) -> None:
        for first in range(0, len(ids), 500):
            batch = ids[first : first + 500]
            connection.execute(self._turns.delete().where(self._turns.c.conversation.in_(batch)))
            connection.execute(self._conversations.delete().where(self._conversations.c.id.in_(batch)))

    def count(self) -> tuple[int, int]:
        """How many conversations and turns are stored (for tests and the maintainer)."""
        from sqlalchemy import func, select

        with self._connection() as connection:
            conversations = connection.execute(select(func.count()).select_from(self._conversations)).scalar()
            turns = connection.execute(select(func.count()).select_from(self._turns)).scalar()
        return int(conversations or 0), int(turns or 0)

    def close(self) -> None:
        self._engine.dispose()


def open_store(settings: Any) -> ConversationStore:
    """The conversation store of `settings` (its own URL, else the feedback database's)."""
    keep = settings.conversations
    return ConversationStore(keep.url or settings.feedback.url, keep.retention_days)


def answer_json(answer: Answer) -> str:
    """An answer as JSON, whole (interpretation, citations, highlights, points, table)."""
    return json.dumps(dataclasses.asdict(answer), ensure_ascii=False, default=str)


def answer_from_json(text: str) -> Answer:
    """The answer `answer_json` wrote; fields this version does not know are left out."""
    return _revive(Answer, json.loads(text))


def _revive(kind: Any, value: Any) -> Any:
    """`value` (plain JSON data) as an instance of the type `kind` (dataclasses, tuples, unions)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(kind) and isinstance(value, dict):
        hints = typing.get_type_hints(kind)
        names = {item.name for item in dataclasses.fields(kind)}
        return kind(**{name: _revive(hints[name], item) for name, item in value.items() if name in names})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or type(kind).__name__ == "UnionType":
        options = [arg for arg in args if arg is not type(None)]
        return _revive(options[0], value) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_revive(args[0], item) for item in value)
        return tuple(_revive(arg, item) for arg, item in zip(args, value, strict=False))
    return value
