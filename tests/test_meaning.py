"""Question kinds read from meaning: closeness to example questions kept as data, so that a new
wording of a known kind is understood without code, with the wording patterns as a second opinion."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from guide.ask.meaning import KindModel, example_questions
from guide.cli import main
from guide.engine import Engine
from guide.errors import GuideError
from guide.index import build_index, load_index
from guide.index.embedding import FakeEmbedder
from guide.language import english
from tests.helpers import CORPUS, make_settings


class WordsEmbedder(FakeEmbedder):
    """The fake model's shared-words closeness taken as meaning, to read kinds from examples with it."""

    semantic = True


def _engine(tmp_path, corpus, fake_embedder, collection: str, **settings) -> Engine:
    (corpus / "collection.yaml").write_text(collection, encoding="utf-8")
    made = make_settings(tmp_path, corpus, **{"answer.refusal_threshold": 0.0, **settings})
    build_index(made, fake_embedder)
    return Engine(made, WordsEmbedder(), load_index(made.index_dir))


def test_the_english_examples_cover_every_kind_with_several_wordings():
    pairs = example_questions(english)
    counts = {kind: sum(1 for k, _ in pairs if k == kind) for kind, _ in pairs}
    assert set(counts) == {"fact", "overview", "duties", "career", "history", "trends", "cross-role", "situation"}
    assert min(counts.values()) >= 10


def test_a_collections_own_examples_teach_a_new_wording_without_code(tmp_path, small_corpus, fake_embedder):
    wording = "Walk me through the lecturer gig"
    plain = _engine(tmp_path / "a", small_corpus, fake_embedder, "title: Guides\n", **{"answer.kind_by_meaning": False})
    assert plain.interpret(wording).kind == "fact"  # no pattern knows "walk me through"
    taught = _engine(
        tmp_path / "b", small_corpus, fake_embedder,
        "title: Guides\nexamples:\n  duties:\n    - Walk me through the gig of a plumber\n",
    )  # fmt: skip
    assert taught.interpret(wording).kind == "duties"


def test_examples_can_be_switched_off(tmp_path, small_corpus, fake_embedder):
    collection = "title: Guides\nexamples:\n  duties:\n    - Walk me through the gig of a plumber\n"
    engine = _engine(tmp_path, small_corpus, fake_embedder, collection, **{"answer.kind_by_meaning": False})
    assert engine.library.kinds is None
    assert engine.interpret("Walk me through the lecturer gig").kind == "fact"


def test_examples_in_the_collection_file_must_map_kinds_to_questions(tmp_path, small_corpus, fake_embedder):
    (small_corpus / "collection.yaml").write_text("examples: [a, b]\n", encoding="utf-8")
    with pytest.raises(GuideError, match="'examples' must map question kinds"):
        build_index(make_settings(tmp_path, small_corpus), fake_embedder)
    (small_corpus / "collection.yaml").write_text("examples:\n  duties: [1, 2]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(small_corpus), "--index", str(tmp_path / "i"), "build"])
    assert result.exit_code != 0 and "'duties' must be a list of non-empty strings" in result.output


def test_the_kind_model_reads_the_closest_kind_and_its_lead():
    vectors = {"a one": [1.0, 0.0], "a two": [0.9, 0.1], "b one": [0.0, 1.0]}

    def embed(texts):
        rows = np.asarray([vectors[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    model = KindModel([("overview", "a one"), ("overview", "a two"), ("trends", "b one")], embed, neighbours=2)
    reading = model.read(embed(["a one"])[0])
    assert reading.kind == "overview" and reading.margin > 0.5
    assert model.read(embed(["b one"])[0]).kind == "trends"
    assert KindModel([("overview", "a one")], embed).read(embed(["b one"])[0]) is None  # one kind decides nothing


def test_a_hint_beside_a_roles_name_is_the_topic(fake_shipped_index, fake_embedder):
    engine = Engine(fake_shipped_index, fake_embedder, load_index(fake_shipped_index.index_dir))
    assert engine.interpret("prof").names_only  # a hint alone names the role
    stipend = engine.interpret("phd stipend")  # beside the role's own name, a hint is the topic
    assert stipend.roles == ("phd",) and not stipend.names_only and stipend.kind != "overview"


@pytest.mark.model
def test_the_cli_answers_a_new_wording_as_the_kind_a_collection_example_teaches(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    with (corpus / "collection.yaml").open("a", encoding="utf-8") as collection:
        collection.write(
            "examples:\n  duties:\n    - Walk me through the gig of a plumber\n"
            "    - Walk me through the gig of a nurse\n    - Walk me through the gig of a chef\n"
        )
    env = {"GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(tmp_path / "index")}
    runner = CliRunner()
    assert runner.invoke(main, ["build"], env=env).exit_code == 0
    result = runner.invoke(main, ["ask", "--json", "Walk me through the lecturer gig"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["kind"] == "duties"
    (corpus / "collection.yaml").write_text((CORPUS / "collection.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert runner.invoke(main, ["build"], env=env).exit_code == 0
    untaught = runner.invoke(main, ["ask", "--json", "Walk me through the lecturer gig"], env=env)
    assert json.loads(untaught.output)["kind"] != "duties"


def test_a_pointer_left_inside_a_sentence_is_not_quoted(tmp_path, small_corpus, fake_embedder):
    guide = small_corpus / "pointers.md"
    guide.write_text(
        "---\ntitle: Plumber jobs\nrole: plumber\n---\n\n# Plumbers\n\n## Trends\n\n"
        "Demand for plumbers grows in cities (details here). Training takes four years, detailed here.\n",
        encoding="utf-8",
    )
    engine = _engine(tmp_path, small_corpus, fake_embedder, "title: Guides\n")
    quotes = {span.answer_text for span in engine.index.spans if span.doc_id.startswith("pointers")}
    assert "Demand for plumbers grows in cities." in quotes
    assert "Training takes four years." in quotes


def test_the_kind_model_averages_several_readings_of_a_question():
    vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0], "mostly a": [0.8, 0.6]}

    def embed(texts):
        return np.asarray([vectors[t] for t in texts], dtype=np.float32)

    model = KindModel([("overview", "a"), ("trends", "b")], embed, neighbours=1)
    assert model.read(embed(["mostly a"])).kind == "overview"
    both = model.read(embed(["mostly a", "b"]))  # overview (0.8 + 0) / 2, trends (0.6 + 1) / 2
    assert both.kind == "trends" and both.score == pytest.approx(0.8) and both.margin == pytest.approx(0.4)
