"""The maintainer's view of the corpus: what the last build indexed (and converted from which
format), which files it left out and why, and which guides it found to be copies of another.
It only renders; the listing is the index manifest's, read through `guide.index.load`."""

from __future__ import annotations

import streamlit as st

from guide.config import load_settings
from guide.errors import GuideError
from guide.index import index_status
from guide.index.load import corpus_listing
from guide.render import escape_markdown


def main() -> None:
    st.set_page_config(page_title="Guide: corpus", page_icon="🎓", layout="wide")
    st.title("Corpus", anchor=False)
    try:
        settings = load_settings()
        status = index_status(settings)
    except GuideError as problem:
        st.error(escape_markdown(str(problem)))
        st.stop()
    if status.error:
        st.error(escape_markdown(status.error))
        st.stop()
    if not status.exists:
        st.info("No index has been built yet; run `guide build` (or rebuild from the chat page).")
        st.stop()
    manifest = status.manifest or {}
    listing = corpus_listing(manifest)
    counts = manifest.get("counts", {})
    converted = sum(1 for entry in listing["files"] if entry.get("converted"))
    st.caption(
        f"Guides indexed: {counts.get('documents', 0)} ({converted} converted) · files skipped: {len(listing['skipped'])} · "
        f"groups of copies: {len(listing['duplicates'])} · built {escape_markdown(str(manifest.get('built_at')))}"
    )
    if not status.fresh:
        st.warning("Out of date: " + escape_markdown("; ".join(status.reasons)) + ".")
    # Data frames show their cells as plain text: nothing from the corpus is read as Markdown or HTML.
    st.subheader("Indexed", anchor=False)
    st.dataframe(
        [
            {
                "File": entry["path"],
                "Title": entry.get("title", ""),
                "Format": entry.get("format", ""),
                "Converted": "yes" if entry.get("converted") else "no",
                "Also at": ", ".join(entry.get("also_at", [])),
            }
            for entry in listing["files"]
        ],
        hide_index=True,
        width="stretch",
    )
    st.subheader("Skipped", anchor=False)
    if listing["skipped"]:
        rows = [{"File": entry["path"], "Why": entry.get("reason", "")} for entry in listing["skipped"]]
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.caption("No file was left out.")
    st.subheader("Copies", anchor=False)
    if listing["duplicates"]:
        rows = [
            {"Indexed": group["canonical"], "Copies": ", ".join(group["copies"]), "Similarity": group.get("similarity")}
            for group in listing["duplicates"]
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.caption("No guide is a copy of another.")


main()
