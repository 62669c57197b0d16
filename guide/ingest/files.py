"""What becomes of each file of a corpus folder: indexed (as written or converted), left out with
the reason, or a copy of another guide. The build indexes `documents` and records the rest in its
manifest, where `guide status --json` and the app's corpus page read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guide.config import IngestSettings
from guide.errors import CorpusError, CorpusProblem
from guide.ingest.collection import COLLECTION_FILE
from guide.ingest.corpus import GUIDE_SUFFIXES, Document, guide_files, read_guide
from guide.ingest.duplicates import DuplicateGroup, find_duplicates, keep_canonical
from guide.ingest.formats import Limits
from guide.language import DEFAULT, Language

UNKNOWN_FORMAT = "is not a format guides are read from (Markdown, plain text, HTML, PDF or DOCX); it is left out"


@dataclass
class CorpusReading:
    """The corpus as read: the guides to index and every file left out, with why."""

    documents: list[Document]
    # Bad guides (a malformed front matter, an empty file): left out only with --skip-invalid.
    problems: list[CorpusProblem] = field(default_factory=list)
    # Files that cannot be read at all (an encrypted or scanned PDF, an unknown format): always left out.
    skipped: list[CorpusProblem] = field(default_factory=list)
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    # The copies' SHA-256, by file name: the index is built from them too (by way of their canonical guide).
    copies: dict[str, str] = field(default_factory=dict)

    def listing(self) -> dict[str, Any]:
        """Files indexed (with their format), skipped (with why) and duplicate groups, as JSON."""
        return {
            "files": [file_entry(doc) for doc in sorted(self.documents, key=lambda doc: doc.path)],
            "skipped": [
                {"path": problem.path, "reason": problem.message, **({"line": problem.line} if problem.line else {})}
                for problem in sorted([*self.problems, *self.skipped], key=lambda problem: problem.path)
            ],
            "duplicates": [group.to_json() for group in self.duplicates],
        }


def file_entry(document: Document) -> dict[str, Any]:
    """One indexed file: its name, its guide, the format it was read from and whether it was converted."""
    suffix = Path(document.path).suffix.lower()
    written = "text" if suffix == ".txt" else "markdown"
    return {
        "path": document.path,
        "doc_id": document.doc_id,
        "title": document.title,
        "format": document.origin or written,
        "converted": bool(document.origin),
        "also_at": list(document.also_at),
    }


def other_files(corpus_dir: Path) -> list[Path]:
    """Files of the folder that are neither guides nor the collection file (hidden and backup files aside)."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        path
        for path in corpus_dir.iterdir()
        if path.suffix.lower() not in GUIDE_SUFFIXES
        and path.name != COLLECTION_FILE
        and not path.name.startswith((".", "~", "#"))
        and not path.name.endswith("~")
        and not path.is_dir()
    )


def read_corpus(
    corpus_dir: Path,
    skip_invalid: bool = False,
    settings: IngestSettings | None = None,
    language: Language = DEFAULT,
) -> CorpusReading:
    """Read, convert and check every guide of `corpus_dir`; group near-duplicates, keeping one of each.

    Args:
        corpus_dir: the folder of guides.
        skip_invalid: leave bad guides out (listed in `problems`) instead of raising.
        settings: size limits of pages and the near-duplicate rule.
        language: the guides' language (how words are told apart, how copies are named).

    Raises:
        CorpusError: the folder is missing or holds no valid guide, or (without `skip_invalid`) a guide is bad.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"The corpus folder {corpus_dir} does not exist; create it and add .md guides, or set --corpus."
        )
    settings = settings or IngestSettings()
    limits = Limits(max_bytes=int(settings.max_page_mb * 1024 * 1024), max_pages=settings.max_pdf_pages)
    reading = CorpusReading(documents=[])
    for path in guide_files(corpus_dir):
        try:
            reading.documents.append(read_guide(path, limits=limits))
        except CorpusError as error:
            for problem in error.problems:
                (reading.skipped if problem.skipped else reading.problems).append(problem)
    reading.skipped.extend(CorpusProblem(path.name, UNKNOWN_FORMAT, skipped=True) for path in other_files(corpus_dir))
    reading.duplicates = find_duplicates(reading.documents, settings, language)
    copies = {path for group in reading.duplicates for path in group.copies}
    reading.copies = {doc.path: doc.sha256 for doc in reading.documents if doc.path in copies}
    reading.documents = keep_canonical(reading.documents, reading.duplicates)
    reading.problems.extend(_duplicate_ids(reading.documents))
    if reading.problems and not skip_invalid:
        listing = "\n".join(f"  {problem}" for problem in reading.problems)
        raise CorpusError(
            f"{len(reading.problems)} guide file(s) cannot be indexed:\n{listing}\n"
            "Fix them, or build with --skip-invalid to index only the valid guides.",
            reading.problems,
        )
    bad = {problem.path for problem in reading.problems}
    reading.documents = [doc for doc in reading.documents if doc.path not in bad]
    if not reading.documents:
        raise CorpusError(
            f"No valid guides in {corpus_dir}; add .md, .txt, .html, .pdf or .docx files.",
            [*reading.problems, *reading.skipped],
        )
    return reading


def _duplicate_ids(documents: list[Document]) -> list[CorpusProblem]:
    first: dict[str, str] = {}
    problems = []
    for doc in documents:
        if doc.doc_id in first:
            problems.append(
                CorpusProblem(
                    doc.path, f"duplicate guide id {doc.doc_id!r}, also used by {first[doc.doc_id]}; rename one"
                )
            )
        else:
            first[doc.doc_id] = doc.path
    return problems
