"""Markdown for the app and for exports, with every piece of corpus or user text escaped.

Streamlit renders Markdown (never raw HTML unless asked to); escaping every ASCII punctuation
mark makes corpus and user text appear literally: no links, images, formatting, LaTeX, colour
directives or tags. Some transforms run on the text after Markdown is parsed, so escapes cannot
stop them: autolinks (bare URLs, "www." names, e-mail addresses), emoji shortcodes (":smile:")
and icons (":material/home:"). An invisible word joiner breaks their patterns while the text
reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from guide.answer.records import Answer, Citation, Comparison, capitalised
from guide.ingest.corpus import HEADING

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'=^%@])")
_LIST = re.compile(r"^([ \t]*)[-*+][ \t]+")
HIGHLIGHT = ":orange-background[{}]"
JOINER = "\u2060"  # WORD JOINER: invisible, and not a word character
# Where autolinking, emoji shortcodes and icons would start: "://", "www.", "@" between word
# characters, ":" before a word (or "material/name") and a closing ":".
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=[\w.+-])(?=@\w)|(?<=:)(?=[\w+/-]+:)", re.I)


# An exported conversation is read in any Markdown viewer: only what could start a link, an
# image, emphasis, code, maths, a tag, an entity or a table cell is escaped, so "AI's" and
# "5-7 years" read as they are; marks at a line's start (headings, lists, quotes) likewise.
_EXPORT_MARKS = re.compile(r"([\\`*_\[\]<>$~|&])")
_EXPORT_LINE_START = re.compile(r"^([ \t]*)([#>+=-]|\d+(?=[.)]))", re.M)
_OWN_CITATION = re.compile(r"\\\[(\d{1,3})\\\](?![(:\[])")


def export_text(text: str) -> str:
    """`text` as readable Markdown that still displays exactly those characters (no live construct)."""
    escaped = _EXPORT_MARKS.sub(r"\\\1", _AUTOLINK.sub(JOINER, text))
    escaped = _EXPORT_LINE_START.sub(_escape_line_start, escaped)
    return escaped.replace("\n", "  \n")


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.groups()
    return indent + (mark + "\\" if mark.isdigit() else "\\" + mark)  # "1\\. …", "\\# …"


def export_with_citations(text: str) -> str:
    """`export_text`, with the answer's own `[n]` marks left readable (never followed by a link target)."""
    return _OWN_CITATION.sub(r"[\1]", export_text(text))


def escape_markdown(text: str) -> str:
    """`text` as Markdown that displays exactly those characters (line breaks kept)."""
    escaped = _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(JOINER, text))
    return escaped.replace("\n", "  \n")


def _escape_with_highlights(text: str, base: int, highlights: Sequence[tuple[int, int]]) -> str:
    """Escape one line of text starting at offset `base`, wrapping highlighted ranges."""
    marks = sorted(
        (max(start, base), min(end, base + len(text)))
        for start, end in highlights
        if start < base + len(text) and end > base
    )
    pieces, cursor = [], base
    for start, end in marks:
        if start < cursor:
            start = cursor
        if start >= end:
            continue
        pieces.append(escape_markdown(text[cursor - base : start - base]))
        pieces.append(HIGHLIGHT.format(escape_markdown(text[start - base : end - base])))
        cursor = end
    pieces.append(escape_markdown(text[cursor - base :]))
    return "".join(pieces)


def passage_markdown(text: str, base: int = 0, highlights: Sequence[tuple[int, int]] = ()) -> str:
    """Markdown of a guide passage or a whole guide (`text` starts at offset `base` of its guide).

    Headings become bold lines, list items stay list items, and the ranges in `highlights`
    (offsets into the guide) are highlighted.
    """
    out = []
    position = base
    for line in text.split("\n"):
        heading = HEADING.match(line)
        item = _LIST.match(line)
        if heading:
            start = position + heading.start(2)
            out.append(f"\n**{_escape_with_highlights(heading.group(2), start, highlights)}**\n")
        elif item:
            start = position + item.end()
            out.append(f"- {_escape_with_highlights(line[item.end() :], start, highlights)}")
        elif line.strip():
            # Without its indentation: four spaces would make a code block, which shows the escapes.
            lead = len(line) - len(line.lstrip())
            out.append(_escape_with_highlights(line[lead:], position + lead, highlights) + "\n")
        else:
            out.append("")
        position += len(line) + 1
    return "\n".join(out).strip()


