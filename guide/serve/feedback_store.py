"""Where feedback is kept: one seam, two databases, chosen by a URL (`feedback.url`).

The embedded default is a SQLite file beside the app (`sqlite:///feedback.db`), so `make run`
needs nothing else; a site with several app replicas points them all at one PostgreSQL
database (`postgresql://user@host:5432/guide`). Both go through SQLAlchemy Core (psycopg 3
for PostgreSQL); the schema is created on first use.

Records are never lost on the way: the app appends each one to a local spool file first (one
write, fsync'd), and a background thread moves the spool into the database, emptying it only
after the database has committed. While the database is down, records wait in the spool and
are retried; a replica killed mid-way finds its spool on the next start. Every record carries
an id, and inserting an id already stored does nothing, so a retry never duplicates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from guide.errors import GuideError

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///feedback.db"
COLUMNS = ("id", "time", "kind", "question", "interpreted_as", "answer", "refused", "confidence", "citations", "origin")


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


def _row(record: dict[str, Any], origin: str) -> dict[str, Any]:
    return {
        "id": record_id(record),
        "time": str(record.get("time", "")),
        "kind": str(record["kind"]),
        "question": str(record["question"]),
        "interpreted_as": str(record.get("interpreted_as") or ""),
        "answer": str(record.get("answer") or ""),
        "refused": bool(record.get("refused", False)),
        "confidence": float(record.get("confidence") or 0.0),
        "citations": list(record.get("citations") or []),
        "origin": str(record.get("origin") or origin),
    }


def driver_url(url: str) -> str:
    """The URL SQLAlchemy is given: plain PostgreSQL URLs go through psycopg 3."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is reported as given, less what might be a secret
        return url.split("@")[-1]


class FeedbackStore:
    """The feedback table of one database (SQLite or PostgreSQL), created on first use."""

    def __init__(self, url: str = DEFAULT_URL, origin: str = "") -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        self.url = url
        self.origin = origin
        try:
            self._engine = create_engine(driver_url(url), pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as error:
            raise FeedbackUnavailable(
                f"feedback.url {safe_url(url)!r} is not a database URL SQLAlchemy can open ({error}); "
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
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
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

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        """Store records (in one transaction); ids already stored are skipped."""
        if not records:
            return
        with self._connection() as connection:
            connection.execute(self._insert(), [_row(record, self.origin) for record in records])

    def records(self) -> list[dict[str, Any]]:
        """Every stored record, oldest first."""
        from sqlalchemy import select

        with self._connection() as connection:
            rows = connection.execute(select(self._feedback).order_by(self._feedback.c.seq)).mappings()
            return [{column: row[column] for column in COLUMNS} for row in rows]

    def import_log(self, path: Path) -> int:
        """Import the lines of a JSON Lines feedback log not imported before; how many records were new."""
        from sqlalchemy import select

        from guide.serve.feedback import read_lines

        if not path.is_file():
            return 0
        key = str(path.resolve())
        lines = read_lines(path)
        with self._connection() as connection:
            done = connection.execute(select(self._imports.c.lines).where(self._imports.c.path == key)).scalar()
            fresh = lines[done or 0 :]
            records = [record for record in fresh if record is not None]
            before = len(self._ids(connection, [record_id(record) for record in records]))
            if records:
                connection.execute(self._insert(), [_row(record, self.origin) for record in records])
            if done is None:
                connection.execute(self._imports.insert().values(path=key, lines=len(lines)))
            else:
                connection.execute(self._imports.update().where(self._imports.c.path == key).values(lines=len(lines)))
        return len(records) - before

    def _ids(self, connection: Any, ids: list[str]) -> set[str]:
        from sqlalchemy import select

        found: set[str] = set()
        for first in range(0, len(ids), 500):
            batch = ids[first : first + 500]
            found.update(connection.execute(select(self._feedback.c.id).where(self._feedback.c.id.in_(batch))).scalars())
        return found

    def close(self) -> None:
        self._engine.dispose()


class Spool:
    """Records waiting for the database, in a local JSON Lines file (locked, fsync'd)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._locked() as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._locked() as handle:
            handle.seek(0)
            return _parse(handle.read())

    def drain(self, store: FeedbackStore) -> int:
        """Move the waiting records into `store`; they leave the spool only once stored."""
        if not self.path.exists():
            return 0
        with self._locked() as handle:
            handle.seek(0)
            records = _parse(handle.read())
            if records:
                store.add(records)  # raises FeedbackUnavailable: the records stay
            handle.truncate(0)
            handle.flush()
            os.fsync(handle.fileno())
        return len(records)


def _parse(data: bytes) -> list[dict[str, Any]]:
    records = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        # A line cut short by a crash mid-write is not a record; anything else is kept.
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and "question" in record and "kind" in record:
                records.append(record)
    return records


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
