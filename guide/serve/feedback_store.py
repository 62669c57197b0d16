"""Where feedback is kept: one seam, two databases, chosen by a URL (`feedback.url`).

The embedded default is a SQLite file beside the app (`sqlite:///feedback.db`), so `make run`
needs nothing else; a site with several app replicas points them all at one PostgreSQL
database (`postgresql://user@host:5432/guide`). Both go through SQLAlchemy Core (psycopg 3
for PostgreSQL); the schema is created on first use.

Records are never lost on the way: the app appends each one to a local spool file first (one
write, fsync'd), and a background thread moves the spool into the database, taking out of it
only what the database has committed. An append never waits for the database: the drain holds
the spool's lock only to read it and to cut off what was stored, never while inserting, and
every connection and statement has a timeout. While the database is down, records wait in the
spool and are retried; a replica killed mid-way finds its spool on the next start. Every record
carries an id, and inserting an id already stored does nothing, so a retry never duplicates.

A record the database cannot take (a malformed line of an older log, a hand-edited spool) is
set aside in a `.rejected` file beside its source, with a warning, and the others flow on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from guide.config import mask_secrets
from guide.errors import GuideError
from guide.serve.spool import Spool, set_aside

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///feedback.db"
COLUMNS = ("id", "time", "kind", "question", "interpreted_as", "answer", "refused", "confidence", "citations", "origin")
# How long connecting may take, and one statement run, before the database counts as down.
CONNECT_SECONDS = 5
STATEMENT_SECONDS = 15
# Widths of the bounded columns (a longer value would be refused by PostgreSQL).
WIDTHS = {"id": 64, "time": 40, "kind": 20, "origin": 200}


class FeedbackUnavailable(GuideError):
    """The feedback database cannot be reached or used."""

    exit_code = 2


def _tables():
    from sqlalchemy import JSON, Boolean, Column, Float, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    feedback = Table(
        "feedback",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", String(64), nullable=False, unique=True),
        Column("time", String(40), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("question", Text, nullable=False),
        Column("interpreted_as", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("refused", Boolean, nullable=False),
        Column("confidence", Float, nullable=False),
        Column("citations", JSON, nullable=False),
        # Which app wrote it (a replica's name), for a site that runs several.
        Column("origin", String(200), nullable=False),
    )
    imports = Table(
        "feedback_imports",
        metadata,
        Column("path", String(1000), primary_key=True),
        Column("lines", Integer, nullable=False),
    )
    return metadata, feedback, imports


def record_id(record: dict[str, Any]) -> str:
    """A record's id: its own, or one derived from its content (for records of older logs)."""
    if isinstance(record.get("id"), str) and record["id"]:
        return record["id"]
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


class RecordRefused(ValueError):
    """A record that no database would store as it is (a wrong type, a value too long)."""


def _text(record: dict[str, Any], key: str, default: str = "") -> str:
    value = record.get(key)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise RecordRefused(f"{key!r} must be text, not {type(value).__name__}")
    if key in WIDTHS and len(value) > WIDTHS[key]:
        raise RecordRefused(f"{key!r} is longer than {WIDTHS[key]} characters")
    return value.replace("\x00", "")  # PostgreSQL's text cannot hold NUL


def _row(record: dict[str, Any], origin: str) -> dict[str, Any]:
    """The table row of a record; `RecordRefused` says why there is none."""
    if not isinstance(record, dict):
        raise RecordRefused("a record must be a JSON object")
    confidence = record.get("confidence") or 0.0
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not math.isfinite(confidence):
        raise RecordRefused(f"'confidence' must be a number, not {confidence!r}")
    citations = record.get("citations") or []
    if not isinstance(citations, list) or not all(isinstance(citation, dict) for citation in citations):
        raise RecordRefused("'citations' must be a list of objects")
    refused = record.get("refused", False)
    if not isinstance(refused, bool):
        raise RecordRefused("'refused' must be true or false")
    row = {key: _text(record, key) for key in ("time", "kind", "question", "interpreted_as", "answer")}
    row.update(id=_text({"id": record_id(record)}, "id"), origin=_text(record, "origin", origin))
    row.update(refused=refused, confidence=float(confidence), citations=citations)
    return row


