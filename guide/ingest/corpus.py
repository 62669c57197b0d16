"""Reading guides: Markdown with YAML front matter, Markdown without it, or plain text."""

from __future__ import annotations

import hashlib
import logging
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guide.errors import CorpusError, CorpusProblem
from guide.ingest.formats import CONVERTED, ConversionError, Limits, convert, kind_of, looks_like_html
from guide.ingest.front_matter import ParseError, parse_front_matter, text_problem, without_controls

logger = logging.getLogger(__name__)

# Markdown and plain text are read as they are; HTML, PDF and DOCX pages are converted.
GUIDE_SUFFIXES = (".md", ".markdown", ".txt", *CONVERTED)
MAX_GUIDE_BYTES = 5 * 1024 * 1024
ROLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# An ATX Markdown heading line: its level (the #s) and its title. The one definition of a heading.
# (The title is greedy up to its last character that is not a space or '#': a lazy title before
# `[ \t#]*$` would retry that tail at every character, quadratic on a long line of spaces.)
HEADING = re.compile(r"^(#{1,6})[ \t]+((?:.*[^ \t#])?)[ \t#]*$")
# Reference marks of encyclopedia-style text: "[2]", "[ 2 ]", "[3, 4]", "[5–7]", "[citation needed]".
REFERENCE_MARK = re.compile(
    r"\s?\[\s*(?:\d+(?:\s*[,;–—-]\s*\d+)*|citation needed|(?:note|nb|n)\s*\d+)\s*\]", re.I
)



def without_reference_marks(text: str) -> str:
    """`text` as an answer may hold it (a sentence, a title, a heading, a name): without reference
    marks, which would pass for citations. Every `[n]` in an answer is one of its citations."""
    return REFERENCE_MARK.sub("", text)


@dataclass(frozen=True)
class Document:
    """One guide: its metadata and Markdown body (offsets of chunks point into `text`)."""

    doc_id: str
    path: str
    title: str
    role: str
    source: str
    summary: str
    text: str
    sha256: str
    # How people name the role: `label` in answers, `aliases` pick the role outright, `hints`
    # (such as "tenure" or "faculty") only when no alias of any role is present.
    label: str = ""
    aliases: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    # A role that is usually a step towards others (a PhD): named beside another role, it is
    # read as a requirement of that role, not as the subject.
    prerequisite: bool = False
    # The format the guide was converted from ("html", "pdf", "docx"); empty for Markdown and text.
    origin: str = ""
    # The other files of the corpus that hold (nearly) this guide's text; they are not indexed.
    also_at: tuple[str, ...] = ()



def plain_text_to_markdown(text: str) -> str:
    """Mark the heading lines of a captured plain-text guide as `##` headings.

    A heading is a short line that does not end like a sentence or list lead-in and is not
    a list item; blank lines are normalised to one between blocks.
    """
    blocks: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if _looks_like_heading(line):
            blocks.append(f"## {line}")
        elif line.startswith(("- ", "* ")) and blocks and blocks[-1].startswith(("- ", "* ")):
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _looks_like_heading(line: str) -> bool:
    return len(line) <= 90 and not line.startswith(("- ", "* ", "#")) and not line.endswith((".", ":", ",", ";"))


