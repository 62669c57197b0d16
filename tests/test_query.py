from __future__ import annotations

from pathlib import Path

import pytest

from guide.ask.interpret import clean_question, interpret, leans_on_conversation, question_kind
from guide.ask.lexicon import Lexicon, content_words
from guide.ask.subjects import asked_subject, asked_thing
from guide.ingest.collection import load_collection
from guide.ingest.corpus import load_corpus, parse_guide

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SECOND = ROOT / "eval" / "second-corpus"


def shipped_lexicon(*extra) -> Lexicon:
    documents, _ = load_corpus(CORPUS)
    return Lexicon([*documents, *extra], load_collection(CORPUS))


LEXICON = shipped_lexicon()


def guide(role: str, label: str = "", aliases: str = "[]") -> object:
    text = f"---\ntitle: {role} guide\nrole: {role}\nlabel: '{label}'\naliases: {aliases}\n---\n\n# T\n\nSome text here.\n"
    return parse_guide(text, f"{role}.md")


@pytest.mark.parametrize(
    ("question", "roles"),
    [
        ("How long is the tenure track for an assistant professor?", ("assistant-professor",)),
        ("What do tenure-track faculty teach?", ("assistant-professor",)),
        ("Do lecturers need a PhD?", ("lecturer",)),
        ("How long does a doctorate take?", ("phd",)),
        ("What GPA do admits have?", ("phd",)),
        ("What skills do clinical professors need?", ("clinical-professor",)),
        ("Is a PhD required for research jobs?", ("researcher",)),
        ("How much postdoc experience is expected?", ("researcher",)),
        ("Compare a lecturer and an assistant professor", ("lecturer", "assistant-professor")),
        ("What programming languages should I learn?", ()),
        ("What does an ML assistant professor do?", ("assistant-professor",)),
        ("What does a clinical machine learning professor teach?", ("clinical-professor",)),
        ("What is an assistant professor's salary?", ("assistant-professor",)),
    ],
)
def test_roles_named_by_a_question_come_from_the_guides_front_matter(question, roles):
    assert LEXICON.detect_roles(question)[0] == roles


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("how to becom asistant profesor in ml", "assistant-professor"),
        ("lecturer reqs", "lecturer"),
        ("prof qualifications", "assistant-professor"),
        ("what do lecturrers teach", "lecturer"),
    ],
)
def test_typos_and_shorthand_still_find_the_role(question, role):
    assert LEXICON.detect_roles(LEXICON.correct(question))[0] == (role,)


def test_typo_tolerance_can_be_turned_off():
    documents, _ = load_corpus(CORPUS)
    strict = Lexicon(documents, load_collection(CORPUS), typo_tolerance=False)
    assert strict.detect_roles("asistant profesor")[0] == ()


def test_misspelt_words_are_corrected_to_the_guides_words_and_known_words_are_kept():
    assert LEXICON.correct("reserch positions in machine lerning") == "research positions in machine learning"
    assert LEXICON.correct("How do I become an airline pilot?") == "How do I become an airline pilot?"
    # Another form of a guide's word is no typo ("funds" for "funding", "valued" for "value").
    assert LEXICON.correct("Who funds it and how is it valued?") == "Who funds it and how is it valued?"
    # Nor is common English the guides happen not to use, given a list of English words.
    documents, _ = load_corpus(CORPUS)
    english = Lexicon(documents, load_collection(CORPUS), english={"expect"})
    assert english.correct("How many papers do they expect?") == "How many papers do they expect?"


def test_a_new_guide_whose_name_is_another_guides_alias_wins_that_name():
    # The researcher guide lists "research scientist" among its aliases; a research-scientist
    # guide's own name is stronger, so the question names one role, not two.
    lexicon = shipped_lexicon(guide("research-scientist", "research scientist"))
    assert lexicon.detect_roles("What does a research scientist earn?")[0] == ("research-scientist",)
    assert lexicon.detect_roles("What does a researcher earn?")[0] == ("researcher",)


def test_a_role_named_with_the_field_is_found_whichever_name_of_the_field_is_used():
    lexicon = shipped_lexicon(guide("ml-engineer"))
    assert lexicon.detect_roles("What do machine learning engineers earn?")[0] == ("ml-engineer",)
    assert lexicon.detect_roles("What do ML engineers earn?")[0] == ("ml-engineer",)


def test_a_postdoc_guide_takes_postdoc_from_the_research_guides_hints():
    documents, _ = load_corpus(SECOND)
    postdoc = next(doc for doc in documents if doc.role == "postdoc")
    lexicon = shipped_lexicon(postdoc)
    assert lexicon.detect_roles("How much are postdocs paid?")[0] == ("postdoc",)
    # A postdoc is a step towards other roles: beside one, it is a requirement.
    assert lexicon.detect_roles("How long a postdoc do lecturers need?")[0] == ("lecturer",)