def answer_markdown(answer: Answer) -> str:
    """The answer, escaped: a structured answer as its lead, then its cited points as a list
    (under a bold heading per guide when grouped); any other answer one paragraph per line."""
    if not answer.points:
        return "\n\n".join(escape_markdown(line) for line in answer.text.split("\n") if line.strip())
    lines = [escape_markdown(answer.lead), ""]
    group = None
    for point in answer.points:
        if point.group and point.group != group:
            group = point.group
            lines += ["", f"**{escape_markdown(group[:1].upper() + group[1:])}**", ""]
        facet = f"**{escape_markdown(point.facet[:1].upper() + point.facet[1:])}:** " if point.facet else ""
        lines.append(f"- {facet}{escape_markdown(point.text)} \\[{point.n}\\]")
    return "\n".join(lines)


def comparison_rows(comparison: Comparison) -> list[dict[str, str]]:
    """Rows for a table: the aspect, then one cell per role ("excerpt [n]", or a dash); plain text."""
    rows = []
    for row in comparison.rows:
        record = {"Aspect": capitalised(row.aspect)}
        for label, cell in zip(comparison.labels, row.cells, strict=True):
            record[capitalised(label)] = "—" if cell is None else f"{cell[0]} [{cell[1]}]"
        rows.append(record)
    return rows


def comparison_table(comparison: Comparison) -> list[dict[str, str]]:
    """`comparison_rows` with every header and cell escaped: tables render Markdown too."""
    return [
        {escape_markdown(key): escape_markdown(value) for key, value in row.items()}
        for row in comparison_rows(comparison)
    ]


def _answer_export(answer: Answer) -> list[str]:
    """An answer's lines in an export: readable text, its own `[n]` marks as they are."""
    if answer.comparison is not None:
        rows = comparison_rows(answer.comparison)
        header = list(rows[0]) if rows else []
        lines = [export_with_citations(answer.text.split("\n")[0]), ""]
        lines += ["| " + " | ".join(export_text(key) for key in header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(export_with_citations(row[key]) for key in header) + " |" for row in rows]
        return lines
    if not answer.points:
        paragraphs = [export_with_citations(line) for line in answer.text.split("\n") if line.strip()]
        return [line for paragraph in paragraphs for line in (paragraph, "")][:-1]
    lines, group = [export_with_citations(answer.lead), ""], None
    for point in answer.points:
        if point.group and point.group != group:
            group = point.group
            lines += ["", f"**{export_text(group[:1].upper() + group[1:])}**", ""]
        facet = f"**{export_text(point.facet[:1].upper() + point.facet[1:])}:** " if point.facet else ""
        lines.append(f"- {facet}{export_text(point.text)} [{point.n}]")
    return lines


def conversation_markdown(messages: Sequence[dict[str, Any]]) -> str:
    """A conversation as a readable Markdown document, each answer followed by its sources; text
    from the guides and from users is escaped just enough to stay text in any Markdown viewer."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Conversation with the career guide", "", f"Exported {stamp}.", ""]
    for message in messages:
        if message["role"] == "user":
            lines += [f"## {export_text(' '.join(message['content'].split()) or '(empty question)')}", ""]
            continue
        answer: Answer = message["answer"]
        if answer.interpretation.changed:
            lines += [f"*Interpreted as: {export_text(answer.interpretation.describe())}*", ""]
        lines += [*_answer_export(answer), ""]
        if not answer.refused:
            lines += [f"Confidence: {answer.level} ({answer.confidence:.2f})", ""]
        if answer.citations:
            lines += ["Sources:", ""]
            for citation in answer.citations:
                where = f"{export_text(citation.title)}, {export_text(citation.section)} ({export_text(citation.path)})"
                lines.append(f"{citation.n}. {where}")
                if citation.also_at:
                    lines += [f"   Also at: {export_text(', '.join(citation.also_at))}"]
                quoted = "\n".join("   > " + export_text(line) for line in citation.snippet.split("\n") if line.strip())
                lines += [quoted, ""]
    return "\n".join(lines).rstrip() + "\n"


def source_label(citation: Citation, guide: str = "", width: int = 40) -> str:
    """A short label for a source button, "[n] Guide · Section" (the innermost heading, cut to fit), escaped."""
    name = guide or citation.title
    name = name if len(name) <= width // 2 else name[: width // 2 - 1] + "…"
    section = citation.section.split(" > ")[-1]
    room = max(width - len(name), 12)
    section = section if len(section) <= room else section[: room - 1] + "…"
    return f"\\[{citation.n}\\] {escape_markdown(name)} · {escape_markdown(section)}"


def suggestion(closest: str) -> str:
    """A question to try instead, from a refusal's "title — section" (plain text, to be asked)."""
    title, _, section = closest.partition(" — ")
    return f"{section.strip()} ({title.strip()})" if section.strip() else title.strip()
