"""What a visitor of the app may be shown of an error: a short message and an error id, never a
traceback or a path on the server. The full story goes to the log under the same id."""

from __future__ import annotations

import logging
import re
import uuid

from guide.config import mask_secrets

logger = logging.getLogger("guide.app")

# An absolute path on the server ("/srv/site/index/gen-1/chunks.jsonl"): shown as its last part.
_SERVER_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+([\w.@+-]+)")


def public_message(message: str) -> str:
    """`message` (a `GuideError`'s) with server paths cut to their file or folder name and no secret."""
    return _SERVER_PATH.sub(r"\1", mask_secrets(message))


def unexpected_error(error: BaseException, doing: str = "answering") -> str:
    """Log an unexpected error with its traceback under a new id; the message a visitor sees instead."""
    error_id = uuid.uuid4().hex[:8]
    logger.error("Error %s while %s", error_id, doing, exc_info=error)
    return (
        f"Something went wrong while {doing} (error id {error_id}). Please try again; "
        "if it keeps happening, give the maintainer this id."
    )
