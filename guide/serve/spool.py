"""The spool: feedback records waiting for the database, in a local JSON Lines file.

One append is one write of whole lines under the file's lock, fsync'd; one that fails is undone.
A drain holds the lock only to read the file and to cut off what the database stored, so an
append never waits for the database. Lines that are not records, and records the database
refuses, are set aside in `<spool>.rejected`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from guide.errors import GuideError

logger = logging.getLogger(__name__)


class SpoolWriteError(GuideError):
    """A record could not be written to the spool (a full disk); nothing of it was kept."""

    exit_code = 2


def set_aside(source: Path, refused: Sequence[tuple[Any, str]]) -> Path:
    """Append records (or raw lines) that cannot be stored to `<source>.rejected`, with the reason, and say so."""
    path = source.with_name(source.name + ".rejected")
    lines = "".join(json.dumps({"reason": reason, "record": record}, ensure_ascii=False) + "\n" for record, reason in refused)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)
    logger.warning(
        "%d feedback record(s) of %s cannot be stored (%s); set aside in %s", len(refused), source, refused[0][1], path
    )
    return path


class Spool:
    """Records waiting for the database, in a local JSON Lines file (locked, fsync'd)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        """The spool file, opened unbuffered and locked; the one at its path even if a drain replaced it."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = self.path.open("a+b", buffering=0)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    if _same_file(handle, self.path):
                        yield handle
                        return
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            finally:
                handle.close()

    def append(self, record: dict[str, Any]) -> None:
        """Add one record; a write that fails is undone and raises, so it never spoils the next one."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._locked() as handle:
            size = os.fstat(handle.fileno()).st_size
            if size and os.pread(handle.fileno(), 1, size - 1) != b"\n":
                line = b"\n" + line  # a write cut short by a crash: end its line first
            try:
                _write_all(handle.fileno(), line)
                os.fsync(handle.fileno())
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.ftruncate(handle.fileno(), size)
                raise SpoolWriteError(
                    f"Feedback could not be written to {self.path}: {error.strerror or error}; free some disk space."
                ) from None

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._locked() as handle:
            return _parse(_read_all(handle))[0]

    @contextlib.contextmanager
    def _draining(self) -> Iterator[None]:
        """One drain at a time (appends do not wait for it)."""
        import fcntl

        with self.path.with_name(self.path.name + ".drain").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def drain(self, store: Any) -> int:
        """Move the waiting records into `store` (a `FeedbackStore`); they leave the spool only once stored.

        The spool is locked only to read it and to cut off the lines stored, never while the
        database works, so appends go on while it is slow or down.
        """
        if not self.path.exists():
            return 0
        with self._draining():
            with self._locked() as handle:
                data = _read_all(handle)
            taken = data[: data.rfind(b"\n") + 1]  # whole lines; a fragment at the end stays
            if not taken:
                return 0
            records, unreadable = _parse(taken)
            refused = store.add(records) if records else []  # raises FeedbackUnavailable: the records stay
            if unreadable or refused:
                set_aside(self.path, [*((line, "not a feedback record") for line in unreadable), *refused])
            self._cut(taken)
        return len(records) - len(refused)

    def _cut(self, taken: bytes) -> None:
        """Take `taken` (the spool's first bytes, stored) out of the spool, keeping what was appended since."""
        with self._locked() as handle:
            data = _read_all(handle)
            rest = data[len(taken) :] if data.startswith(taken) else data
            if not rest:
                os.ftruncate(handle.fileno(), 0)
                os.fsync(handle.fileno())
                return
            # Atomically: appenders waiting for the lock find the new file and write there.
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with temporary.open("wb") as out:
                out.write(rest)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)


def _read_all(handle: Any) -> bytes:
    handle.seek(0)
    return handle.readall()


def _same_file(handle: Any, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _write_all(descriptor: int, data: bytes) -> None:
    written = 0
    while written < len(data):
        count = os.write(descriptor, data[written:])
        if count == 0:
            raise OSError(28, "No space left on device")
        written += count


def _parse(data: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of spool lines, and the lines that are not records (such as one cut short by a crash)."""
    records, unreadable = [], []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and "question" in record and "kind" in record:
            records.append(record)
        else:
            unreadable.append(line)
    return records, unreadable
