"""What the chat shows beside an answer's text (its sources, a refusal's suggestions), the
starter questions and the guide browser: Streamlit widgets, every guide and user text escaped."""

from __future__ import annotations

import streamlit as st

from guide.answer.records import capitalised
from guide.ingest.collection import Collection
from guide.render import escape_markdown, passage_markdown, source_label, suggestion
from guide.serve.chat import role_name


@st.dialog("Source in context", width="large")
def show_source(engine, citation) -> None:
    document = engine.index.documents[citation.doc_id]
    st.markdown(f"**{escape_markdown(document.title)}**")
    st.caption(f"{escape_markdown(citation.section)} · {escape_markdown(document.path)}")
    if citation.also_at:
        st.caption(f"Also at: {escape_markdown(', '.join(citation.also_at))}")
    with st.container(key="cited-guide"):
        st.markdown(passage_markdown(document.text, 0, citation.highlights or ((citation.start, citation.end),)))


def sources(engine, answer, key: str) -> None:
    """A compact source list: one `[n] guide · section` button per citation, opening its passage."""
    if not answer.citations:
        return
    st.caption("Sources (open one to read it in its guide):")
    with st.container(horizontal=True, key=f"sources-{key}", gap="small"):
        for citation in answer.citations:
            label = source_label(citation, capitalised(role_name(engine, citation.role)))
            opens = engine is not None and citation.doc_id in engine.index.documents
            tip = f"{escape_markdown(citation.title)} — {escape_markdown(citation.section)}"
            if st.button(label, key=f"{key}-open-{citation.n}", type="tertiary", disabled=not opens, help=tip):
                show_source(engine, citation)


def suggestions(answer, key: str) -> None:
    """A refusal's closest sections as questions to try, one click each."""
    if not answer.closest:
        return
    st.caption("Try one of these instead:")
    for number, closest in enumerate(answer.closest):
        question = suggestion(closest)
        st.button(escape_markdown(question), key=f"{key}-try-{number}", on_click=ask_later, args=(question,))


def ask_later(question: str, standalone: bool = False) -> None:
    st.session_state.pending = question
    st.session_state.pending_standalone = standalone
    st.session_state.view = "Chat"


def starters(collection: Collection) -> None:
    """The starter questions, in the main column (on a phone the sidebar is closed)."""
    st.caption("Try asking:")
    with st.container(key="starters"):
        for number, question in enumerate(collection.starters):
            # Button labels render Markdown (links, images, icons): the starter is shown as text.
            st.button(escape_markdown(question), key=f"starter-{number}", on_click=ask_later, args=(question,))


def guide_browser(engine) -> None:
    documents = sorted(engine.index.documents.values(), key=lambda doc: doc.title)
    chosen = st.selectbox("Guide", documents, format_func=lambda doc: doc.title)
    if chosen is not None:
        st.caption(
            f"{escape_markdown(role_name(engine, chosen.role))} · {escape_markdown(chosen.path)} · {escape_markdown(chosen.source)}"
        )
        if chosen.also_at:
            st.caption(f"Also at: {escape_markdown(', '.join(chosen.also_at))}")
        st.markdown(passage_markdown(chosen.text))
