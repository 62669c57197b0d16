"""The answer builders on their own: literal interpretations of questions over two tiny guides,
the `fake` model, each builder called with the `Request` every builder reads."""

from __future__ import annotations

import dataclasses
import re

import pytest

from guide.answer.base import Request
from guide.answer.compare import compose_comparison
from guide.answer.facts import compose_fact
from guide.answer.structured import compose_structured
from guide.ask import kinds
from guide.ask.interpret import Interpretation
from guide.engine import Engine
from guide.index import build_index
from tests.helpers import make_settings, write_small_corpus


@pytest.fixture
def engine(tmp_path, fake_embedder):
    settings = make_settings(tmp_path, write_small_corpus(tmp_path / "corpus"))
    build_index(settings, fake_embedder)
    return Engine.load(settings, fake_embedder)


def request(engine: Engine, question: str, kind: str = kinds.FACT, roles: tuple[str, ...] = (), **fields) -> Request:
    labels = tuple(role.replace("-", " ") for role in roles)
    interpretation = Interpretation(question, question, question, roles=roles, kind=kind, labels=labels, **fields)
    library = engine.library
    retrieval = engine.retrieve(interpretation, library=library)
    return Request(question, interpretation, retrieval, library, engine.settings, engine.embed_many)


def quoted_from_its_guide(engine: Engine, answer) -> None:
    """Every [n] of the text is a citation, and each citation's passage is its guide's own text."""
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers and numbers <= {citation.n for citation in answer.citations}
    for citation in answer.citations:
        document = engine.index.documents[citation.doc_id]
        assert document.text[citation.start : citation.end].strip()
        assert document.role == citation.role


def test_a_fact_answer_quotes_the_sentence_that_holds_the_fact(engine):
    answer = compose_fact(request(engine, "What GPA do admits have?", roles=("phd",)))
    assert "GPA above 3.5" in answer.text
    assert not answer.refused
    quoted_from_its_guide(engine, answer)
    assert [c.role for c in answer.citations] == ["phd"]


def test_a_fact_answer_says_when_the_named_guide_is_silent_and_another_answers(engine):
    answer = compose_fact(request(engine, "What GPA do admits have?", roles=("lecturer",)))
    assert "GPA above 3.5" in answer.text
    assert answer.text.lower().startswith("the lecturer guide does not say")
    assert answer.confidence <= engine.settings.answer.other_guide_confidence
    quoted_from_its_guide(engine, answer)


def _guide(folder, role: str, body: str) -> None:
    (folder / f"{role}.md").write_text(f"---\ntitle: {role.title()} Guide\nrole: {role}\n---\n\n## Funding\n\n{body}\n")


@pytest.fixture
def three_guides(tmp_path, fake_embedder) -> Engine:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _guide(corpus, "clinician", "Successful grants from bodies like the NIH count. Clinicians publish in journals.")
    _guide(corpus, "postdoc", "Employers value independent research and grant writing. Salaries rise with seniority.")
    _guide(corpus, "dean", "Deans oversee grant management across the faculty. Salaries rise with seniority.")
    settings = make_settings(tmp_path, corpus)
    build_index(settings, fake_embedder)
    return Engine.load(settings, fake_embedder)


def _others_first(request_: Request, role: str) -> Request:
    """`request_` with the guides of other roles ranked first and every sentence of `role`'s
    guide scored below theirs, as among hundreds of guides some other guide's sentence is."""
    found, spans = request_.retrieval, request_.library.index.spans
    hits = sorted(found.hits, key=lambda hit: hit.chunk.role == role)
    own = [request_.library.index.documents[span.doc_id].role == role for span in spans]
    scores = found.sentence_scores.copy()
    scores[own] = scores.min() - 1.0
    retrieval = dataclasses.replace(found, hits=hits, sentence_scores=scores)
    return dataclasses.replace(request_, retrieval=retrieval)


def test_a_fact_answer_quotes_the_named_guide_when_it_speaks_to_the_topic_though_others_score_higher(three_guides):
    asked = _others_first(request(three_guides, "Which grants should they go for?", roles=("clinician",)), "clinician")
    answer = compose_fact(asked)
    assert "NIH" in answer.text and "does not say" not in answer.text
    assert {c.role for c in answer.citations} == {"clinician"}
    quoted_from_its_guide(three_guides, answer)


def test_a_fact_answer_names_the_guides_that_answer_when_the_named_one_is_silent(three_guides):
    asked = _others_first(request(three_guides, "How do salaries rise?", roles=("clinician",)), "clinician")
    answer = compose_fact(asked)
    assert answer.text.startswith("The clinician guide does not say; the ")
    assert answer.text.split("\n")[0].endswith(" guides do:")  # two guides answer
    assert {c.role for c in answer.citations} == {"postdoc", "dean"}


