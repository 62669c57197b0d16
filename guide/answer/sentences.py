"""Rules about single sentences that every answer builder shares."""

from __future__ import annotations

from guide.ask.lexicon import content_words
from guide.language import DEFAULT, Language

# Content words a sentence needs to say something on its own.
MIN_CONTENT_WORDS = 4


def says_something(text: str, language: Language = DEFAULT) -> bool:
    """Whether a sentence says something on its own: not a lead-in ("Core skills include:") and
    not a fragment of a few words."""
    return not text.rstrip().endswith(":") and len(content_words(text, language)) >= MIN_CONTENT_WORDS
