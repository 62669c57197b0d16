"""Every guide.yaml key and every documented environment variable, set as a user sets them and
read back through `guide settings`; wrong values stop with the key named."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from guide.cli import main
from guide.config import ENVIRONMENT, Settings, settings_dict

ROOT = Path(__file__).resolve().parent.parent


def _keys(settings=None, prefix: str = "") -> list[tuple[str, object]]:
    settings = settings or Settings()
    pairs = []
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if dataclasses.is_dataclass(value):
            pairs += _keys(value, f"{prefix}{item.name}.")
        else:
            pairs.append((prefix + item.name, value))
    return pairs


def _other(value: object) -> object:
    """A valid value other than the default, of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return round(value + 0.125, 4)
    if isinstance(value, Path):
        return f"{value}-elsewhere"
    return {"auto": "true", "faiss": "faiss", "extractive": "extractive", "openai": "local"}.get(str(value), f"{value}x")


def _nested(key: str, value: object) -> dict:
    head, _, rest = key.partition(".")
    return {head: _nested(rest, value) if rest else value}


def _shown(output: str, key: str) -> object:
    data = json.loads(output)
    for part in key.split("."):
        data = data[part]
    return data


def _settings(env=None, config: Path | None = None):
    args = ["--config", str(config)] if config else []
    return CliRunner().invoke(main, [*args, "settings", "--json"], env=env or {})


@pytest.mark.parametrize(("key", "default"), _keys(), ids=[key for key, _ in _keys()])
def test_every_key_of_guide_yaml_is_read(key, default, tmp_path):
    value = _other(default)
    if key == "feedback.url":
        value = "sqlite:///elsewhere.db"
    if key == "writer.min_coverage":
        value = 0.5  # a share, at most its default 1.0
    config = tmp_path / "guide.yaml"
    config.write_text(yaml.safe_dump(_nested(key, value if not isinstance(value, Path) else str(value))))
    result = _settings(config=config)
    assert result.exit_code == 0, result.output
    assert _shown(result.stdout, key) == (str(value) if isinstance(value, Path) else value)


def test_every_key_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Configuration") :]
    block = block[block.index("```yaml") : block.index("```", block.index("```yaml") + 7)]
    documented, section = set(), ""
    for line in block.splitlines()[1:]:
        match = re.match(r"^(\s*)([a-z_]+):", line)
        if not match:
            continue
        if match.group(1):
            documented.add(f"{section}.{match.group(2)}")
        else:
            section = match.group(2)
            documented.add(section)
    assert {key for key, _ in _keys()} <= documented


@pytest.mark.parametrize(("name", "key"), sorted(ENVIRONMENT.items()))
def test_every_environment_variable_overrides_guide_yaml_and_a_flag_overrides_it(name, key, tmp_path):
    config = tmp_path / "guide.yaml"
    special = {
        "feedback.url": ("sqlite:///yaml.db", "sqlite:///env.db"),
        "ui.allow_rebuild": ("true", "false"),
        "conversations.retention_days": (10, "7"),
        "writer.mode": ("local", "openai"),
    }
    from_yaml, value = special.get(key, ("from-yaml", "from-env"))
    config.write_text(yaml.safe_dump(_nested(key, from_yaml)))
    result = _settings(env={name: value}, config=config)
    assert result.exit_code == 0, result.output
    assert _shown(result.stdout, key) == (7.0 if key == "conversations.retention_days" else value)
    if key in ("corpus_dir", "index_dir"):
        flag = "--corpus" if key == "corpus_dir" else "--index"
        flagged = CliRunner().invoke(main, [flag, "from-flag", "settings", "--json"], env={name: value})
        assert _shown(flagged.stdout, key) == "from-flag"


def test_guide_config_names_the_settings_file(tmp_path):
    config = tmp_path / "site.yaml"
    config.write_text("retrieval:\n  k: 7\n")
    result = CliRunner().invoke(main, ["settings", "--json"], env={"GUIDE_CONFIG": str(config)})
    assert result.exit_code == 0 and _shown(result.stdout, "retrieval.k") == 7
    assert settings_dict(Settings())["retrieval"]["k"] == 5


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("retrieval:\n  k: lots\n", "Setting 'retrieval.k' must be a whole number"),
        ("retrieval:\n  kk: 3\n", "Unknown setting 'retrieval.kk'"),
        ("ui:\n  allow_rebuild: maybe\n", "'ui.allow_rebuild' must be auto, true or false"),
        ("answer:\n  max_answer_chars: 3\n", "'answer.max_answer_chars' must be at least 50"),
    ],
)
def test_a_wrong_value_stops_with_the_key_named(yaml_text, message, tmp_path):
    config = tmp_path / "guide.yaml"
    config.write_text(yaml_text)
    result = _settings(config=config)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output


def test_a_password_in_the_feedback_url_is_never_shown():
    result = _settings(env={"GUIDE_FEEDBACK_URL": "postgresql://guide:s3cret@127.0.0.1:5432/guide"})
    assert "s3cret" not in result.stdout and "postgresql://guide:***@127.0.0.1:5432/guide" in result.stdout