def test_the_named_guides_passage_ranks_first_when_it_speaks_to_the_topic_as_fully(tmp_path, fake_embedder):
    """With the named role pushed down, other guides' passages come first; the named
    one's is moved ahead when it shares as many of the question's words, and only then."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _guide(corpus, "clinician", "Successful grants from bodies like the NIH count.")
    _guide(corpus, "postdoc", "Grant writing is valued; grant money funds posts. Salaries rise.")
    _guide(corpus, "dean", "Deans oversee grant management. Salaries rise with seniority.")
    settings = make_settings(tmp_path, corpus, **{"retrieval.role_boost": -1.0})
    build_index(settings, fake_embedder)
    engine = Engine.load(settings, fake_embedder)

    def ranked(question: str) -> list[str]:
        interpretation = Interpretation(question, question, question, roles=("clinician",), labels=("clinician",))
        return [hit.chunk.role for hit in engine.retrieve(interpretation).hits]

    assert ranked("Which grants should they go for?")[0] == "clinician"
    assert ranked("How do salaries rise?")[0] != "clinician"


QUALIFICATIONS = """
facets:
  - name: qualifications
    description: "Qualifications: the degree needed, a PhD in statistics is essential"
    words: [qualifications]
    kinds: [overview]
"""


def test_a_structured_answer_draws_its_points_from_the_role_asked_about(tmp_path, fake_embedder):
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "collection.yaml").write_text(QUALIFICATIONS)
    guide = (corpus / "lecturer.md").read_text()
    (corpus / "lecturer.md").write_text(guide.replace("is essential.", "is essential for lecturers."))
    settings = make_settings(tmp_path, corpus)
    build_index(settings, fake_embedder)
    engine = Engine.load(settings, fake_embedder)
    answer = compose_structured(request(engine, "How do I become a lecturer?", kinds.OVERVIEW, ("lecturer",)))
    assert answer is not None
    assert answer.text.startswith("What it takes, from the lecturer guide:")
    assert "PhD in statistics is essential" in answer.text
    assert {c.role for c in answer.citations} == {"lecturer"}
    assert answer.points and {point.n for point in answer.points} <= {c.n for c in answer.citations}
    guide = " ".join(engine.index.documents["lecturer"].text.split())
    assert all(" ".join(point.text.split()) in guide for point in answer.points)
    quoted_from_its_guide(engine, answer)


def test_a_structured_answer_for_a_role_the_corpus_lacks_is_none(engine):
    assert compose_structured(request(engine, "How do I become a dean?", kinds.OVERVIEW, ("dean",))) is None


def test_a_comparison_has_a_column_per_role_and_only_cited_cells(engine):
    answer = compose_comparison(
        request(engine, "Compare lecturer and PhD", kinds.COMPARE, ("lecturer", "phd"), compare=True)
    )
    comparison = answer.comparison
    assert comparison is not None
    assert list(comparison.roles) == ["lecturer", "phd"]
    cited = {c.n for c in answer.citations}
    cells = [cell for row in comparison.rows for cell in row.cells if cell is not None]
    assert cells and {number for _, number in cells} <= cited
    for citation in answer.citations:
        assert citation.role in ("lecturer", "phd")


def test_a_list_of_no_names_joins_to_nothing_rather_than_failing():
    from guide.language import english

    assert english.join([]) == ""
    assert english.join(["a"]) == "a"
    assert english.join(["a", "b", "c"]) == "a, b and c"


GROUP_FACETS = """
facets:
  - name: qualifications
    description: "Qualifications: the degree needed, a PhD in statistics is essential"
    words: [qualifications]
    kinds: [overview]
  - name: admission
    description: "Admission to a doctoral programme: grades and degrees of admits"
    words: [admission]
    kinds: [overview]
    roles: [phd]
"""


def test_a_group_of_careers_gets_its_own_facets_and_the_others_the_general_ones(tmp_path, fake_embedder):
    from guide.ingest.collection import parse_collection

    collection = parse_collection(GROUP_FACETS)
    assert [f.name for f in collection.facets_for("overview", ("phd",))] == ["admission"]
    assert [f.name for f in collection.facets_for("overview", ("lecturer",))] == ["qualifications"]
    assert [f.name for f in collection.facets_for("overview")] == ["qualifications"]

    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "collection.yaml").write_text(GROUP_FACETS)
    lecturer_guide = (corpus / "lecturer.md").read_text()
    lecturer_guide = lecturer_guide.replace("A PhD in statistics is essential.", "A PhD in statistics is essential for lecturers.")
    (corpus / "lecturer.md").write_text(lecturer_guide)
    settings = make_settings(tmp_path, corpus)
    build_index(settings, fake_embedder)
    engine = Engine.load(settings, fake_embedder)
    phd = compose_structured(request(engine, "How do I get into a PhD?", kinds.OVERVIEW, ("phd",)))
    assert phd is not None and [p.facet for p in phd.points] == ["admission"]
    assert "GPA above 3.5" in phd.text
    lecturer = compose_structured(request(engine, "How do I become a lecturer?", kinds.OVERVIEW, ("lecturer",)))
    assert lecturer is not None and [p.facet for p in lecturer.points] == ["qualifications"]
    assert "PhD in statistics is essential" in lecturer.text


def test_a_facet_for_roles_must_list_them_as_text():
    from guide.errors import CorpusError
    from guide.ingest.collection import parse_collection

    with pytest.raises(CorpusError, match="'roles' must be a list"):
        parse_collection(GROUP_FACETS.replace("roles: [phd]", "roles: phd"))