def parse_guide(text: str, path: str, plain_text: bool | None = None) -> Document:
    """Parse one guide's text into a `Document` (pure: no file access).

    Args:
        text: the file's text.
        path: the file's name in the corpus folder (its stem names the guide).
        plain_text: read `text` as captured plain text (its first line the title); by default
            a `.txt` file is, any other Markdown with optional front matter.

    Raises:
        ParseError: the text is empty, or its front matter is malformed or has bad values.
    """
    stem = Path(path).stem
    suffix = Path(path).suffix.lower()
    if not text.strip():
        raise ParseError("the file is empty; write a title and some guide text, or remove it")
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if suffix == ".txt" if plain_text is None else plain_text:
        title, _, rest = text.lstrip("\ufeff").strip().partition("\n")
        meta: dict[str, Any] = {"title": title.strip()}
        body = plain_text_to_markdown(rest)
    else:
        meta, body, _ = parse_front_matter(text)
        meta = dict(meta)
        if "title" not in meta:
            meta["title"] = _first_heading(body) or stem.replace("-", " ").replace("_", " ").title()
    for key in ("title", "role", "source", "summary", "id", "label"):
        if key in meta and (problem := text_problem(key, meta[key])):
            raise ParseError(problem, line=_key_line(text, key))
    title = str(meta["title"]).strip()
    if not title:
        raise ParseError("the guide has an empty title", line=_key_line(text, "title"))
    # An id names the guide in the index, in feedback and in JSON: a slug, like a role.
    doc_id = _slug_value(meta, "id", stem, text, "lecturer-uk")
    role = _slug_value(meta, "role", stem, text, "lecturer")
    if not body.strip():
        raise ParseError("the guide has a title but no text")
    names = {key: _phrases(meta, key, text) for key in ("aliases", "hints")}
    prerequisite = meta.get("prerequisite", False)
    if not isinstance(prerequisite, bool):
        raise ParseError("front matter key 'prerequisite' must be true or false", line=_key_line(text, "prerequisite"))
    return Document(
        doc_id=doc_id,
        path=path,
        title=title,
        role=role,
        source=str(meta.get("source", "")).strip(),
        summary=str(meta.get("summary", "")).strip(),
        text=body.strip("\n") + "\n",
        sha256=sha256,
        label=str(meta.get("label", "")).strip() or role.replace("-", " "),
        aliases=names["aliases"],
        hints=names["hints"],
        prerequisite=prerequisite,
    )


def _slug_value(meta: dict[str, Any], key: str, stem: str, text: str, example: str) -> str:
    """The front matter's `key` (by default the slug of the file's name), checked to be a slug."""
    value = str(meta.get(key, _slug(stem))).strip()
    if key in meta or key == "role":
        if not ROLE_PATTERN.match(value):
            raise ParseError(
                f"{key} {value!r} must be a short slug of lower-case letters, digits and hyphens, such as {example!r}",
                line=_key_line(text, key),
            )
    return value


def _phrases(meta: dict[str, Any], key: str, text: str) -> tuple[str, ...]:
    """A front-matter list of words or phrases (a single string is a list of one)."""
    value = meta.get(key, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(text_problem(key, v) is None and str(v).strip() for v in values):
        raise ParseError(
            f"front matter key {key!r} must be a list of words or phrases, such as [doctorate, doctoral]",
            line=_key_line(text, key),
        )
    return tuple(str(v).strip() for v in values)


def _first_heading(body: str) -> str | None:
    for line in body.split("\n"):
        match = HEADING.match(line.strip())
        if match and match.group(2).strip():
            return match.group(2).strip()
    return None


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.split("\n")[:200], start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:63] or "guide"


def guide_files(corpus_dir: Path) -> list[Path]:
    """The guide files of a corpus folder, sorted; hidden and editor backup files are left out."""
    if not corpus_dir.is_dir():
        return []
    found = sorted(
        path
        for path in corpus_dir.iterdir()
        if path.suffix.lower() in GUIDE_SUFFIXES and not path.name.startswith((".", "~", "#")) and not path.is_dir()
    )
    return _without_second_names(found)


def _without_second_names(paths: list[Path]) -> list[Path]:
    """Leave out a link to a guide the folder lists under its own name: read once, it is one guide."""
    targets: dict[Path, Path | None] = {}
    for path in paths:
        try:
            targets[path] = path.resolve(strict=True)
        except (OSError, RuntimeError):
            targets[path] = None  # a broken link stays: reading it says what is wrong
    chosen: dict[Path, Path] = {}
    for path, target in targets.items():
        # The file itself wins over links to it; between links, the first name.
        if target is not None and (target not in chosen or (chosen[target].is_symlink() and not path.is_symlink())):
            chosen[target] = path
    kept = []
    for path, target in targets.items():
        if target is None or chosen[target] == path:
            kept.append(path)
        else:
            logger.info("%s links to %s, which is read already; it is not indexed twice", path.name, chosen[target].name)
    return kept


