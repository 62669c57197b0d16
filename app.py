"""The chat app: `streamlit run app.py` (or `make run`). It only renders; the logic is in `guide/`."""

from __future__ import annotations

import streamlit as st

from guide.answer.base import Stage, Text
from guide.answer.records import capitalised
from guide.config import Settings, load_settings
from guide.errors import GuideError
from guide.index import index_status
from guide.ingest.collection import Collection
from guide.render import (
    answer_markdown,
    comparison_table,
    escape_markdown,
)
from guide.serve import page
from guide.serve.answer_view import ask_later, guide_browser, sources, starters, suggestions
from guide.serve.chat import collection_of, previous_interpretation, role_name, status_signature, too_long
from guide.serve.conversation_panel import (
    browser_id,
    catch_up,
    conversation_panel,
    conversation_store,
    follow_address,
    save_turns,
    stored_messages,
)
from guide.serve.conversations import new_id, valid_id
from guide.serve.feedback import automatic_kind, feedback_record
from guide.serve.visitor import public_message, unexpected_error

BADGES = {
    "high": ("High confidence", "green"),
    "medium": ("Medium confidence", "orange"),
    "low": ("Low confidence", "red"),
}
STAGES = {
    "understanding": "Understanding the question…",
    "searching": "Searching the guides…",
    "writing": "Writing the answer…",
}

@st.cache_resource(show_spinner="Loading the embedding model…")
def get_embedder(model: str, _settings: Settings):
    from guide.index.embedding import load_embedder

    return load_embedder(_settings.embedding)


@st.cache_resource(show_spinner=False)
def _feedback_writer(url: str, spool: str, legacy: str, origin: str, _settings: Settings):
    from guide.serve.feedback_store import open_writer

    return open_writer(_settings)


def record_feedback(settings: Settings, kind: str, answer, key: str = "") -> None:
    """Store a feedback record through the writer shared by the sessions (never blocks the answer).

    In a kept conversation the record's id is derived from the conversation, the answer and the
    kind: a page that reconnects to another replica sends its thumbs again, and the database
    keeps the first one only.
    """
    import hashlib

    from guide.serve import serving

    feedback = settings.feedback
    try:
        writer = serving.feedback_writer() or _feedback_writer(
            feedback.url, str(feedback.spool), str(settings.feedback_file), feedback.origin, settings
        )
        record = feedback_record(kind, answer)
        if key and (conversation := st.session_state.get("conversation")):
            record["id"] = hashlib.sha256(f"{conversation} {key} {kind}".encode()).hexdigest()[:32]
        writer.submit(record)
    except (GuideError, OSError) as error:
        st.error(f"Feedback could not be recorded: {escape_markdown(public_message(str(error)))}")


@st.cache_resource(show_spinner="Loading the index…")
def get_engine(index_dir: str, model: str, settings_key: str, _settings: Settings):
    # `settings_key` (the settings as text): other settings are another engine, not the cached one.
    from guide.engine import Engine
    from guide.index import load_index

    return Engine(_settings, get_embedder(model, _settings), load_index(_settings.index_dir, model=model))


@st.cache_data(max_entries=4, show_spinner=False)
def cached_status(_settings: Settings, signature: tuple):
    """Index status, hashed again only when a guide or the index changed (not on every rerun)."""
    return index_status(_settings)


def engine_or_error(settings: Settings):
    from guide.serve import serving

    try:
        # A replica (`python -m guide.serve.replica`) loaded its engine before opening its port.
        engine = serving.preloaded(settings) or get_engine(str(settings.index_dir), settings.embedding.model, repr(settings), settings)
    except GuideError as error:
        return None, public_message(str(error))
    # A build elsewhere (`guide build`, or another replica's maintainer) published a new index:
    # switch to it between questions, keeping the conversation.
    engine.refresh()
    return engine, None


def rebuild(settings: Settings, engine) -> None:
    from guide.index import APP_REBUILD, build_index

    lock = APP_REBUILD
    if not lock.acquire(blocking=False):
        st.warning("A rebuild is already running; the index will switch to it when it is done.")
        return
    bar = st.progress(0.0, text="Rebuilding the index…")
    try:
        report = build_index(
            settings,
            get_embedder(settings.embedding.model, settings),
            progress=lambda phase, f: bar.progress(min(f, 1.0), text=f"Rebuilding: {phase}…"),
        )
    except GuideError as error:
        bar.empty()
        st.session_state.build_error = public_message(str(error))
        return
    finally:
        lock.release()
    st.session_state.build_error = None
    st.session_state.build_message = (
        f"Rebuilt: {report.documents} guides, {report.chunks} chunks ({report.chunks_added} new or changed, "
        f"{report.chunks_removed} removed, {report.chunks_reused} reused)."
    )
    if engine is not None:
        engine.reload()
    else:
        get_engine.clear()
    st.rerun()


