"""The language seam: the one place the package's knowledge of a language comes from.

A language is a module holding the names of `guide.language.english` (word lists, patterns,
answer phrasing, a few small functions). A corpus names its language in `collection.yaml`
(`language: en`, the default, or the dotted name of an importable module for another one);
questions are read, guides split and answers phrased through it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from guide.errors import ConfigError
from guide.language import english

Language = ModuleType
DEFAULT: Language = english
# Short names of the languages that ship with the package.
KNOWN = {"en": "guide.language.english", "english": "guide.language.english"}
# What a language module must define: the names `english` holds in capitals, and its functions.
REQUIRED = tuple(
    name
    for name, value in vars(english).items()
    if not name.startswith("_")
    and (name.isupper() or (callable(value) and getattr(value, "__module__", "") == english.__name__))
)


def load_language(name: str | None) -> Language:
    """The language module `name` names ("en", or a dotted module name), checked for what it must hold."""
    if not name:
        return DEFAULT
    module_name = KNOWN.get(name.lower(), name)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        known = ", ".join(sorted(KNOWN))
        raise ConfigError(
            f"Unknown language {name!r}; use one of {known}, or the dotted name of a module like guide.language.english."
        ) from None
    if missing := [attribute for attribute in REQUIRED if not hasattr(module, attribute)]:
        raise ConfigError(f"The language module {module_name} lacks {', '.join(sorted(set(missing))[:5])}.")
    return module
