"""The index folder on disk: generation folders, the `CURRENT` pointer, checksums, durable writes, the build lock.

Layout of `index/`: each build writes a generation folder `gen-*` beside the live one, then
points the one-line file `CURRENT` at it with an atomic rename. A reader resolves `CURRENT` once
and reads only that folder, so a build killed at any moment leaves the previous index in place,
and readers see the old index or the new one, never a mix. This module knows files, not what
is in them; `guide.index` decides that.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from guide.errors import BuildLockedError, IndexCorruptError

POINTER = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".build.lock"
REBUILD_HINT = "Run `guide build` (or press Rebuild index in the app) to rebuild it."
# A generation's name, and the names of the files a manifest lists: plain names in the folder.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# Larger than any pointer or manifest a build writes; a bigger one is damage, not read whole.
POINTER_BYTES = 1024
MANIFEST_BYTES = 64 * 1024 * 1024


# ---------------------------------------------------------------- reading


def open_regular(path: Path) -> int:
    """A descriptor of `path` for reading, which must be a regular file: a pipe or a device never
    blocks or feeds a reader forever (it is opened without waiting, then refused)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_small(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (OSError otherwise)."""
    descriptor = open_regular(path)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path.name} is larger than {limit} bytes")
    return data


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no index was built."""
    path = index_dir / POINTER
    try:
        name = read_small(path, POINTER_BYTES).decode("utf-8").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise IndexCorruptError(f"{path} is damaged (it is not text). {REBUILD_HINT}") from None
    except OSError as error:
        raise IndexCorruptError(f"Cannot read {path}: {error}. {REBUILD_HINT}") from None
    if not _NAME.fullmatch(name):
        raise IndexCorruptError(f"{path} is damaged (it names {name[:80]!r}). {REBUILD_HINT}")
    return index_dir / name


# What a manifest's keys must hold, where it has them.
_MANIFEST_TYPES = {"checksums": dict, "files": dict, "stores": dict, "counts": dict, "skipped": list, "warnings": list, "chunking": dict}


def read_manifest(generation: Path, version: int) -> dict[str, Any]:
    """A generation's manifest, which must be of format `version` and list its files' checksums."""
    path = generation / MANIFEST
    try:
        manifest = json.loads(read_small(path, MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"The index file {path} is missing. {REBUILD_HINT}") from None
    except (OSError, ValueError, RecursionError) as error:
        raise IndexCorruptError(f"The index manifest {path} is damaged ({error}). {REBUILD_HINT}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != version or "checksums" not in manifest:
        raise IndexCorruptError(f"The index manifest {path} is not a format-{version} manifest. {REBUILD_HINT}")
    wrong = [key for key, kind in _MANIFEST_TYPES.items() if key in manifest and not isinstance(manifest[key], kind)]
    checksums = manifest["checksums"]
    if wrong or not all(
        isinstance(name, str) and _NAME.fullmatch(name) and isinstance(digest, str) for name, digest in checksums.items()
    ):
        raise IndexCorruptError(f"The index manifest {path} is damaged (its {(wrong or ['checksums'])[0]} are not what a build writes). {REBUILD_HINT}")
    return manifest


def verify_all(generation: Path, manifest: dict[str, Any], required: tuple[str, ...] = ()) -> None:
    """Check every file the manifest lists against its checksum; the `required` files must be listed."""
    checksums = manifest["checksums"]
    if missing := [name for name in required if name not in checksums]:
        raise IndexCorruptError(
            f"The index manifest {generation / MANIFEST} is damaged (it lists no checksum of {missing[0]}). {REBUILD_HINT}"
        )
    for name, expected in checksums.items():
        verify(generation / name, expected)


def verify(path: Path, expected: str) -> None:
    """Check a file against the SHA-256 its manifest recorded."""
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        raise IndexCorruptError(f"The index file {path} is missing. {REBUILD_HINT}") from None
    except OSError as error:
        raise IndexCorruptError(f"Cannot read the index file {path}: {error}. {REBUILD_HINT}") from None
    if actual != expected:
        raise IndexCorruptError(
            f"The index file {path} is damaged (its checksum does not match the manifest). {REBUILD_HINT}"
        )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index file {path} cannot be read ({error}). {REBUILD_HINT}") from None


def read_npy(path: Path, mmap: bool = False) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index file {path} cannot be read ({error}). {REBUILD_HINT}") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with os.fdopen(open_regular(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- writing


def jsonl_bytes(records: Iterable[Any]) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; a second concurrent build fails at once."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(f"Another build of {index_dir} is running; wait for it to finish.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_generation(
    index_dir: Path,
    files: dict[str, bytes],
    manifest: dict[str, Any],
    write_more: Callable[[Path], Iterable[str]] = lambda folder: (),
) -> Path:
    """Write a new generation beside the live one, then switch `CURRENT` to it atomically.

    Args:
        index_dir: the index folder (its build lock held by the caller).
        files: file name to contents.
        manifest: written last, with the SHA-256 of every file under "checksums".
        write_more: writes further files into the staging folder and returns their names
            (a vector store's own structures).
    """
    remove_leftovers(index_dir)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    staging = index_dir / f".tmp-{stamp}-{os.getpid()}"
    staging.mkdir(parents=True)
    checksums = {}
    for name, data in files.items():
        write_durably(staging / name, data)
        checksums[name] = hashlib.sha256(data).hexdigest()
    for name in write_more(staging):
        fsync_file(staging / name)
        checksums[name] = file_sha256(staging / name)
    manifest = {**manifest, "checksums": checksums}
    write_durably(staging / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    fsync_dir(staging)
    generation = index_dir / f"gen-{stamp}"
    os.rename(staging, generation)
    fsync_dir(index_dir)
    try:
        live = current_generation(index_dir)
    except IndexCorruptError:
        live = None  # a damaged pointer names nothing worth keeping
    previous = live.name if live else None
    pointer = index_dir / f".{POINTER}.tmp"
    write_durably(pointer, (generation.name + "\n").encode())
    os.replace(pointer, index_dir / POINTER)
    fsync_dir(index_dir)
    # Keep the previous generation too: a reader that resolved CURRENT just before the switch
    # may still be reading it.
    for old in index_dir.glob("gen-*"):
        if old.name not in (generation.name, previous):
            shutil.rmtree(old, ignore_errors=True)
    return generation


def remove_leftovers(index_dir: Path) -> None:
    """Delete what killed builds left (the build lock is held here): staging folders, and whole
    generations never made live (killed just before the switch), so that at most one build's
    copy is ever left over.

    Kept: the live generation and the one before it (a reader that resolved `CURRENT` just
    before the last switch may still read it). Generations are named by build time, so the one
    before is the newest older than the live one; the ones newer than it were never live. With
    a damaged pointer nothing is deleted: which generation was good is not known.
    """
    for leftover in index_dir.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (index_dir / f".{POINTER}.tmp").unlink()
    try:
        live = current_generation(index_dir)
    except IndexCorruptError:
        return
    if live is None or not live.is_dir():
        return
    older = sorted(path.name for path in index_dir.glob("gen-*") if path.name < live.name)
    keep = {live.name, *older[-1:]}
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