def rebuild_button(settings: Settings, engine, key: str) -> None:
    if not settings.ui.rebuild_allowed(st.get_option("server.address")):
        st.caption("Rebuilding is turned off here; ask the maintainer to run `guide build`.")
        return
    from guide.index import APP_REBUILD

    running = APP_REBUILD.locked()
    if running:
        st.caption("A rebuild is running; the index switches to it when it is done.")
    if st.button("Rebuild index", key=key, type="primary", disabled=running):
        rebuild(settings, engine)


def render_answer(settings: Settings, engine, answer, key: str, read_only: bool = False) -> None:
    if answer.notice:
        st.info(escape_markdown(answer.notice))
    if answer.interpretation.changed or answer.interpretation.compare:
        st.caption(f"Interpreted as: {escape_markdown(answer.interpretation.describe())}")
        if answer.interpretation.changed and not read_only:
            st.button("Ask it on its own instead", key=f"{key}-standalone", on_click=ask_later, args=(answer.question, True))
    if not answer.refused:
        label, color = BADGES[answer.level]
        st.badge(f"{label} ({answer.confidence:.2f})", color=color)
    if answer.comparison is not None:
        st.markdown(escape_markdown(answer.text.split("\n")[0]))
        st.table(comparison_table(answer.comparison))
    else:
        st.markdown(answer_markdown(answer))
    if answer.refused and not read_only:
        suggestions(answer, key)
    sources(engine, answer, key)
    if answer.interpretation.query and not read_only:
        rating = st.feedback("thumbs", key=f"{key}-feedback")
        recorded = st.session_state.setdefault("rated", {})
        if rating is not None and recorded.get(key) != rating:
            recorded[key] = rating
            record_feedback(settings, "thumbs-up" if rating == 1 else "thumbs-down", answer, key)


def index_panel(settings: Settings, engine) -> object:
    st.header("Index")
    status = cached_status(settings, status_signature(settings))
    if engine is not None:
        manifest = engine.index.manifest
        counts = manifest.get("counts", {})
        st.markdown(
            f"**Guides:** {counts.get('documents')} · **Chunks:** {counts.get('chunks')}  \n"
            f"**Model:** {escape_markdown(str(manifest.get('model')))}  \n"
            f"**Built:** {escape_markdown(str(manifest.get('built_at')))}"
        )
        st.markdown("**Status:** " + ("fresh" if status.fresh else "out of date"))
    if settings.feedback.origin:
        st.caption(f"Served by {escape_markdown(settings.feedback.origin)}")
    if st.session_state.get("build_message"):
        st.success(st.session_state.build_message)
    if engine is not None:
        rebuild_button(settings, engine, "sidebar-rebuild")
    return status


def answer_options(settings: Settings, engine) -> tuple[list[str], int]:
    st.header("Answer from")
    roles = engine.index.roles if engine is not None else []
    choice = st.selectbox(
        "Guides",
        ["All roles", *roles],
        format_func=lambda r: r if r == "All roles" else capitalised(role_name(engine, r)),
    )
    k = st.slider("Passages to draw from", 1, 10, settings.retrieval.k)
    return ([] if choice == "All roles" else [choice]), k


def show_messages(settings: Settings, engine, messages: list[dict], read_only: bool = False) -> None:
    for number, message in enumerate(messages):
        with st.chat_message(message["role"]):
            if message["role"] == "user":
                st.markdown(escape_markdown(message["content"]) or "*(empty question)*")
            else:
                render_answer(settings, engine, message["answer"], f"answer-{number}", read_only)


def shared_view(settings: Settings, engine, store, token: str) -> None:
    """A conversation opened by its share link: shown, never continued."""
    conversation = store.by_share(token) if store is not None else None
    if conversation is None:
        st.warning("This shared conversation is not here (deleted, or past its retention).")
    else:
        st.info("A shared conversation, read-only.")
        with st.container(key="chat-log"):
            show_messages(settings, engine, stored_messages(store, conversation), read_only=True)
    st.link_button("Start a conversation of your own", "./")


