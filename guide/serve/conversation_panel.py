"""The app's conversations: the store shared by its sessions, the address, the sidebar's list.

Streamlit only; what is stored, and how, is `guide.serve.conversations`.
"""

from __future__ import annotations

import streamlit as st

from guide.config import Settings
from guide.render import conversation_markdown, escape_markdown
from guide.serve import page
from guide.serve.conversations import ConversationsUnavailable, new_id, valid_id


@st.cache_resource(show_spinner=False)
def _conversation_store(url: str, days: float, _settings: Settings):
    from guide.serve.conversations import open_store

    return open_store(_settings)


def conversation_store(settings: Settings):
    """The store shared by the sessions, or None when conversations are not kept (or cannot be)."""
    keep = settings.conversations
    if keep.retention_days <= 0:
        return None
    try:
        return _conversation_store(keep.url or settings.feedback.url, keep.retention_days, settings)
    except ConversationsUnavailable as error:
        st.warning(f"Conversations are not kept: {escape_markdown(str(error))}")
        return None


def browser_id() -> str:
    """This browser's random id: from its cookie, else a new one (the page script stores it)."""
    if not valid_id(st.session_state.get("browser")):
        st.session_state.browser = valid_id(st.context.cookies.get(page.BROWSER_COOKIE)) or new_id()
    return st.session_state.browser


def stored_messages(store, conversation: str) -> list[dict]:
    messages: list[dict] = []
    try:
        turns = store.turns(conversation)
    except ConversationsUnavailable as error:
        st.warning(f"The conversation could not be loaded: {escape_markdown(str(error))}")
        return messages
    for question, answer in turns:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "answer": answer}]
    return messages


def follow_address(store) -> None:
    """Show the conversation the address names (`?c=`), loading it on a reload or in a new tab."""
    wanted = valid_id(st.query_params.get("c"))
    if wanted is None or st.session_state.get("conversation") == wanted:
        return
    st.session_state.conversation = wanted
    st.session_state.messages = stored_messages(store, wanted) if store is not None else []


def start_new_conversation() -> None:
    st.session_state.conversation = None
    st.session_state.messages = []
    st.query_params.clear()


def what_is_kept(settings: Settings, store) -> str:
    days = settings.conversations.retention_days
    if store is None:
        return "Conversations are not kept: this one lasts as long as this tab."
    return (
        f"Kept on this server for {days:g} days after the last question, under a random id in this page's "
        "address and a random id for this browser (a cookie); no name, no account. Refused, low-confidence "
        "and rated answers are also kept, without the conversation, to improve the guides."
    )


def conversation_panel(settings: Settings, store, browser: str) -> None:
    """This browser's conversations: open, share, delete, delete all; export; what is kept."""
    st.header("Conversations")
    st.button("New conversation", key="new-conversation", on_click=start_new_conversation, icon=":material/add:")
    messages = st.session_state.get("messages", [])
    if messages:
        st.download_button(
            "Download conversation (Markdown)",
            conversation_markdown(messages),
            file_name="career-guide-conversation.md",
            mime="text/markdown",
        )
    if store is not None:
        conversation_list(store, browser)
    st.caption(what_is_kept(settings, store))


def conversation_list(store, browser: str) -> None:
    try:
        listed = store.list(browser)
    except ConversationsUnavailable as error:
        st.caption(escape_markdown(str(error)))
        return
    current = st.session_state.get("conversation")
    for summary in listed:
        with st.container(horizontal=True, key=f"conversation-{summary.id}"):
            label = escape_markdown(summary.title) + (" (open)" if summary.id == current else "")
            if st.button(label, key=f"open-{summary.id}", type="tertiary", width="stretch"):
                st.query_params["c"] = summary.id
                st.rerun()
            if st.button("Delete", key=f"delete-{summary.id}", icon=":material/delete:", type="tertiary"):
                store.delete(summary.id, browser)
                if summary.id == current:
                    start_new_conversation()
                st.rerun()
    if current and any(summary.id == current for summary in listed):
        share = next(summary.share for summary in listed if summary.id == current)
        st.caption("Read-only link to this conversation:")
        st.code(f"{(st.context.url or '').split('?')[0]}?share={share}", language=None)
    if listed:
        confirm = st.checkbox("Delete all my conversations", key="confirm-delete-all")
        if confirm and st.button("Delete all", key="delete-all", type="primary"):
            store.delete_all(browser)
            start_new_conversation()
            st.session_state.pop("confirm-delete-all", None)
            st.rerun()


def save_turns(store, conversation: str, browser: str, turn: tuple) -> None:
    """Store this turn, after any the database could not take before (kept in order meanwhile)."""
    waiting = st.session_state.setdefault("unsaved", [])
    waiting.append((conversation, *turn))
    try:
        while waiting:
            store.add_turn(waiting[0][0], browser, *waiting[0][1:])
            waiting.pop(0)
    except ConversationsUnavailable as error:
        st.warning(f"Not saved yet (it will be with the next question): {escape_markdown(str(error))}")


def catch_up(store, conversation: str) -> None:
    """The turns another tab (or replica) added meanwhile, so follow-ups read them too."""
    waiting = [turn[1:] for turn in st.session_state.get("unsaved", []) if turn[0] == conversation]
    try:
        # Counted first: a long conversation is read whole only when another tab added to it.
        if store.turn_count(conversation) + len(waiting) <= len(st.session_state.messages) // 2:
            return
        stored = store.turns(conversation)
    except ConversationsUnavailable:
        return  # the database is away: the page's own turns stand
    turns = stored + waiting
    if len(turns) > len(st.session_state.messages) // 2:
        st.session_state.messages = [
            message
            for question, answer in turns
            for message in ({"role": "user", "content": question}, {"role": "assistant", "answer": answer})
        ]
