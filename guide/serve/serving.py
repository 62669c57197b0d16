"""The engine a replica loaded before opening its port, for the app running in the same process."""

from __future__ import annotations

from typing import Any

_engine: Any = None


def preload(engine: Any) -> None:
    global _engine
    _engine = engine


def preloaded(settings: Any = None) -> Any:
    """The preloaded engine (for these settings, when given), or None."""
    if _engine is None or (settings is not None and _engine.settings != settings):
        return None
    return _engine


_feedback: Any = None


def preload_feedback(writer: Any) -> None:
    global _feedback
    _feedback = writer


def feedback_writer() -> Any:
    """The replica's feedback writer (started with it, so a spool left by a crash is stored at once)."""
    return _feedback