def answer_question(settings: Settings, engine, store, browser: str, ask: tuple) -> None:
    """Answer in the chat log: the status at once, then the answer, stored under the conversation."""
    question, standalone, k, roles = ask
    with st.chat_message("user"):
        st.markdown(escape_markdown(question) or "*(empty question)*")
    with st.chat_message("assistant"):
        status = st.status(STAGES["understanding"])
        conversation = st.session_state.get("conversation")
        # The latest answer's interpretation stands for the conversation: it is not read again.
        previous = None if standalone else previous_interpretation(st.session_state.messages)
        answer = None
        try:
            for event in engine.stream(question, k=k, roles=roles, previous=previous):
                if isinstance(event, Stage):
                    status.update(label=STAGES.get(event.name, "Working…"))
                elif isinstance(event, Text):
                    status.write(escape_markdown(event.text))
                else:
                    answer = event.answer
        except Exception as problem:  # a visitor sees an error id, never a traceback or a path
            status.update(label="Something went wrong", state="error")
            st.error(escape_markdown(unexpected_error(problem)))
            st.stop()
        status.update(label="Not in the guides" if answer.refused else "Answered from the guides", state="complete")
        if store is not None and not conversation:
            conversation = st.session_state.conversation = new_id()
            st.query_params["c"] = conversation
        number = len(st.session_state.messages) + 1
        # Kept before it is drawn: a click on the drawn answer (a source, thumbs) starts a new
        # run that may cut this one short, and the answer must still be in the history.
        st.session_state.messages += [{"role": "user", "content": question}, {"role": "assistant", "answer": answer}]
        if store is not None:
            save_turns(store, conversation, browser, (question, answer))
        if (kind := automatic_kind(answer)) is not None:
            record_feedback(settings, kind, answer)
        render_answer(settings, engine, answer, f"answer-{number}")


def index_problems(settings: Settings, engine, status, error: str | None) -> None:
    """A failed rebuild, an index that cannot be loaded (the page stops there) or one out of date."""
    if st.session_state.get("build_error"):
        st.error(escape_markdown(st.session_state.build_error))
    if error is not None:
        st.error(escape_markdown(error))
        rebuild_button(settings, None, "error-rebuild")
        st.stop()
    if not status.fresh and status.error is None:
        st.warning("The guides changed since the index was built: " + escape_markdown("; ".join(status.reasons)) + ".")
        rebuild_button(settings, engine, "stale-rebuild")


def incoming_question(settings: Settings, engine, collection: Collection) -> tuple[str | None, bool]:
    """The question of this run, typed or clicked, and whether it is to be read on its own."""
    limit = settings.answer.max_question_chars
    prompt = st.chat_input(collection.placeholder, on_submit=lambda: st.session_state.update(view="Chat"))
    # Refused unread and not kept (no `max_chars`: Streamlit would cut the message without a word).
    if prompt is not None and (refused := too_long(prompt, limit, engine.library.language)):
        st.warning(escape_markdown(refused))
        prompt = None
    if prompt is not None:
        return prompt, False
    return st.session_state.pop("pending", None), st.session_state.pop("pending_standalone", False)


def main() -> None:
    try:
        settings = load_settings()
    except GuideError as problem:
        st.set_page_config(page_title="Guide", page_icon="🎓", layout="wide")
        st.error(escape_markdown(str(problem)))
        st.stop()
    st.session_state.setdefault("messages", [])
    engine, error = engine_or_error(settings)
    collection = collection_of(settings, engine)
    st.set_page_config(page_title=f"Guide: {collection.title}", page_icon="🎓", layout="wide")
    store = conversation_store(settings)
    browser = browser_id()
    st.html(page.STYLE)
    st.html(page.script(browser), unsafe_allow_javascript=True)
    st.title(escape_markdown(collection.title), anchor=False)
    st.caption(escape_markdown(collection.description))
    share = valid_id(st.query_params.get("share"))
    if share is not None:
        shared_view(settings, engine, store, share)
        return
    follow_address(store)
    with st.sidebar:
        status = index_panel(settings, engine)
        roles, k = answer_options(settings, engine)
        conversation_box = st.container()

    index_problems(settings, engine, status, error)
    view = st.radio("View", ["Chat", "Guides"], key="view", horizontal=True, label_visibility="collapsed")
    question, standalone = incoming_question(settings, engine, collection)
    if view == "Guides" and question is None:
        guide_browser(engine)
    else:
        conversation = st.session_state.get("conversation")
        if question is not None and store is not None and conversation:
            catch_up(store, conversation)
        with st.container(key="chat-log"):
            show_messages(settings, engine, st.session_state.messages)
            if question is not None:
                answer_question(settings, engine, store, browser, (question, standalone, k, roles))
        if not st.session_state.messages:
            starters(collection)
    with conversation_box:
        conversation_panel(settings, store, browser)


main()
