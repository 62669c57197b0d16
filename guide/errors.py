"""The errors a user can cause or fix; each message says what is wrong and what to do."""

from __future__ import annotations


class GuideError(Exception):
    """Base class: the CLI prints the message and exits non-zero, the app shows it."""

    exit_code = 1


class ConfigError(GuideError):
    """A setting has a wrong name or value."""


class CorpusError(GuideError):
    """A guide in the corpus cannot be read or parsed."""

    def __init__(self, message: str, problems: list[CorpusProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class CorpusProblem:
    """One bad guide file: where it is and what is wrong with it.

    A `skipped` problem is a file that cannot be read at all (an encrypted PDF, an unknown
    format): it is listed and left out, and never stops a build.
    """

    def __init__(self, path: str, message: str, line: int | None = None, skipped: bool = False) -> None:
        self.path = path
        self.message = message
        self.line = line
        self.skipped = skipped

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"CorpusProblem({str(self)!r})"


class IndexMissingError(GuideError):
    """No index has been built yet."""

    exit_code = 2


class IndexCorruptError(GuideError):
    """An index file is damaged, missing or does not match its manifest."""

    exit_code = 2


class IndexMismatchError(GuideError):
    """The index was built with settings (such as the model) other than the current ones."""

    exit_code = 2


class ModelError(GuideError):
    """The embedding or reranking model cannot be loaded."""

    exit_code = 2


class BuildLockedError(GuideError):
    """Another build of the same index is running."""