def test_a_user_added_role_is_detected_from_its_slug():
    lexicon = shipped_lexicon(guide("data-scientist"))
    assert lexicon.detect_roles("What does a data scientist earn?")[0] == ("data-scientist",)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How do I become a machine learning lecturer?", "overview"),
        ("lecturer reqs", "overview"),
        ("What does a clinical professor of machine learning do day to day?", "duties"),
        ("What does an ML lecturer actually do?", "duties"),
        ("What comes after being a lecturer?", "career"),
        ("When did the assistant professor rank come about?", "history"),
        ("What are the trends in machine learning academic jobs?", "trends"),
        ("Which roles need a medical degree?", "cross-role"),
        ("Which job needs the most postdoc experience?", "cross-role"),
        ("I have a master's and two papers, can I apply for an ML PhD?", "situation"),
        ("How long is the tenure track?", "fact"),
        ("What does the career ladder look like in ML research?", "career"),
    ],
)
def test_question_kinds(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("And for a clinical professor?", True),
        ("What about pay?", True),
        ("How long does it take?", True),
        ("Which languages do they use?", True),
        ("What are the general trends in machine learning hiring?", False),
        ("Is it worth doing a PhD?", False),
        ("How hard is it to get a lecturer job?", False),
        ("Which roles need a medical degree?", False),
    ],
)
def test_only_questions_that_lean_on_the_conversation_are_follow_ups(question, leans):
    assert leans_on_conversation(question) is leans


def test_follow_up_without_topic_inherits_the_previous_topic_and_takes_the_new_role():
    understood = interpret(
        "And for a clinical professor?", ["How long is the tenure track for an assistant professor?"], LEXICON
    )
    assert understood.roles == ("clinical-professor",)
    assert understood.topic_from_history and not understood.roles_from_history
    # The role is matched by preference, so the query keeps only the topic.
    assert understood.query == "How long is the tenure track?"
    # "Interpreted as" restates the question for the new role.
    assert understood.describe() == "How long is the tenure track for a clinical professor?"


@pytest.mark.parametrize(
    ("follow_up", "earlier", "shown"),
    [
        # The field's name goes with the role it stood before ("an ML PhD"), and "a"/"an" follows the new role.
        ("And for a lecturer?", "What GPA do I need for an ML PhD?", "What GPA do I need for a lecturer?"),
        ("And for an assistant professor?", "What does a machine learning lecturer do?",
         "What does an assistant professor do?"),
        # A plural or bare role name cannot take another role's name: the topic, and what it is about.
        ("What about lecturers?", "What GPA do ML PhDs have?", "What GPA do have? (about: lecturer)"),
        ("And for a lecturer?", "What GPA do I need for PhD admission in ML?",
         "What GPA do I need for admission in ML? (about: lecturer)"),
    ],
)
def test_interpreted_as_restates_a_follow_up_for_its_new_role(follow_up, earlier, shown):
    understood = interpret(follow_up, [earlier], LEXICON)
    assert understood.topic_from_history and understood.describe() == shown
    # Only what is shown changes: the search still uses the earlier topic.
    assert understood.query == interpret(earlier, [], LEXICON).topic


def test_follow_up_takes_the_kind_of_the_question_it_continues():
    understood = interpret("And for a clinical professor?", ["How do I become an ML lecturer?"], LEXICON)
    assert understood.kind == "overview" and understood.roles == ("clinical-professor",)


def test_follow_up_that_leans_on_the_conversation_inherits_the_previous_role():
    understood = interpret("What GPA do they need?", ["How do I get into a PhD program?"], LEXICON)
    assert understood.roles == ("phd",) and understood.roles_from_history
    # "they" are the people in the role, so the role stays a preference, not part of the query.
    assert understood.query == "What GPA do they need?"


def test_a_self_contained_second_question_inherits_nothing():
    understood = interpret(
        "What are the general trends in machine learning hiring?", ["What GPA do I need for an ML PhD?"], LEXICON
    )
    assert understood.roles == () and not understood.changed and understood.kind == "trends"


def test_the_old_rule_inherits_whenever_no_role_is_named():
    understood = interpret(
        "What are the general trends in machine learning hiring?",
        ["What GPA do I need for an ML PhD?"],
        LEXICON,
        only_when_leaning=False,
    )
    assert understood.roles == ("phd",) and understood.roles_from_history