def _rows(records: Sequence[dict[str, Any]], origin: str) -> tuple[list[dict[str, Any]], list[tuple[Any, str]]]:
    """The rows of the records that can be stored, and the others with the reason."""
    rows, refused = [], []
    for record in records:
        try:
            rows.append(_row(record, origin))
        except (RecordRefused, KeyError) as error:
            refused.append((record, str(error)))
    return rows, refused


def driver_url(url: str) -> str:
    """The URL SQLAlchemy is given: plain PostgreSQL URLs go through psycopg 3."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden (of its user, in its query, or in a key=value DSN), for messages."""
    return mask_secrets(url)


def _connect_args(url: str) -> dict[str, Any]:
    """Timeouts for connecting and for each statement, so that no wait on the database is unbounded."""
    if url.startswith("postgresql"):
        return {"connect_timeout": CONNECT_SECONDS, "options": f"-c statement_timeout={STATEMENT_SECONDS * 1000}"}
    if url.startswith("sqlite"):
        return {"timeout": CONNECT_SECONDS}  # how long to wait for another writer's lock
    return {}


def _refuses_the_data(error: Exception) -> bool:
    """Whether the database refused the rows themselves (a value it cannot hold), not the connection."""
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

    if isinstance(error, DataError | IntegrityError):
        return True
    # Values that cannot even be sent (a bind parameter that will not convert).
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)


class FeedbackStore:
    """The feedback table of one database (SQLite or PostgreSQL), created on first use."""

    def __init__(self, url: str = DEFAULT_URL, origin: str = "") -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        self.url = url
        self.origin = origin
        try:
            target = driver_url(url)
            self._engine = create_engine(
                target, pool_pre_ping=True, pool_timeout=CONNECT_SECONDS, connect_args=_connect_args(target)
            )
        except (ArgumentError, NoSuchModuleError, ValueError, TypeError) as error:
            raise FeedbackUnavailable(
                f"feedback.url {safe_url(url)!r} is not a database URL SQLAlchemy can open ({mask_secrets(str(error))}); "
                "use sqlite:///feedback.db or postgresql://user@host:5432/guide."
            ) from None
        self._metadata, self._feedback, self._imports = _tables()
        self._created = False
        self._lock = threading.Lock()

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
            reason = mask_secrets(str(getattr(error, "orig", None) or error).strip().splitlines()[0])
            if _refuses_the_data(error):
                raise RecordRefused(reason) from None
            raise FeedbackUnavailable(f"The feedback database {safe_url(self.url)} cannot be used: {reason}") from None

    def _create_schema(self) -> None:
        """Create the tables unless they exist; another app creating them at the same moment is fine."""
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(3):
            try:
                self._metadata.create_all(self._engine)
                return
            except SQLAlchemyError:
                # Lost a race with another creator: the tables are there now, or it fails again.
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def _insert(self):
        """An insert that leaves a record whose id is already stored as it is."""
        name = self._engine.dialect.name
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            raise FeedbackUnavailable(f"feedback.url must be a SQLite or PostgreSQL database, not {name}.")
        return insert(self._feedback).on_conflict_do_nothing(index_elements=["id"])

    def add(self, records: Sequence[dict[str, Any]]) -> list[tuple[Any, str]]:
        """Store records (in one transaction); ids already stored are skipped.

        Returns the records the database refused, with the reason (the others are stored).
        Raises `FeedbackUnavailable` when the database cannot be used: nothing is stored then.
        """
        rows, refused = _rows(records, self.origin)
        return refused + self._insert_rows(rows, records)

    def _insert_rows(self, rows: list[dict[str, Any]], records: Sequence[Any]) -> list[tuple[Any, str]]:
        if not rows:
            return []
        try:
            with self._connection() as connection:
                connection.execute(self._insert(), rows)
            return []
        except RecordRefused:
            pass
        # One row in the batch is refused by the database: store the others one by one.
        refused = []
        for row in rows:
            try:
                with self._connection() as connection:
                    connection.execute(self._insert(), [row])
            except RecordRefused as error:
                original = next((r for r in records if isinstance(r, dict) and record_id(r) == row["id"]), row)
                refused.append((original, str(error)))
        return refused

    def records(self) -> list[dict[str, Any]]:
        """Every stored record, oldest first."""
        from sqlalchemy import select

        with self._connection() as connection:
            rows = connection.execute(select(self._feedback).order_by(self._feedback.c.seq)).mappings()
            return [{column: row[column] for column in COLUMNS} for row in rows]

    def import_log(self, path: Path) -> int:
        """Import the lines of a JSON Lines feedback log not imported before; how many records were new.

        Lines that cannot be stored are set aside in `<log>.rejected`; the rest is imported.
        """
        from sqlalchemy import select

        from guide.serve.feedback import read_lines

        if not path.is_file():
            return 0
        key = str(path.resolve())
        lines = read_lines(path)
        with self._connection() as connection:
            done = connection.execute(select(self._imports.c.lines).where(self._imports.c.path == key)).scalar()
        records = [record for record in lines[done or 0 :] if record is not None]
        rows, refused = _rows(records, self.origin)
        with self._connection() as connection:
            before = len(self._ids(connection, [row["id"] for row in rows]))
        refused += self._insert_rows(rows, records)
        if refused:
            set_aside(path, refused)
        with self._connection() as connection:
            if done is None:
                connection.execute(self._imports.insert().values(path=key, lines=len(lines)))
            else:
                connection.execute(self._imports.update().where(self._imports.c.path == key).values(lines=len(lines)))
        return len(rows) - before - (len(refused) - (len(records) - len(rows)))

    def _ids(self, connection: Any, ids: list[str]) -> set[str]:
        from sqlalchemy import select

        found: set[str] = set()
        for first in range(0, len(ids), 500):
            batch = ids[first : first + 500]
            found.update(connection.execute(select(self._feedback.c.id).where(self._feedback.c.id.in_(batch))).scalars())
        return found

    def close(self) -> None:
        self._engine.dispose()


