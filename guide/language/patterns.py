"""Patterns over a visitor's text that a regular expression would search in quadratic time.

`first.*then` searched in a text scans the rest of the line from every place `first` matches:
a question of `n` repeats of `first` costs `n` times its length. `FollowedBy` finds the same
thing in one scan, and `AnyOf` tries several such patterns; both answer `search` as a compiled
pattern does, so a language module can put them where a pattern goes (`KIND_PATTERNS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class Searchable:
    """What a pattern over a question offers: `search(text)`, a match or None."""

    def search(self, text: str) -> re.Match[str] | None:  # pragma: no cover - an interface
        raise NotImplementedError


@dataclass(frozen=True)
class FollowedBy(Searchable):
    """What `first.*then` finds (`.` not matching a line break), in time linear in the text.

    `then` must start on the line where `first` ended (it may run on past the line's end, as
    `\\s+` does). The first match of `then` from a place serves every later place before it,
    so the text is scanned for `then` once in all.
    """

    first: re.Pattern[str]
    then: re.Pattern[str]

    def search(self, text: str) -> re.Match[str] | None:
        """The match of `then` starting after a match of `first`, on the same line; or None."""
        following: re.Match[str] | None = None  # the first match of `then` at or after `start`
        line_break = -1  # the last line break before it, from where it was searched
        for opening in self.first.finditer(text):
            start = opening.end()
            if following is None or following.start() < start:
                following = self.then.search(text, start)
                if following is None:
                    return None
                line_break = text.rfind("\n", start, following.start())
            if line_break < start:
                return following
        return None


@dataclass(frozen=True)
class AnyOf(Searchable):
    """The first of `patterns` (compiled patterns or `FollowedBy`) that finds something."""

    patterns: tuple[re.Pattern[str] | Searchable, ...]

    def search(self, text: str) -> re.Match[str] | None:
        """The match of the first pattern that matches, or None."""
        for pattern in self.patterns:
            if found := pattern.search(text):
                return found
        return None