def file_hashes(corpus_dir: Path) -> dict[str, str]:
    """SHA-256 of the bytes of every guide file and of the collection file, by file name.

    Files that cannot or may not be read (unreadable, outside the folder, not regular) hash to ''.
    """
    hashes = {}
    collection = corpus_dir / "collection.yaml"
    for path in [*guide_files(corpus_dir), *([collection] if collection.is_file() else [])]:
        try:
            hashes[path.name] = "" if confinement_problem(path) else hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            hashes[path.name] = ""
    return hashes


def confinement_problem(path: Path) -> str | None:
    """Why a file of the corpus folder (a guide, or the collection file) may not be read: not a
    regular file, or a link that leads out of the folder. None when it may (or when it does not
    exist: reading says so)."""
    try:
        mode = path.stat().st_mode
        resolved = path.resolve(strict=True)
    except OSError:
        return None
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, pipe or socket); only regular files in the folder are read"
    if path.parent.resolve() not in resolved.parents:
        return "is a link to a file outside the corpus folder; copy the guide into the folder instead"
    return None


def read_guide(path: Path, max_bytes: int = MAX_GUIDE_BYTES, limits: Limits | None = None) -> Document:
    """Read and parse one guide file (converting an HTML, PDF or DOCX page), turning every way it
    can be bad into a `CorpusError`; a page that cannot be converted is a problem marked `skipped`."""
    name = path.name
    if problem := confinement_problem(path):
        raise CorpusError(f"{name}: {problem}", [CorpusProblem(name, problem)])
    kind = kind_of(path)
    limits = limits or Limits()
    data = _read_bytes(path, limits.max_bytes if kind else max_bytes)
    page: bytes | str = data
    if kind is None:
        problem = _decode_problem(data)
        if problem is not None:
            raise CorpusError(str(CorpusProblem(name, *problem)), [CorpusProblem(name, *problem)])
        text = page = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        if looks_like_html(text):  # a saved web page under a text file's name: its tags are no text
            kind = "html"
    if kind is not None:
        try:
            text = convert(name, page, kind, limits)
        except ConversionError as error:
            found = CorpusProblem(name, str(error), skipped=True)
            raise CorpusError(str(found), [found]) from None
    # Control characters mean nothing in a guide, and in a terminal they are commands (colours,
    # cursor moves, hyperlinks): `guide ask` must print guide text as text too.
    text = without_controls(text)
    try:
        document = parse_guide(text, name, plain_text=False if kind else None)
    except ParseError as error:
        found = CorpusProblem(name, str(error), error.line)
        raise CorpusError(str(found), [found]) from None
    # Hash the bytes on disk so staleness checks agree with `file_hashes`.
    return Document(**{**document.__dict__, "sha256": hashlib.sha256(data).hexdigest(), "origin": kind or ""})


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            if kind_of(path) is not None:  # a page as saved: listed as skipped, never fatal
                message = f"the file is {size / 2**20:.3g} MB, over the {max_bytes / 2**20:.3g} MB limit for a page (ingest.max_page_mb)"
                raise CorpusError(f"{name}: {message}", [CorpusProblem(name, message, skipped=True)])
            message = f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for a guide; split it or remove it"
            raise CorpusError(f"{name}: {message}", [CorpusProblem(name, message)])
        return path.read_bytes()
    except OSError as error:
        message = f"cannot read the file ({error.strerror or error}); check its permissions"
        raise CorpusError(f"{name}: {message}", [CorpusProblem(name, message)]) from None


def _decode_problem(data: bytes) -> tuple[str, int | None] | None:
    if b"\x00" in data[:8192]:
        return "the file is binary, not text; guides are Markdown (.md), plain text (.txt), HTML, PDF or DOCX", None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return f"the file is not UTF-8 text (bad byte 0x{data[error.start]:02x}); save it as UTF-8", line
    return None


def load_corpus(corpus_dir: Path, skip_invalid: bool = False) -> tuple[list[Document], list[CorpusProblem]]:
    """Read every guide in `corpus_dir` (see `guide.ingest.files.read_corpus`, which also lists the
    files left out and the copies): the guides to index, and the files left out with why.

    Raises:
        CorpusError: the folder is missing or holds no valid guide, or (without `skip_invalid`) a guide is bad.
    """
    from guide.ingest.files import read_corpus

    reading = read_corpus(corpus_dir, skip_invalid=skip_invalid)
    return reading.documents, [*reading.problems, *reading.skipped]
