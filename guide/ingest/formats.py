"""Pages in the formats a careers site saves them in (HTML, PDF, DOCX), turned into Markdown guides.

Each converter returns Markdown with YAML front matter (title, source, summary from the file's own
metadata) so that a converted page is parsed exactly as a written guide is, and the guide view
shows the converted text. Headings stay Markdown headings so chunking stays section-aware:
HTML's `<h1>`-`<h6>` (as trafilatura keeps them), DOCX's heading paragraph styles, and in a PDF
the lines set in a larger type than the body text. Anything that cannot be read raises
`ConversionError` with the reason, which the build lists. The libraries are imported lazily: only
a corpus that holds such files pays for them.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Suffix -> the format it is converted from.
CONVERTED = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx"}
# A text file that opens as an HTML document does (after a byte-order mark, an XML declaration,
# comments and white space) is an HTML page saved under another name.
_HTML_START = re.compile(
    r"\A\ufeff?\s*(?:<\?xml[^>]{0,200}\?>\s*)?(?:<!--.{0,2000}?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
    re.I | re.S,
)
_SPACE = re.compile(r"\s+")
_BULLET = re.compile(r"^[•▪◦‣●○■□–—*-]\s+")
_DOCX_HEADING = re.compile(r"^heading\s*([1-6])$", re.I)
_DOCX_LIST = re.compile(r"^list\b", re.I)
# A line ends a sentence (a paragraph may end there).
_SENTENCE_END = re.compile(r"[.!?:;)\"'”’]$")


class ConversionError(ValueError):
    """A page cannot be turned into a guide; the message says why (for the list of skipped files)."""


@dataclass(frozen=True)
class Limits:
    """How much a page may hold: bytes of the file (and unpacked, for a DOCX), pages of a PDF."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 500


def looks_like_html(text: str) -> bool:
    """Whether a text file is an HTML page (it opens with a doctype, `<html>`, `<head>` or `<body>`)."""
    return bool(_HTML_START.match(text[:8192]))


def convert(name: str, data: bytes | str, kind: str, limits: Limits | None = None) -> str:
    """The page `data` (of format `kind`: html, pdf or docx; HTML may be text) as a Markdown guide with front matter.

    Raises:
        ConversionError: the file is too large, damaged, encrypted, or holds no text.
    """
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise ConversionError(
            f"the file is {len(data) / 2**20:.3g} MB, over the {limits.max_bytes / 2**20:.3g} MB limit for a page "
            "(ingest.max_page_mb)"
        )
    converters = {"html": html_to_guide, "pdf": pdf_to_guide, "docx": docx_to_guide}
    try:
        meta, blocks = converters[kind](data, limits)
    except ConversionError:
        raise
    except ImportError as error:
        raise ConversionError(f"reading {kind.upper()} needs a library that is not installed ({error.name})") from None
    except Exception as error:  # a third-party parser on a file from anywhere: any failure means "unreadable"
        logger.debug("converting %s failed", name, exc_info=True)
        raise ConversionError(f"the {kind.upper()} file cannot be read ({type(error).__name__}); it may be damaged") from None
    body = "\n\n".join(block for block in blocks if block.strip())
    if not body.strip():
        raise ConversionError(_EMPTY[kind])
    return front_matter({**meta, "source": meta.get("source") or name}) + body + "\n"


_EMPTY = {
    "html": "the page has no main text (only menus, scripts or nothing at all)",
    "pdf": "the PDF has no text layer (a scanned image?); run it through OCR first",
    "docx": "the document has no text",
}


def front_matter(meta: dict[str, str]) -> str:
    """YAML front matter for the non-empty values of `meta` (quoted as YAML needs, one line each)."""
    import yaml

    kept = {key: " ".join(value.split()) for key, value in meta.items() if value and value.strip()}
    if not kept:
        return ""
    return "---\n" + yaml.safe_dump(kept, allow_unicode=True, sort_keys=False, width=1_000_000) + "---\n\n"


