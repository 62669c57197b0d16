"""The writing answerer against a scripted OpenAI-compatible server on loopback (no model, seconds).

Each script writes an answer from the passages the writer sent, as a model would: right and
wrong citations, uncited sentences, invented numbers, strengthened wording, a sentence cut off;
the server can also be slow or fail. The shipped guides are indexed with the `fake` embedder.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from click.testing import CliRunner

from guide.answer.base import Final, Text
from guide.answer.verify import numbers_in
from guide.cli import main
from guide.config import apply_overrides
from guide.engine import Engine
from guide.index.embedding import FakeEmbedder
from tests.llm_server import ScriptedServer, other_than, sentence_with

POSTDOC = "How many years of postdoc do machine learning lecturer posts prefer?"
PREFER = "Many positions prefer postdoctoral experience lasting 1-3 years"


@pytest.fixture(scope="module")
def server():
    scripted = ScriptedServer().start()
    yield scripted
    scripted.stop()


@pytest.fixture
def llm(server):
    """The scripted server, reset to answer at once."""
    server.delay, server.piece_delay, server.status = 0.0, 0.0, 200
    server.requests.clear()
    server.headers.clear()
    return server


@pytest.fixture(scope="module")
def embedder():
    return FakeEmbedder()


def writer_engine(settings, llm, embedder, **overrides) -> Engine:
    # Coverage of the extractive answer is its own test: here the scripts write one or two sentences.
    values = {"answer.backend": "writer", "writer.base_url": llm.url, "answer.writer_timeout": 10.0,
              "writer.min_coverage": 0.0, **overrides}
    return Engine.load(apply_overrides(settings, values), embedder)


def events_of(engine: Engine, question: str) -> tuple[list[str], object]:
    texts, final = [], None
    for event in engine.stream(question):
        if isinstance(event, Text):
            texts.append(event.text)
        elif isinstance(event, Final):
            final = event.answer
    return texts, final


def cited_snippet(answer, sentence_start: str) -> str:
    """The snippet of the citation that follows the sentence starting with `sentence_start`."""
    match = re.search(re.escape(sentence_start) + r"[^\[]*\[(\d+)\]", answer.text)
    assert match, answer.text
    return next(c.snippet for c in answer.citations if c.n == int(match.group(1)))


def test_a_rightly_cited_sentence_is_shown_with_its_passage(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        return f"{sentence} [{n}]"

    llm.script = script
    texts, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert texts and answer.text.startswith(PREFER)
    assert PREFER in cited_snippet(answer, PREFER)
    assert answer.extra["writer"]["kept"] == 1 and "replaced" not in answer.text.split("[1]")[-1]
    # Nothing but the passage cited: the server was asked once, with the question and numbered passages.
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert POSTDOC in prompt and "[1] " in prompt and llm.requests[0]["stream"] is True


def test_a_wrongly_cited_sentence_moves_to_the_passage_that_says_it(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        return f"{sentence} [{other_than(passages, n)}]"

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert PREFER in cited_snippet(answer, PREFER)
    assert answer.extra["writer"]["reassigned"] == 1


def test_an_uncited_sentence_gets_the_passage_that_says_it(fake_shipped_index, llm, embedder):
    def script(passages):
        _, sentence = sentence_with(passages, "1-3 years")
        return sentence

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert PREFER in cited_snippet(answer, PREFER)


def test_an_invented_number_never_reaches_the_reader(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return f"{other} [{m}] {sentence.replace('1-3', '4-6')} [{n}]"

    llm.script = script
    texts, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert "4-6" not in answer.text and not any("4-6" in text for text in texts)
    assert answer.extra["writer"]["replaced"] == 1
    assert "replaced by the guides' own words" in answer.text


def test_strengthened_wording_is_replaced(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return f"{other} [{m}] {sentence.replace('Many positions prefer', 'Every position requires')} [{n}]"

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert "requires" not in answer.text and PREFER in answer.text
    assert "1 of the model's sentences was not supported" in answer.text


def test_a_sentence_already_shown_as_a_replacement_is_not_shown_twice(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return f"{other} [{m}] {sentence.replace('1-3', '9-11')} [{n}] {sentence} [{n}]"

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert answer.text.count(PREFER) == 1 and "9-11" not in answer.text
    assert answer.extra["writer"]["repeated"] == 1


def test_a_sentence_cut_off_is_not_shown(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        return f"{sentence} [{n}] Lecturers who publish five papers can then"

    llm.script = script
    texts, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert "can then" not in answer.text and not any("can then" in text for text in texts)
    assert answer.extra["writer"]["cut_off"] == 1 and answer.text.startswith(PREFER)


def test_sentences_stream_before_the_model_finishes(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return f"{sentence} [{n}] {other} [{m}]"

    llm.script, llm.piece_delay = script, 0.05
    started, first_text = time.perf_counter(), None
    texts = []
    for event in writer_engine(fake_shipped_index, llm, embedder).stream(POSTDOC):
        if isinstance(event, Text):
            first_text = first_text or time.perf_counter() - started
            texts.append(event.text)
        elif isinstance(event, Final):
            answer, total = event.answer, time.perf_counter() - started
    assert len(texts) == 2 and "".join(texts) == answer.text
    # The first sentence was shown while the second was still being written.
    assert first_text < total - 10 * llm.piece_delay


def test_a_slow_model_gives_the_extractive_answer_within_the_timeout(fake_shipped_index, llm, embedder):
    llm.script, llm.delay = (lambda passages: "Too late."), 5.0
    started = time.perf_counter()
    texts, answer = events_of(writer_engine(fake_shipped_index, llm, embedder, **{"answer.writer_timeout": 0.5}), POSTDOC)
    assert time.perf_counter() - started < llm.delay
    assert answer.text.startswith("The language model took too long") and PREFER in answer.text
    assert not texts and not answer.refused and answer.citations


@pytest.mark.parametrize("failure", ["http-500", "nothing-listening"])
def test_a_failing_model_gives_the_extractive_answer_with_a_notice(fake_shipped_index, llm, embedder, failure):
    overrides = {}
    if failure == "http-500":
        llm.status = 500
    else:
        overrides["writer.base_url"] = "http://127.0.0.1:9/v1"
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder, **overrides), POSTDOC)
    assert answer.text.startswith("The written answer is not available") and PREFER in answer.text
    assert answer.extra["writer"]["fallback"] == "down"


def test_too_few_supported_sentences_give_the_extractive_answer(fake_shipped_index, llm, embedder):
    llm.script = lambda passages: "Lecturers must hold a pilot licence from the CMME board [1]. That is all [2]."
    _, answer = events_of(
        writer_engine(fake_shipped_index, llm, embedder, **{"writer.min_sentences": 1}), POSTDOC
    )
    assert answer.text.startswith("Too few of the written sentences") and "pilot" not in answer.text
    assert PREFER in answer.text


def test_a_written_answer_covering_less_than_the_extractive_one_gives_the_extractive_one(
    fake_shipped_index, llm, embedder
):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        return f"{sentence} [{n}]"

    llm.script = script
    quoted = Engine.load(fake_shipped_index, embedder).ask(POSTDOC)
    assert quoted.text.count("[") == 2  # the extractive answer quotes two sentences; the model wrote one
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder, **{"writer.min_coverage": 1.0}), POSTDOC)
    assert answer.text == "The written answer left out points the guides make; these are the guides' own words.\n" + quoted.text
    assert answer.extra["writer"]["coverage"] == 0.5 and answer.extra["writer"]["fallback"] == "coverage"


def test_a_written_sentence_on_the_extractive_answers_passage_covers_it_only_with_its_numbers(
    fake_shipped_index, llm, embedder
):
    quoted = Engine.load(fake_shipped_index, embedder).ask(POSTDOC)
    others = [part.split(" [")[0] for part in re.split(r"(?<=\])\s+", quoted.text) if PREFER not in part]

    def script(passages):
        # The passage's own sentence without its "1-3 years", and the extractive answer's other sentences.
        n, sentence = sentence_with(passages, "1-3 years")
        parts = [f"{sentence.replace(' lasting 1-3 years', '')} [{n}]"]
        for other in others:
            m, said = sentence_with(passages, other[:40])
            parts.append(f"{said} [{m}]")
        return " ".join(parts)

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder, **{"writer.min_coverage": 1.0}), POSTDOC)
    assert answer.extra["writer"]["fallback"] == "coverage" and "1-3 years" in answer.text


def test_comparisons_and_refusals_stay_as_the_engine_decides(fake_shipped_index, llm, embedder):
    engine = writer_engine(fake_shipped_index, llm, embedder)
    compared = engine.ask("Compare a lecturer and an assistant professor")
    assert compared.comparison is not None and compared.extra["writer"]["fallback"] == "kind"
    quoted = Engine.load(fake_shipped_index, embedder).ask("Compare a lecturer and an assistant professor")
    assert compared.text == quoted.text
    refused = engine.ask("How do I become an airline pilot?")
    assert refused.refused
    assert llm.requests == []


def test_guide_ask_json_uses_the_writer_set_in_guide_yaml(fake_shipped_index, llm, tmp_path):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        return f"{sentence} [{n}]"

    llm.script = script
    config = tmp_path / "guide.yaml"
    config.write_text(
        yaml.safe_dump({"answer": {"backend": "writer"},
                        "writer": {"base_url": llm.url, "model": "scripted", "min_coverage": 0.0}})
    )
    folders = ["--config", str(config), "--corpus", str(fake_shipped_index.corpus_dir), "--index",
               str(fake_shipped_index.index_dir)]
    env = {"GUIDE_MODEL": "fake", "GUIDE_WRITER_API_KEY": "sk-secret-123"}
    result = CliRunner().invoke(main, [*folders, "ask", POSTDOC, "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"].startswith(PREFER) and data["citations"]
    assert llm.requests[0]["model"] == "scripted"
    assert llm.headers[0]["Authorization"] == "Bearer sk-secret-123" and "sk-secret" not in result.output


def test_the_environment_chooses_the_writer_and_its_server(fake_shipped_index, llm):
    llm.status = 500
    folders = ["--corpus", str(fake_shipped_index.corpus_dir), "--index", str(fake_shipped_index.index_dir)]
    env = {"GUIDE_MODEL": "fake", "GUIDE_ANSWER_BACKEND": "writer", "GUIDE_WRITER_URL": llm.url}
    result = CliRunner().invoke(main, [*folders, "ask", POSTDOC, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"].startswith("The written answer is not available")
    assert len(llm.requests) == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"writer": {"mode": "cloud"}}, "'writer.mode' must be openai or local"),
        ({"writer": {"min_overlap": 1.5}}, "'writer.min_overlap' must be between 0 and 1.0"),
        ({"answer": {"backend": "writer"}, "writer": {"base_url": "localhost:11434"}},
         "writer.base_url must be the server's http:// or https:// address"),
        ({"answer": {"backend": "writer"}, "writer": {"mode": "local", "model_path": "missing.gguf"}},
         "writer.model_path must name a GGUF model file"),
    ],
)
def test_wrong_writer_settings_stop_with_a_message(fake_shipped_index, tmp_path, settings, message):
    config = tmp_path / "guide.yaml"
    config.write_text(yaml.safe_dump(settings))
    folders = ["--config", str(config), "--corpus", str(fake_shipped_index.corpus_dir), "--index",
               str(fake_shipped_index.index_dir)]
    result = CliRunner().invoke(main, [*folders, "ask", POSTDOC], env={"GUIDE_MODEL": "fake"})
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_every_shown_sentence_is_supported_by_its_citation(fake_shipped_index, llm, embedder):
    """A mixed answer: of right, wrong, uncited, invented and strengthened sentences, only the
    supported ones are shown, each on a passage that holds its numbers."""

    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return (
            f"{other} [{other_than(passages, m)}] {sentence.replace('1-3', '2-4')} [{n}] "
            f"The CMME certificate is essential for lecturers [{n}]. {sentence} [{n}]"
        )

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    body = answer.text.split("\n(")[0]
    for sentence, n in re.findall(r"(.+?) \[(\d+)\]\s*", body):
        snippet = next(c.snippet for c in answer.citations if c.n == int(n))
        assert numbers_in(sentence) <= numbers_in(snippet), (sentence, snippet)
    assert "CMME" not in answer.text and "2-4" not in answer.text


def test_sentences_are_cut_where_they_end_with_their_citations():
    from guide.answer.writer import SentenceStream

    stream = SentenceStream()
    pieces = ["Admits have a GPA above 3.", "5/4.0 [1]. Some programs, e.g. ", "Stanford, want a master's. ", "[2] A Ph", ".D. takes 3-7 years [3]", " and"]
    sentences = [s for piece in pieces for s in stream.feed(piece)]
    assert sentences == ["Admits have a GPA above 3.5/4.0 [1].", "Some programs, e.g. Stanford, want a master's. [2]"]
    assert stream.finish() == (None, "A Ph.D. takes 3-7 years [3] and")
    stream.feed("It ends here [4].")
    assert stream.finish() == ("It ends here [4].", "")
    listed = stream.feed("Skills:\n- Python and PyTorch [1]\n- Lecturer Guide > Skills\n2. [1]\n")
    assert listed == ["Skills:", "- Python and PyTorch [1]", "- Lecturer Guide > Skills", "2. [1]"]


def test_a_passage_heading_repeated_by_the_model_is_not_shown(fake_shipped_index, llm, embedder):
    def script(passages):
        n, sentence = sentence_with(passages, "1-3 years")
        m, other = sentence_with(passages, "PhD in computer science")
        return f"{other} [{m}] Lecturer Jobs in Machine Learning > Qualifications and Experience\n2. [{n}] {sentence} [{n}]"

    llm.script = script
    _, answer = events_of(writer_engine(fake_shipped_index, llm, embedder), POSTDOC)
    assert " > " not in answer.text and "\n2." not in answer.text and PREFER in answer.text


def test_numbers_names_degrees_and_modality_are_checked():
    from guide.answer.verify import degrees_in, names_in, split_citations

    assert numbers_in("GPA above 3.5/4.0 and 5-7 years, £100,000") == {"3.5", "4.0", "5", "7", "100000"}
    assert names_in("Most lecturers hold a PhD from MIT and an MD") == {"phd", "mit", "md"}
    assert names_in("Lecturers teach") == set()
    assert degrees_in("Most lecturers hold a PhD from MIT and an MD") == {"phd", "md"}
    assert split_citations("They teach [2, 3] and research [Passage 4].") == ("They teach and research.", (2, 3, 4))


def test_guide_eval_sets_the_writer_beside_the_extractive_answerer(fake_shipped_index, llm, tmp_path):
    from tests.llm_server import mimic

    llm.script = mimic
    facts = tmp_path / "facts.yaml"
    facts.write_text(yaml.safe_dump([
        {"question": POSTDOC, "role": "lecturer", "facts": ["1-3 years"]},
        {"question": "How do I become an airline pilot?", "out_of_scope": True},
    ]))
    useful = tmp_path / "useful.yaml"
    useful.write_text(yaml.safe_dump([
        {"group": "broad", "question": "How do I become a machine learning lecturer?", "points": ["1-3 years"]},
    ]))
    folders = ["--corpus", str(fake_shipped_index.corpus_dir), "--index", str(fake_shipped_index.index_dir)]
    env = {"GUIDE_MODEL": "fake", "GUIDE_ANSWER_BACKEND": "writer", "GUIDE_WRITER_URL": llm.url}
    result = CliRunner().invoke(main, [*folders, "eval", "--set", str(facts), "--usefulness", str(useful), "--json"],
                                env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["answerers"]
    assert set(figures) == {"facts", "usefulness"} and set(figures["facts"]) == {"writer", "extractive"}
    written, quoted = figures["facts"]["writer"], figures["facts"]["extractive"]
    assert written["unsupported_numbers"] == 0 and written["citation_precision"] == 1.0
    # The mimic's invented "12 years" and its uncited or miscited sentences were caught.
    assert written["sentences_replaced"] >= 1 and quoted["sentences_replaced"] == 0
    assert written["off_topic_answered"] == 0 and "first_text_median_s" in written
    # The model was asked once per answered question, not again by the evaluation after it.
    assert len(llm.requests) == 2
    plain = CliRunner().invoke(main, [*folders, "eval", "--set", str(facts), "--usefulness", str(useful), "--json"],
                               env={"GUIDE_MODEL": "fake"})
    assert "answerers" not in json.loads(plain.stdout)


def test_the_verifier_refuses_a_passage_heading_as_a_claim(fake_shipped_index, embedder):
    from guide.answer.verify import Verifier

    engine = Engine.load(fake_shipped_index, embedder)
    hits = engine.retrieve(engine.interpret(POSTDOC)).hits
    verifier = Verifier(engine.index, hits, engine.embed_many, engine.settings.writer)
    verdict = verifier.check(f"{hits[0].chunk.title} > {hits[0].chunk.section} [1]")
    assert verdict.support is None and verdict.reason == "repeats a passage's heading"
    assert verifier.check(f"{PREFER}. [1]").support is not None