class FeedbackWriter:
    """Takes records from the app without ever blocking an answer, and stores them in the background.

    `submit` appends to the spool; a thread drains the spool into the database at once, and
    every `retry_seconds` while the database cannot be reached.
    """

    def __init__(
        self, store: FeedbackStore, spool: Path, retry_seconds: float = 2.0, legacy: Path | None = None
    ) -> None:
        self.store = store
        self.spool = Spool(spool)
        self.retry_seconds = retry_seconds
        # A feedback.jsonl of an earlier version, imported (its new lines only) once the database answers.
        self._legacy = legacy
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedback-writer", daemon=True)
        self._wake.set()  # records left by an earlier run go first
        self._thread.start()

    def submit(self, record: dict[str, Any]) -> None:
        self.spool.append(record)
        self._idle.clear()
        self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the spool is empty (or `timeout` passes); whether it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            if self._idle.wait(0.05) and not self.spool.pending():
                return True
        return not self.spool.pending()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.retry_seconds)
            self._wake.clear()
            try:
                if self._legacy is not None:
                    if imported := self.store.import_log(self._legacy):
                        logger.info("Imported %d feedback records from %s", imported, self._legacy)
                    self._legacy = None
                self.spool.drain(self.store)
                self.last_error = None
                self._idle.set()
            except FeedbackUnavailable as error:
                if self.last_error != str(error):
                    logger.warning("Feedback waits in %s: %s", self.spool.path, error)
                self.last_error = str(error)
            except Exception:  # never let the writer die: the records wait in the spool
                logger.exception("Feedback writer failed; retrying")


def open_writer(settings: Any) -> FeedbackWriter:
    """The app's feedback writer for `settings.feedback`; it imports the older JSON Lines log once."""
    store = FeedbackStore(settings.feedback.url, settings.feedback.origin)
    return FeedbackWriter(store, settings.feedback.spool, legacy=settings.feedback_file)
