"""A guide's YAML front matter: split from the body, read safely, its text values checked."""

from __future__ import annotations

import re
from typing import Any

# Terminal escape sequences (CSI such as colours, OSC such as hyperlinks, two-character ones),
# then any other C0 or C1 control character but tab and newline.
_CONTROL = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)



class ParseError(ValueError):
    """A guide's text cannot be parsed; `line` is 1-based within the file when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def parse_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split `---` YAML front matter from the body.

    Returns:
        The metadata mapping (empty when there is none), the body, and the number of
        lines before the body (to turn body line numbers into file line numbers).

    Raises:
        ParseError: the front matter is unterminated, not YAML, or not a mapping.
    """
    import yaml

    from guide.config import load_yaml

    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text, 0
    for end, line in enumerate(lines[1:], start=1):  # noqa: B007 (used after the loop)
        if line.rstrip() in ("---", "..."):
            break
    else:
        raise ParseError("front matter starts with '---' but has no closing '---' line", line=1)
    block = "\n".join(lines[1:end])
    try:
        meta = load_yaml(block) if block.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ParseError(f"front matter is not valid YAML: {problem}", line=line) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise ParseError(f"front matter cannot be read: {error}", line=1) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError(f"front matter must be a mapping of keys to values, not {type(meta).__name__}", line=2)
    body = "\n".join(lines[end + 1 :])
    # YAML's escapes ("\e[31m", "\x07") make control characters the file itself does not hold.
    return without_controls(meta), body, end + 1


def without_controls(value: Any) -> Any:
    """`value` (text, or lists and mappings of it) without terminal escape sequences and control characters."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [without_controls(item) for item in value]
    if isinstance(value, dict):
        return {without_controls(key): without_controls(item) for key, item in value.items()}
    return value


def text_problem(key: str, value: Any) -> str | None:
    """Why a front-matter value cannot stand for text: YAML read `yes` as true and `1.10` as 1.1."""
    if isinstance(value, bool):
        return f"front matter key {key!r} must be text, not true or false; write it in quotes"
    if isinstance(value, float):
        return f"front matter key {key!r} must be text, not the number {value!r}; write it in quotes"
    if not isinstance(value, str | int):
        return f"front matter key {key!r} must be text, not {type(value).__name__}"
    return None