def _line(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def _block(text: str) -> str:
    """One paragraph as a guide line: a line that would read as a Markdown heading loses its #s."""
    return text.lstrip("#").lstrip() if text.startswith("#") else text


# ---------------------------------------------------------------- HTML


def html_to_guide(data: bytes | str, limits: Limits | None = None) -> tuple[dict[str, str], list[str]]:
    """The main text of an HTML page (trafilatura leaves out menus, footers and scripts), as Markdown
    blocks, and its title, canonical address and description."""
    import trafilatura

    extracted = trafilatura.bare_extraction(
        data,
        include_tables=True,
        include_links=False,
        include_images=False,
        include_formatting=False,
        include_comments=False,
        with_metadata=True,
    )
    if extracted is None or extracted.body is None:
        return {}, []
    meta = {"title": _line(extracted.title), "source": _line(extracted.url), "summary": _line(extracted.description)}
    return meta, list(_html_blocks(extracted.body))


def _html_blocks(body: Any) -> Iterator[str]:
    for element in body:
        tag = element.tag
        if tag == "head":
            level = re.sub(r"\D", "", element.get("rend", "")) or "2"
            if text := _line("".join(element.itertext())):
                yield f"{'#' * min(int(level), 6)} {text.lstrip('#').strip() or text}"
        elif tag == "list":
            items = [f"- {text}" for text in _list_items(element)]
            if items:
                yield "\n".join(items)
        elif tag == "table":
            yield from _table_rows([[_line("".join(cell.itertext())) for cell in row.iter("cell")] for row in element.iter("row")])
        elif text := _line("".join(element.itertext())):
            yield _block(text)


def _list_items(element: Any) -> Iterator[str]:
    """The items of a list, nested lists' items after their parent's own text (never twice)."""
    for item in element.iterchildren("item"):
        own = [item.text or ""]
        nested = []
        for child in item:
            if child.tag == "list":
                nested.append(child)
            else:
                own.append("".join(child.itertext()))
            own.append(child.tail or "")
        if text := _line("".join(own)):
            yield text
        for inner in nested:
            yield from _list_items(inner)


def _table_rows(rows: list[list[str]]) -> Iterator[str]:
    """A table as one line per row: "Header: cell; Header: cell." when the first row is a header."""
    rows = [row for row in rows if any(row)]
    if not rows:
        return
    header, *rest = rows
    if rest and all(header):
        for row in rest:
            yield "; ".join(f"{name}: {cell}" for name, cell in zip(header, row, strict=False) if cell) + "."
    else:
        for row in rows:
            yield "; ".join(cell for cell in row if cell)


# ---------------------------------------------------------------- PDF


def pdf_to_guide(data: bytes, limits: Limits) -> tuple[dict[str, str], list[str]]:
    """The text of a PDF with its headings (lines in a larger type than the body), and its metadata."""
    import pypdf

    # pypdf logs every oddity of a damaged file; the reason the file is skipped is enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ConversionError("the PDF is encrypted with a password; save an unprotected copy")
    if len(reader.pages) > limits.max_pages:
        raise ConversionError(f"the PDF has {len(reader.pages)} pages, over the limit of {limits.max_pages}")
    pages = [_pdf_lines(page) for page in reader.pages]
    info = reader.metadata or {}
    meta = {
        "title": _line(str(info.get("/Title") or "")),
        "summary": _line(str(info.get("/Subject") or "")),
        "source": _line(str(info.get("/Source") or info.get("/URL") or "")),
    }
    return meta, _pdf_blocks(_without_running_lines(pages))


def _pdf_lines(page: Any) -> list[tuple[str, float]]:
    """The lines of a page with the largest type size used on each."""
    lines: list[tuple[str, float]] = []
    current: list[str] = []
    size = 0.0

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        nonlocal size
        pieces = text.split("\n")
        for number, piece in enumerate(pieces):
            if number:
                lines.append(("".join(current), size))
                current.clear()
                size = 0.0
            if piece.strip():
                current.append(piece)
                scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
                size = max(size, round(float(font_size) * (scale or 1.0), 1))

    page.extract_text(visitor_text=visit)
    lines.append(("".join(current), size))
    return [(_line(text), size) for text, size in lines if _line(text)]


def _without_running_lines(pages: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    """The lines of all pages without page numbers and running headers or footers: a line among
    the first or last two of most pages (of three or more)."""
    edges = [{text for text, _ in lines[:2] + lines[-2:]} for lines in pages]
    counts = Counter(text for edge in edges for text in edge)
    running = {text for text, count in counts.items() if len(pages) >= 3 and count > len(pages) / 2}
    kept = []
    for lines in pages:
        last = len(lines) - 1
        for number, (text, size) in enumerate(lines):
            at_edge = number < 2 or number > last - 2
            if not text.isdigit() and not (at_edge and text in running):
                kept.append((text, size))
    return kept


def _pdf_blocks(lines: list[tuple[str, float]]) -> list[str]:
    """Lines joined into paragraphs and list items; larger type becomes `#` headings, by size."""
    weight: Counter[float] = Counter()
    for text, size in lines:
        weight[size] += len(text)
    body = weight.most_common(1)[0][0] if weight else 0.0
    sizes = sorted({size for text, size in lines if _pdf_heading(text, size, body)}, reverse=True)
    level = {size: min(rank + 1, 6) for rank, size in enumerate(sizes)}
    widest = max((len(text) for text, _ in lines), default=0)
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(_block(_joined(paragraph)))
            paragraph.clear()
        blocks.extend(_close_list(items))

    for text, size in lines:
        if size in level and _pdf_heading(text, size, body):
            close()
            blocks.append(f"{'#' * level[size]} {text.lstrip('#').strip() or text}")
        elif _BULLET.match(text):
            if paragraph:
                blocks.append(_block(_joined(paragraph)))
                paragraph.clear()
            items.append("- " + _BULLET.sub("", text))
        elif items and text[:1].islower():
            items[-1] = _joined([items[-1], text])  # a list item wrapped onto the next line
        else:
            blocks.extend(_close_list(items))
            paragraph.append(text)
            # A short line that ends a sentence usually ends its paragraph.
            if _SENTENCE_END.search(text) and len(text) < 0.8 * widest:
                close()
    close()
    return blocks


def _pdf_heading(text: str, size: float, body: float) -> bool:
    return body > 0 and size >= body * 1.15 and len(text) <= 120 and any(c.isalpha() for c in text)


def _joined(lines: list[str]) -> str:
    """Wrapped lines as one: a word hyphenated at a line's end is joined again."""
    out = lines[0]
    for line in lines[1:]:
        if out.endswith("-") and line[:1].islower():
            out = out[:-1] + line
        else:
            out += " " + line
    return out


# ---------------------------------------------------------------- DOCX


def docx_to_guide(data: bytes, limits: Limits) -> tuple[dict[str, str], list[str]]:
    """The paragraphs and tables of a Word document in order, headings from their styles, and its core properties."""
    import docx

    _check_archive(data, limits)
    document = docx.Document(io.BytesIO(data))
    blocks: list[str] = []
    items: list[str] = []
    first_title = ""
    # Below a "Title" paragraph, "Heading 1" is a section of it.
    shift = int(any(part.style is not None and part.style.name.lower() == "title" for part in document.paragraphs))
    for part in document.iter_inner_content():
        if hasattr(part, "rows"):  # a table
            blocks.extend(_close_list(items))
            blocks.extend(_table_rows([[_line(cell.text) for cell in row.cells] for row in part.rows]))
            continue
        text, style = _line(part.text), (part.style.name if part.style is not None else "") or ""
        if not text:
            continue
        heading = _DOCX_HEADING.match(style)
        if heading or style.lower() == "title":
            blocks.extend(_close_list(items))
            first_title = first_title or (text if style.lower() == "title" else "")
            blocks.append(f"{'#' * min(int(heading.group(1)) + shift, 6) if heading else '#'} {text.lstrip('#').strip() or text}")
        elif _DOCX_LIST.match(style) or _BULLET.match(text):
            items.append("- " + _BULLET.sub("", text))
        else:
            blocks.extend(_close_list(items))
            blocks.append(_block(text))
    blocks.extend(_close_list(items))
    core = document.core_properties
    meta = {
        "title": _line(core.title) or first_title,
        "source": _line(core.identifier),
        "summary": _line(core.subject),
    }
    return meta, blocks


def _close_list(items: list[str]) -> Iterable[str]:
    block = ["\n".join(items)] if items else []
    items.clear()
    return block


def _check_archive(data: bytes, limits: Limits) -> None:
    """A DOCX is a zip archive: refuse one that unpacks to more than the limit (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ConversionError("the DOCX file is not a Word document (not a zip archive); it may be damaged") from None
    if unpacked > 5 * limits.max_bytes:
        raise ConversionError(f"the DOCX file unpacks to {unpacked / 1e6:.0f} MB, over the limit for a page")


def kind_of(path: Path) -> str | None:
    """The format a file is converted from, by its suffix (None for Markdown, text and the unknown)."""
    return CONVERTED.get(path.suffix.lower())
