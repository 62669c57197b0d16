from __future__ import annotations

from pathlib import Path

import pytest

from guide.config import load_settings
from guide.errors import ConfigError


def test_yaml_then_environment_then_flags(tmp_path):
    config = tmp_path / "guide.yaml"
    config.write_text("corpus_dir: from-yaml\nretrieval:\n  k: 7\nui:\n  allow_rebuild: false\n")
    settings = load_settings(config, environ={"GUIDE_CORPUS_DIR": "from-env"}, overrides={"index_dir": "flag"})
    assert settings.corpus_dir == Path("from-env") and settings.index_dir == Path("flag")
    assert settings.retrieval.k == 7 and settings.ui.allow_rebuild == "false"
    assert not settings.ui.rebuild_allowed("127.0.0.1")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("retrieval:\n  kk: 1\n", "Unknown setting 'retrieval.kk'; allowed here: retrieval.k"),
        ("retrieval: 3\n", "'retrieval' must be a mapping"),
        ("retrieval:\n  k: many\n", "'retrieval.k' must be a whole number"),
        ("ui:\n  allow_rebuild: maybe\n", "'ui.allow_rebuild' must be auto, true or false"),
        ("- a\n", "must be a mapping of settings"),
        ("retrieval: [\n", "not valid YAML"),
        ("retrieval:\n  k: 0\n", "'retrieval.k' must be at least 1"),
    ],
)
def test_bad_settings_name_the_key_and_what_is_allowed(tmp_path, yaml_text, message):
    config = tmp_path / "guide.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings(config, environ={})


def test_missing_config_file_named_explicitly(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read the config file"):
        load_settings(tmp_path / "absent.yaml", environ={})


def test_rebuild_is_allowed_on_loopback_unless_set_otherwise():
    from guide.config import UISettings

    assert UISettings().rebuild_allowed("127.0.0.1") and UISettings().rebuild_allowed("localhost")
    assert not UISettings().rebuild_allowed(None) and not UISettings().rebuild_allowed("0.0.0.0")
    assert UISettings("true").rebuild_allowed("0.0.0.0") and not UISettings("false").rebuild_allowed("127.0.0.1")
