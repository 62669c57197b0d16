"""Answer material: which sentences of a guide may be quoted in an answer, decided at build time.

Career pages carry text that is about the page, not about the career: navigation ("Browse
openings…"), calls to action ("Ready to…?", "post a job"), pointers to other pages ("read
how to…", "details here") and the page summary repeated under the title. Such sentences stay
in the guide (the guide view shows everything) but never become answer sentences.

The decision adds up general signals of web-page boilerplate, each worth a point; two points
mark a sentence as boilerplate, and echoing the page summary or opening the page with a
fragment about the page marks it outright. None of the signals names a guide or a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from guide.ingest.chunking import Span, split_sections
from guide.ingest.corpus import Document, without_reference_marks

# Verbs that send the reader somewhere else when they open a sentence in the imperative.
_NAVIGATION_VERBS = (
    "browse explore discover search visit click sign subscribe register download check read see view find "
    "learn dive launch join review"
).split()
_LEAD_IN = r"(?:(?:also|or|then|finally|so|now|next|and|please)\s*,?\s+|for\s+[^,]{2,60},\s+)?"
_NAVIGATION_START = re.compile(rf"^{_LEAD_IN}(?:{'|'.join(_NAVIGATION_VERBS)})\b(?!\s+(?:committees?|engines?)\b)", re.I)
# Things on a website rather than in a career.
_SITE_OBJECTS = re.compile(
    r"\b(?:openings|vacanc(?:y|ies)|listings?|job alerts?|alerts?|newsletter|mailing list|post(?:ing)? a job"
    r"|career advice|advice|tips|hub|page|website|site|template|e-?mail|interview series|[\w-]+\.(?:com|org|net)"
    r"|(?:higher[- ]ed|university|faculty|part-time|research|professor|teaching) jobs|jobs)\b",
    re.I,
)
# Phrases that point at another page or at this one.
_POINTERS = re.compile(
    r"\b(?:read more|learn more|find out more|details here|detailed here|click here|see also|you may also like"
    r"|our guides?|check out|for more|for a (?:detailed|broader|closer|full) (?:look|view)|for (?:detailed )?insights"
    r"|for inspiration|everything you need to know|this (?:guide|article|page|post)"
    r"|(?:via|with|in|from) (?:our )?(?:advice|tips|insights|guidance) (?:in|on|from)"
    r"|(?:check|read|see|learn|discover)\s+(?:how|what|why|more|about|our)\b)",
    re.I,
)
# A closing summary ("In summary, …"), a teaser claim ("… offer a dynamic path") and a rhetorical
# call ("Ready to …?").
_SUMMARY_OPENING = re.compile(r"^(?:in summary|to sum up|in conclusion|in short)\b", re.I)
_TEASER_CLAIM = re.compile(
    r"\boffers?\s+(?:an?\s+)?(?:dynamic|rewarding|exciting|thriving|fulfilling|intellectual|great|unique)\b", re.I
)
_RHETORICAL = re.compile(r"^ready (?:to|for)\b", re.I)
# Headings of a page's closing summary: everything under them repeats the page.
_SUMMARY_HEADING = re.compile(r"^(?:summary|in summary|conclusions?|key takeaways|final thoughts|wrapping up)\b", re.I)
# Headings of sections that close a page: "Ready for …?", "Next steps", "Summary", "Find a postdoc".
_CALL_TO_ACTION_HEADING = re.compile(
    rf"^(?:ready\b|next steps?\b|get started|stay (?:informed|updated)|related\b|see also|more\b|summary\b|in summary"
    rf"|conclusion|apply\b|join\b|{'|'.join(_NAVIGATION_VERBS)}\b)",
    re.I,
)
# A page's opening fragment about itself: "A short guide to…", "What X do, and how to become one."
_ABOUT_THE_PAGE = re.compile(
    r"^(?:(?:an?|the|your)\s+(?:\w+\s+)?(?:guide|introduction|overview|primer|look|handbook)\s+(?:to|on|for|of|at)\b"
    r"|everything you need to know)",
    re.I,
)
_WH_FRAGMENT = re.compile(r"^(?:what|how|why|where|who|when)\b.*[^?]$", re.I)
_WORDS = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def _echoes(text: str, summary: str) -> bool:
    """Whether a sentence repeats (most of) the page summary."""
    words = _words(text)
    if len(words) < 4 or not summary:
        return False
    for piece in re.split(r"(?<=[.!?])\s+", summary):
        other = _words(piece)
        if other and len(words & other) / len(words | other) >= 0.6:
            return True
    return False


def boilerplate_score(text: str, *, closing_section: bool = False) -> int:
    """How many boilerplate signals a sentence shows (two or more make it boilerplate)."""
    stripped = text.strip().lstrip("-*• ").strip()
    return (
        bool(_NAVIGATION_START.search(stripped))
        + bool(_SITE_OBJECTS.search(stripped))
        + bool(_POINTERS.search(stripped))
        + bool(_SUMMARY_OPENING.search(stripped))
        + bool(_TEASER_CLAIM.search(stripped))
        + bool(_RHETORICAL.search(stripped))
        + closing_section
    )


def is_boilerplate(text: str, *, summary: str = "", lead: bool = False, closing_section: bool = False) -> bool:
    """Whether a sentence is navigation, a call to action or the page summary (not answer material).

    Args:
        text: the sentence or list item.
        summary: the guide's one-line summary, which pages repeat under their title.
        lead: the sentence opens the page, before its first section.
        closing_section: its section's heading is a call to action or a summary.
    """
    stripped = text.strip()
    if _echoes(stripped, summary):
        return True
    if lead and (_ABOUT_THE_PAGE.search(stripped) or _WH_FRAGMENT.search(stripped) or _NAVIGATION_START.search(stripped)):
        return True
    return boilerplate_score(stripped, closing_section=closing_section) >= 2


def mark_material(document: Document, spans: Sequence[Span]) -> list[Span]:
    """`spans` of one guide with `material` set (False for navigation, calls to action and
    summaries) and `quote` set where reference marks had to be taken out."""
    sections = split_sections(document.text)
    marked = []
    for span in spans:
        section = next((s for s in sections if s.start <= span.start < s.end), None)
        headings = section.headings if section else ()
        lead = section is not None and section is sections[0] and len(headings) <= 1
        innermost = re.sub(r"^[^\w]+", "", headings[-1]) if headings else ""
        closing = len(headings) > 1 and bool(_CALL_TO_ACTION_HEADING.search(innermost))
        summary = len(headings) > 1 and bool(_SUMMARY_HEADING.search(innermost))
        boilerplate = summary or is_boilerplate(span.text, summary=document.summary, lead=lead, closing_section=closing)
        quote = without_reference_marks(span.text)
        marked.append(replace(span, material=not boilerplate, quote=quote if quote != span.text else ""))
    return marked