def test_a_question_naming_no_role_keeps_the_conversations_role_unless_it_asks_across_the_guides():
    history = ["What does an ML lecturer do?"]
    kept = interpret("What qualifications are needed?", history, LEXICON, unless_across=True)
    assert kept.roles == ("lecturer",) and kept.roles_from_history and kept.assumed
    # Its own wording does not lean on the conversation, so without the setting it stands alone.
    assert interpret("What qualifications are needed?", history, LEXICON).roles == ()
    across = interpret("What are the general trends in machine learning hiring?", history, LEXICON, unless_across=True)
    assert across.roles == () and not across.changed and across.kind == "trends"
    leaning = interpret("What GPA do they need?", ["How do I get into a PhD program?"], LEXICON, unless_across=True)
    assert leaning.roles == ("phd",) and not leaning.assumed


def test_chained_follow_ups_carry_the_topic_along():
    history = ["What qualifications does a lecturer need?", "And an assistant professor?"]
    understood = interpret("What about research jobs?", history, LEXICON)
    assert understood.roles == ("researcher",)
    assert "qualifications" in understood.query


def test_a_question_with_its_own_role_and_topic_inherits_nothing():
    understood = interpret("What skills do lecturers need?", ["What GPA do PhD admits have?"], LEXICON)
    assert understood.roles == ("lecturer",) and not understood.changed
    assert "lecturers" not in understood.query and "skills" in understood.query


def test_a_pronoun_standing_for_the_previous_role_brings_its_name_into_the_query():
    understood = interpret("How long does it take?", ["What are the entry requirements for a PhD?"], LEXICON)
    assert understood.roles == ("phd",) and understood.query == "How long does it take? (PhD)"


def test_the_field_name_is_left_out_of_the_query_when_other_words_remain():
    assert interpret("What languages do machine learning researchers use?", [], LEXICON).query == "What languages do use?"
    assert interpret("What is machine learning?", [], LEXICON).query == "What is machine learning?"


def test_expansions_come_from_the_collection_file():
    assert LEXICON.expand("What GPA do admits have?") == "What GPA do admits have? (grade point average)"
    assert Lexicon(load_corpus(CORPUS)[0]).expand("What GPA do admits have?") == "What GPA do admits have?"


def test_comparison_with_aspect():
    understood = interpret("Compare a lecturer and an assistant professor on qualifications", [], LEXICON)
    assert understood.compare and understood.aspects == ("qualifications",)


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("How do I become an airline pilot?", "airline pilot"),
        ("How much does a registered nurse earn?", "registered nurse"),
        ("What does a dentist do day to day?", "dentist"),
        ("What is a plumber's pay?", "plumber"),
        ("How long is the tenure track?", None),
        # The asker's own job is not what they ask about.
        ("I work as a nurse. Can I become a lecturer in machine learning?", "lecturer"),
        ("I'm currently training as a nurse; how do I become a PhD student?", "PhD student"),
        ("I have a master's in computer science and work as an engineer. Can I teach ML?", None),
        ("How do I become a pilot?", "pilot"),
        ("Can I work as a nurse and do a PhD?", "nurse"),
    ],
)
def test_the_job_a_question_asks_about(question, subject):
    assert asked_subject(question) == subject


def test_content_words_drop_fillers():
    assert content_words("And what about the lecturers?") == ["lecturers"]
    assert content_words("How many publications?") == ["many", "publications"]


def test_clean_question_strips_control_characters_and_caps_length():
    assert clean_question("  What\x00 is\x1b[31m  this?\u202e ", 100) == ("What is [31m this?", None)
    text, notice = clean_question("word " * 1000, 50)
    assert len(text) <= 50 and notice and "4,999 characters" in notice
    assert clean_question("Что такое PhD? 🎓", 100) == ("Что такое PhD? 🎓", None)


@pytest.mark.parametrize(
    ("question", "role"),
    [("prof", "assistant-professor"), ("ML lecturer", "lecturer"), ("lecturers", "lecturer"), ("phd", "phd")],
)
def test_a_question_that_only_names_a_role_asks_what_the_role_takes(question, role):
    understood = interpret(question, lexicon=LEXICON)
    assert understood.roles == (role,) and understood.kind == "overview" and understood.names_only


@pytest.mark.parametrize("question", ["lecturer salary", "What does a lecturer earn?", "prof duties"])
def test_a_question_with_a_topic_beside_the_role_is_not_a_bare_role(question):
    understood = interpret(question, lexicon=LEXICON)
    assert understood.roles and not understood.names_only


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("How do I get a student visa for a PhD in the UK?", "a student visa"),
        ("How do I get a lecturer job?", "a lecturer job"),
        ("How do I get into a PhD?", None),
        ("What GPA do I need for a PhD?", None),
    ],
)
def test_the_thing_a_question_asks_how_to_get(question, thing):
    assert asked_thing(question) == thing
