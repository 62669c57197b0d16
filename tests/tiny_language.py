"""A tiny language for testing the language seam: English words, but its own question kinds and
phrasing, named by `language: tests.tiny_language` in a collection file."""

import re

from guide.language.english import *  # noqa: F403 (a language module holds every name of english)

NAME = "Tiny"
# No example questions: kinds come from the patterns alone.
EXAMPLE_QUESTIONS = None
SOME_ROLE = "a job"
KIND_PATTERNS = (
    ("overview", re.compile(r"\broute\b", re.I)),
    ("trends", re.compile(r"\bforecast\b", re.I)),
)
NOT_FOUND = "Nothing on that."
CLOSEST_SECTIONS = "Nearest: {sections}."
SILENT_GUIDE = "{asked} is silent; {quoted} speaks:"
LEADS = {**LEADS, "overview": "Route to {label}:"}  # noqa: F405
