"""One suite for every answerer: the extractive default and a test-only "first sentence" one.

Whatever writes the answer, the engine refuses the same questions the same way, every `[n]`
is a citation of a passage in the guide, and the settings and CLI choose it by name.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from guide.answer.registry import ANSWERERS, make_answerer
from guide.cli import main
from guide.engine import Engine
from guide.errors import ConfigError
from guide.index import build_index, load_index
from guide.quality.evaluation import citation_problems
from tests.first_sentence import FirstSentenceAnswerer
from tests.helpers import make_settings


@pytest.fixture(autouse=True)
def first_sentence_registered(monkeypatch):
    monkeypatch.setitem(ANSWERERS, "first-sentence", FirstSentenceAnswerer)  # the one registry line


@pytest.fixture(params=["extractive", "first-sentence"])
def engine_for(request, tmp_path, small_corpus, fake_embedder):
    settings = make_settings(tmp_path, small_corpus, **{"answer.backend": request.param})
    build_index(settings, fake_embedder)
    return Engine(settings, fake_embedder, load_index(settings.index_dir))


def test_answers_cite_passages_of_the_guides(engine_for):
    answer = engine_for.ask("What GPA do PhD admits usually have?")
    assert not answer.refused and answer.citations
    assert "GPA above 3.5" in answer.text
    assert citation_problems(answer, engine_for.index) == []
    assert answer.citations[0].path == "phd.md"


def test_every_answerer_is_refused_the_same_way(engine_for):
    pilot = engine_for.ask("How do I become an airline pilot?")
    assert pilot.refused and not pilot.citations
    assert pilot.text.startswith("The guides do not cover the job of airline pilot")
    empty = engine_for.ask("   ")
    assert empty.refused and "Please type a question" in empty.text


def test_the_engine_adds_the_notice_and_confidence_levels(engine_for):
    answer = engine_for.ask("What GPA do PhD admits usually have? " + "x" * 3000)
    assert not answer.refused and "GPA above 3.5" in answer.text
    assert answer.notice and "only the first 36 were used" in answer.notice
    assert answer.cutoffs == (0.5, 0.8)


def test_confidence_cut_offs_come_from_the_settings(tmp_path, small_corpus, fake_embedder):
    settings = make_settings(tmp_path, small_corpus, **{"answer.medium_confidence": 0.0, "answer.high_confidence": 0.0})
    build_index(settings, fake_embedder)
    answer = Engine(settings, fake_embedder, load_index(settings.index_dir)).ask("What GPA do PhD admits usually have?")
    assert not answer.refused and answer.level == "high"


def test_an_unknown_answerer_is_a_config_error_naming_the_known_ones(tmp_path, small_corpus):
    settings = make_settings(tmp_path, small_corpus, **{"answer.backend": "oracle"})
    with pytest.raises(ConfigError, match="Unknown answerer 'oracle' .*extractive, first-sentence"):
        make_answerer(settings, lambda texts: None)


def test_the_cli_chooses_the_answerer_from_guide_yaml(tmp_path, small_corpus):
    config = tmp_path / "guide.yaml"
    folders = ["--corpus", str(small_corpus), "--index", str(tmp_path / "index"), "--config", str(config)]
    env = {"GUIDE_MODEL": "fake"}
    config.write_text("answer:\n  backend: extractive\n")
    assert CliRunner().invoke(main, [*folders, "build"], env=env).exit_code == 0
    config.write_text("answer:\n  backend: first-sentence\n")
    result = CliRunner().invoke(main, [*folders, "ask", "--json", "What GPA do PhD admits usually have?"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["answer"] == "Admits usually have a GPA above 3.5. [1]"
    config.write_text("answer:\n  backend: oracle\n")
    result = CliRunner().invoke(main, [*folders, "ask", "What GPA do PhD admits usually have?"], env=env)
    assert result.exit_code == 1 and "Unknown answerer 'oracle'" in result.stderr
