from __future__ import annotations

import pytest

from guide.query import clean_question, content_words, detect_roles, interpret

ROLES = ["assistant-professor", "clinical-professor", "lecturer", "phd", "researcher"]


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
    ],
)
def test_roles_named_by_a_question(question, roles):
    assert detect_roles(question, ROLES)[0] == roles


def test_roles_not_in_the_index_are_not_detected():
    assert detect_roles("Do lecturers need a PhD?", ["phd"])[0] == ("phd",)


def test_a_user_added_role_is_detected_from_its_slug():
    assert detect_roles("What does a data scientist earn?", [*ROLES, "data-scientist"])[0] == ("data-scientist",)


def test_follow_up_without_topic_inherits_the_previous_topic_and_takes_the_new_role():
    understood = interpret(
        "And for a clinical professor?", ["How long is the tenure track for an assistant professor?"], ROLES
    )
    assert understood.roles == ("clinical-professor",)
    assert understood.topic_from_history and not understood.roles_from_history
    # The role is matched by preference, so the query keeps only the topic.
    assert understood.query == "How long is the tenure track?"
    assert understood.describe() == "How long is the tenure track? (about: clinical professor)"


def test_follow_up_without_role_inherits_the_previous_role():
    understood = interpret("What GPA do they need?", ["How do I get into a PhD program?"], ROLES)
    assert understood.roles == ("phd",) and understood.roles_from_history
    # "they" are the people in the role, so the role stays a preference, not part of the query.
    assert understood.query == "What GPA do they need?"


def test_chained_follow_ups_carry_the_topic_along():
    history = ["What qualifications does a lecturer need?", "And an assistant professor?"]
    understood = interpret("What about research jobs?", history, ROLES)
    assert understood.roles == ("researcher",)
    assert "qualifications" in understood.query


def test_a_question_with_its_own_role_and_topic_inherits_nothing():
    understood = interpret("What skills do lecturers need?", ["What GPA do PhD admits have?"], ROLES)
    assert understood.roles == ("lecturer",) and not understood.changed
    assert "lecturers" not in understood.query and "skills" in understood.query


def test_a_pronoun_standing_for_the_previous_role_brings_its_name_into_the_query():
    understood = interpret("How long does it take?", ["What are the entry requirements for a PhD?"], ROLES)
    assert understood.roles == ("phd",) and understood.query == "How long does it take? (PhD)"


def test_the_field_name_is_left_out_of_the_query_when_other_words_remain():
    assert interpret("What languages do machine learning researchers use?", [], ROLES).query == "What languages do use?"
    assert interpret("What is machine learning?", [], ROLES).query == "What is machine learning?"


def test_comparison_with_aspect():
    understood = interpret("Compare a lecturer and an assistant professor on qualifications", [], ROLES)
    assert understood.compare and understood.aspects == ("qualifications",)


def test_content_words_drop_fillers():
    assert content_words("And what about the lecturers?") == ["lecturers"]
    assert content_words("How many publications?") == ["many", "publications"]


def test_clean_question_strips_control_characters_and_caps_length():
    assert clean_question("  What\x00 is\x1b[31m  this?\u202e ", 100) == ("What is [31m this?", None)
    text, notice = clean_question("word " * 1000, 50)
    assert len(text) <= 50 and notice and "4,999 characters" in notice
    assert clean_question("Что такое PhD? 🎓", 100) == ("Что такое PhD? 🎓", None)
