"""Reading settings: defaults, `guide.yaml`, the environment and flags, each value checked."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from guide.config.sections import Settings
from guide.errors import ConfigError

CONFIG_FILE = "guide.yaml"

# Environment variables and the setting each one overrides.
ENVIRONMENT = {
    "GUIDE_CORPUS_DIR": "corpus_dir",
    "GUIDE_INDEX_DIR": "index_dir",
    "GUIDE_MODEL": "embedding.model",
    "GUIDE_FEEDBACK_FILE": "feedback_file",
    "GUIDE_FEEDBACK_URL": "feedback.url",
    "GUIDE_FEEDBACK_SPOOL": "feedback.spool",
    "GUIDE_REPLICA": "feedback.origin",
    "GUIDE_ALLOW_REBUILD": "ui.allow_rebuild",
    "GUIDE_CONVERSATIONS_URL": "conversations.url",
    "GUIDE_CONVERSATION_DAYS": "conversations.retention_days",
    "GUIDE_ANSWER_BACKEND": "answer.backend",
    "GUIDE_WRITER_MODE": "writer.mode",
    "GUIDE_WRITER_URL": "writer.base_url",
    "GUIDE_WRITER_MODEL": "writer.model",
    "GUIDE_WRITER_MODEL_PATH": "writer.model_path",
}



def load_settings(
    config_file: str | Path | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Settings from defaults, the YAML file, the environment and explicit overrides, in that order.

    Args:
        config_file: YAML file; defaults to `$GUIDE_CONFIG` or `guide.yaml` if it exists.
        environ: environment to read (defaults to `os.environ`).
        overrides: dotted keys such as `{"retrieval.k": 8}`, applied last (CLI flags).
    """
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or environ.get("GUIDE_CONFIG")
    if path is not None or Path(CONFIG_FILE).exists():
        for key, value in _flatten(_read_yaml(Path(path or CONFIG_FILE))):
            settings = set_value(settings, key, value)
    env_values = {key: environ[name] for name, key in ENVIRONMENT.items() if environ.get(name)}
    # A flag left unset arrives as None and must not hide the environment's value.
    flags = {key: value for key, value in (overrides or {}).items() if value is not None}
    return apply_overrides(settings, {**env_values, **flags})


def apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """`settings` with dotted keys changed; None values are left out."""
    for key, value in overrides.items():
        if value is not None:
            settings = set_value(settings, key, value)
    return settings


def set_value(settings: Any, dotted_key: str, value: Any, _prefix: str = "") -> Any:
    """A copy of `settings` with one dotted key changed, validated and converted to its type."""
    head, _, rest = dotted_key.partition(".")
    full = _prefix + head
    names = [f.name for f in fields(settings)]
    if head not in names:
        raise ConfigError(
            f"Unknown setting {_prefix + dotted_key!r}; allowed here: {', '.join(_prefix + n for n in names)}."
        )
    current = getattr(settings, head)
    if dataclasses.is_dataclass(current):
        if not rest:
            raise ConfigError(f"Setting {full!r} must be a mapping of {', '.join(f.name for f in fields(current))}.")
        return replace(settings, **{head: set_value(current, rest, value, f"{full}.")})
    if rest:
        raise ConfigError(f"Setting {full!r} has no sub-key {rest!r}.")
    return replace(settings, **{head: _convert(full, current, value)})


def settings_dict(settings: Any) -> dict[str, Any]:
    """Settings as plain data (folders as text), nested as in guide.yaml."""
    data = {}
    for item in fields(settings):
        value = getattr(settings, item.name)
        if dataclasses.is_dataclass(value):
            data[item.name] = settings_dict(value)
        else:
            data[item.name] = str(value) if isinstance(value, Path) else value
    return data


def _flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise ConfigError(f"Setting names must be text; got {key!r} under {prefix or 'the top level'}.")
        if isinstance(value, dict):
            pairs.extend(_flatten(value, f"{prefix}{key}."))
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


