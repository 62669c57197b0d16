"""What the chat app decides without Streamlit: what a message may be, what the next question is
read after, what the page says about the corpus and when its index status is read again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guide.ask.interpret import Interpretation
from guide.config import Settings
from guide.errors import GuideError
from guide.ingest.collection import Collection, load_collection
from guide.language import DEFAULT, Language


def too_long(message: str, limit: int, language: Language = DEFAULT) -> str | None:
    """Why the chat refuses `message` (longer than `limit` characters, `answer.max_question_chars`),
    or None to answer it. It is refused before anything reads it: a visitor's megabytes are not
    read, nor kept in the conversation and read again with every question after it."""
    if len(message) <= limit:
        return None
    return language.TOO_LONG.format(length=len(message), limit=limit)


def previous_interpretation(messages: Sequence[dict[str, Any]]) -> Interpretation | None:
    """The interpretation the next question of a conversation is read after: the latest answer's,
    as each answer carries it (`Answer.interpretation`), so the conversation is not read again."""
    for message in reversed(messages):
        answer = message.get("answer")
        # A blank question, or one without letters, was not understood: the one before stands.
        if answer is not None and answer.interpretation.query:
            return answer.interpretation
    return None


def collection_of(settings: Settings, engine: Any) -> Collection:
    """What the corpus says about itself: from the loaded index, else from the corpus folder."""
    if engine is not None:
        return engine.index.collection
    try:
        return load_collection(settings.corpus_dir)
    except GuideError:
        return Collection()


def role_name(engine: Any, role: str) -> str:
    """A role's label, from the loaded index when there is one."""
    return engine.lexicon.label(role) if engine is not None else role.replace("-", " ")


def status_signature(settings: Settings) -> tuple:
    """The settings, and name, size and modification time of every guide and of the index pointer."""
    from guide.index.storage import POINTER
    from guide.ingest.corpus import guide_files

    paths = [*guide_files(settings.corpus_dir), settings.index_dir / POINTER]
    files = tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in paths if path.exists())
    return (repr(settings), files)
