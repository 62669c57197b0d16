"""Conversion time per page: each shipped guide written out as an HTML page (with a menu and a
footer) and as a PDF (headings in larger type, text wrapped at 90 characters), then converted.

    PYTHONPATH=. .venv/bin/python bench/formats.py
"""

from __future__ import annotations

import html
import statistics
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guide.ingest.corpus import HEADING, load_corpus  # noqa: E402
from guide.ingest.formats import convert  # noqa: E402
from tests.pages import make_pdf  # noqa: E402


def as_html(title: str, text: str) -> str:
    body = []
    for line in text.split("\n"):
        if match := HEADING.match(line):
            level = len(match.group(1))
            body.append(f"<h{level}>{html.escape(match.group(2))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<ul><li>{html.escape(line[2:])}</li></ul>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    menu = "<nav><ul>" + "".join(f"<li><a href='/{n}'>Section {n}</a></li>" for n in range(40)) + "</ul></nav>"
    return (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>{menu}"
            f"<main><article>{''.join(body)}</article></main><footer>Copyright. Privacy.</footer></body></html>")


def as_pdf(text: str) -> bytes:
    lines: list[tuple[float, str]] = []
    for line in text.split("\n"):
        if match := HEADING.match(line):
            lines.append((22.0 - 3 * len(match.group(1)), match.group(2)))
        elif line.strip():
            lines += [(11.0, piece) for piece in textwrap.wrap(line, 90)]
    clean = [(size, _cp1252(piece)) for size, piece in lines]
    return make_pdf([clean[first : first + 40] for first in range(0, len(clean), 40)])


def _cp1252(text: str) -> str:
    return text.encode("cp1252", "ignore").decode("cp1252")


def main() -> None:
    documents, _ = load_corpus(ROOT / "corpus")
    for kind, make in (("html", lambda d: as_html(d.title, d.text).encode()), ("pdf", lambda d: as_pdf(d.text))):
        pages = [make(document) for document in documents]
        started = time.perf_counter()
        convert("first", pages[0], kind)  # imports the library
        first = time.perf_counter() - started
        times = []
        for _ in range(5):
            for page in pages:
                started = time.perf_counter()
                convert("page", page, kind)
                times.append(time.perf_counter() - started)
        size = statistics.mean(len(page) for page in pages) / 1024
        print(f"{kind}: {len(pages)} files of {size:.0f} KB on average: median {statistics.median(times) * 1000:.0f} ms a file, "
              f"max {max(times) * 1000:.0f} ms; the first (with the library's import) {first * 1000:.0f} ms")
        # What survives: the headings and the words of the guide's text.
        kept_headings = kept_words = 0
        for document, page in zip(documents, pages, strict=True):
            converted = convert("page", page, kind)
            # (The PDF's standard font has no emoji: they are left out of its headings.)
            headings = [_cp1252(m.group(2)).strip() for line in document.text.split("\n") if (m := HEADING.match(line))]
            kept_headings += sum(f" {heading}\n" in converted for heading in headings) / len(headings)
            words = document.text.split()
            kept_words += min(len(converted.split()) / len(words), 1.0)
        print(f"  headings kept {kept_headings / len(pages):.1%}, words kept {kept_words / len(pages):.1%}")


if __name__ == "__main__":
    main()
