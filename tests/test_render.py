from __future__ import annotations

import re

from guide.answer.records import Answer, Citation
from guide.ask.interpret import Interpretation
from guide.render import HIGHLIGHT, JOINER, answer_markdown, conversation_markdown, escape_markdown, passage_markdown


def _unescape(markdown: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", markdown.replace("  \n", "\n")).replace(JOINER, "")


def test_escaping_keeps_every_character_literal():
    nasty = "<script>alert('x')</script> **bold** [link](http://x) ![img](http://y) $x$ :red[hi] # h | a"
    escaped = escape_markdown(nasty)
    assert "<script>" not in escaped and "](" not in escaped and "**" not in escaped and ":red[" not in escaped
    assert _unescape(escaped) == nasty


def test_addresses_and_shortcodes_are_broken_where_markdown_would_link_or_replace_them():
    escaped = escape_markdown("Visit https://a.io, www.b.org or mail me@c.net :smile: at 10:30.")
    assert f"https\\:{JOINER}//" in escaped and f"www{JOINER}\\." in escaped and f"me{JOINER}\\@c" in escaped
    assert f"\\:{JOINER}smile\\:" in escaped and "10\\:30" in escaped
    # Streamlit turns ":material/name:" into an icon after parsing, like an emoji shortcode.
    assert f"\\:{JOINER}material/home\\:" in escape_markdown("Go :material/home: now")


def test_passage_highlights_the_cited_sentence_only():
    text = "First sentence. Second sentence.\n- item <b>x</b>"
    markdown = passage_markdown(text, base=100, highlights=[(116, 132)])
    assert HIGHLIGHT.format(escape_markdown("Second sentence.")) in markdown
    assert markdown.startswith("First sentence\\. ")
    assert "- item \\<b\\>x\\</b\\>" in markdown


def test_headings_in_a_guide_become_bold_escaped_lines():
    assert passage_markdown("## Pay *now*\n\nText.") == "**Pay \\*now\\***\n\n\nText\\."


def _answer(text: str) -> Answer:
    citation = Citation(1, "d", "T<i>", "r", "S", "corpus/d.md", "snippet <script>", 0, 7)
    return Answer(
        "q <b>", Interpretation("q <b>", "q", "q"), text, refused=False, confidence=0.9, citations=(citation,)
    )


def test_answer_and_export_escape_corpus_and_user_text():
    answer = _answer("Use <script>alert(1)</script> now [1]")
    assert "<script>" not in answer_markdown(answer)
    exported = conversation_markdown([{"role": "user", "content": "q <b>"}, {"role": "assistant", "answer": answer}])
    assert "<script>" not in exported and "<b>" not in exported and "<i>" not in exported
    assert "Sources:" in exported and "(corpus/d.md)" in exported and "now [1]" in exported and "Confidence: high (0.90)" in exported


EXPORT_HOSTILE = (
    "A PhD [site](http://127.0.0.1/x) ![px](http://127.0.0.1/p.png) **BOLD** _it_ `code` $x^2$ <img src=x> "
    "<a href=y>t</a> &amp; &#60; https://a.io www.b.org me@c.net :smile: a|b ~~del~~ [1]: http://z [2](u) [3][4]\n"
    "# Heading\n- item\n1. first\n> quote\n---\n===\n+ plus"
)


def test_exported_text_renders_as_exactly_its_characters_in_a_commonmark_viewer():
    import html

    from markdown_it import MarkdownIt

    from guide.render import export_text, export_with_citations

    viewer = MarkdownIt("gfm-like") if _has_linkify() else MarkdownIt("commonmark").enable("table").enable("strikethrough")
    for render in (export_text, export_with_citations):
        shown = viewer.render(render(EXPORT_HOSTILE))
        tags = set(re.findall(r"</?([a-z0-9]+)", shown))
        assert tags <= {"p", "br"}, (tags, shown)
        text = html.unescape(re.sub(r"<[^>]+>", "", shown)).replace(JOINER, "")
        assert " ".join(text.split()) == " ".join(EXPORT_HOSTILE.split())


def test_exported_text_keeps_ordinary_punctuation_readable():
    from guide.render import export_with_citations

    line = "Assistant professors (AI's) hold 5-7 years posts, e.g. 40-50% teaching! [1] [12]."
    assert export_with_citations(line) == line


def _has_linkify() -> bool:
    try:
        import linkify_it  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_point_with_a_label_of_its_own_is_not_labelled_twice():
    from guide.answer.records import Point

    assert Point("Soft skills: communication and teamwork.", 2, facet="skills").line() == (
        "- Soft skills: communication and teamwork. [2]"
    )
    assert Point("A PhD is essential.", 1, facet="qualifications").line() == "- Qualifications: A PhD is essential. [1]"
