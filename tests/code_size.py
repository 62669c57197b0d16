"""Module and function sizes of the package and the app: `python tests/code_size.py` lists what is over."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def sources() -> list[Path]:
    return [*sorted((ROOT / "guide").rglob("*.py")), ROOT / "app.py"]


def oversized() -> list[str]:
    """One line per module over `MAX_MODULE_LINES` lines and per function over `MAX_FUNCTION_LINES`."""
    found = []
    for path in sources():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


if __name__ == "__main__":
    problems = oversized()
    print("\n".join(problems) or "Every module and function is within its size.")
    sys.exit(1 if problems else 0)