# Smallest values that make sense; below them a setting is refused with this message.
MINIMUMS = {
    "conversations.retention_days": 0,
    "retrieval.k": 1,
    "chunking.max_chars": 50,
    "embedding.batch_size": 1,
    "answer.max_sentences": 1,
    "structure.max_groups": 1,
    "index.hnsw_ef_construction": 1,
    "index.hnsw_ef_search": 1,
    "answer.max_question_chars": 10,
    "index.hnsw_m": 4,
    "index.hnsw_filter_oversample": 1,
    "retrieval.candidates_per_hit": 1,
    "answer.evidence_passages": 1,
    "answer.max_answer_chars": 50,
    "compare.cell_chars": 20,
    "answer.writer_timeout": 0.1,
    "writer.connect_timeout": 0.1,
    "writer.read_timeout": 0.1,
    "writer.context_tokens": 512,
    "writer.max_tokens": 16,
    "writer.min_sentences": 1,
    "ingest.max_page_mb": 0.001,
    "ingest.max_pdf_pages": 1,
    "ingest.shingle_words": 1,
    "ingest.lsh_bands": 1,
    "ingest.lsh_rows": 1,
}
# Largest values that make sense (shares and the sampling temperature).
MAXIMUMS = {
    "writer.min_similarity": 1.0,
    "writer.min_overlap": 1.0,
    "writer.min_coverage": 1.0,
    "writer.temperature": 2.0,
    "ingest.duplicate_similarity": 1.0,
    "ingest.lsh_bands": 256,
    "ingest.lsh_rows": 32,
}


# Settings that take one of a few words.
CHOICES = {
    "ui.allow_rebuild": {"auto": "auto", "true": "true", "yes": "true", "on": "true", "1": "true",
                         "false": "false", "no": "false", "off": "false", "0": "false"},
    "writer.mode": {"openai": "openai", "local": "local"},
}


def _convert(key: str, current: Any, value: Any) -> Any:
    if key in CHOICES:
        word = str(value).strip().lower()
        if word not in CHOICES[key]:
            *others, last = dict.fromkeys(CHOICES[key].values())
            raise ConfigError(f"Setting {key!r} must be {', '.join(others)} or {last}; got {value!r}.")
        return CHOICES[key][word]
    converted = _convert_type(key, current, value)
    if key in MINIMUMS and converted < MINIMUMS[key]:
        raise ConfigError(f"Setting {key!r} must be at least {MINIMUMS[key]}; got {value!r}.")
    if key in MAXIMUMS and not 0 <= converted <= MAXIMUMS[key]:
        raise ConfigError(f"Setting {key!r} must be between 0 and {MAXIMUMS[key]}; got {value!r}.")
    return converted


def _convert_type(key: str, current: Any, value: Any) -> Any:
    """`value` as the setting's type. Text (from the environment or a flag) is parsed; a typed YAML
    value must already be of the type: no silent 2.5 -> 2, true -> 1.0 or [a] -> "['a']"."""
    kind = type(current)
    try:
        if isinstance(current, Path) or kind is str:
            if isinstance(value, bool) or not isinstance(value, str | int | float | Path):
                raise ValueError
            return Path(str(value)) if isinstance(current, Path) else str(value)
        if kind is bool:
            if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "false", "0", "no", "off"}:
                return value.lower() in {"true", "1", "yes", "on"}
            if isinstance(value, bool):
                return value
            raise ValueError
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            converted = int(value.strip()) if isinstance(value, str) else int(value)
            if converted < 0:
                raise ValueError
            return converted
        if kind is float:
            converted = float(value)
            if not math.isfinite(converted):
                raise ValueError
            return converted
        return str(value)
    except (TypeError, ValueError, OverflowError):
        expected = {bool: "true or false", int: "a whole number of 0 or more", float: "a number"}.get(kind, "text")
        raise ConfigError(f"Setting {key!r} must be {expected}; got {value!r}.") from None


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`, but a mapping that names a key twice is an error (YAML would keep the last silently)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice; keep one", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot read the config file {path}: {error.strerror or error}.") from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: the config file is not UTF-8 text (bad byte 0x{error.object[error.start]:02x}); save it as UTF-8."
        ) from None
    try:
        data = load_yaml(text)
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise ConfigError(f"{path}: the config file cannot be read ({error}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: the config file is not valid YAML ({getattr(error, 'problem', error)}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of settings, not {type(data).__name__}.")
    return data
