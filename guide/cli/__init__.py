"""The `guide` command line: build the index, check it, search, ask, chat, serve, evaluate.

`base` holds the command group and what the commands share; each other module adds the
commands of one kind to it when imported.
"""

from guide.cli import asking, building, quality, serving  # noqa: F401  (they register their commands)
from guide.cli.base import main

__all__ = ["main"]
