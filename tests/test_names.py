"""Role names resolved with the whole corpus in view, their warnings, and short refusals."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from guide.ask.lexicon import Lexicon
from guide.cli import main
from guide.ingest.collection import Collection
from guide.ingest.corpus import Document
from guide.ingest.names import role_names

FIELD = ("machine learning", "ml")


def doc(role: str, title: str = "", aliases: tuple[str, ...] = (), hints: tuple[str, ...] = (), text: str = "") -> Document:
    return Document(role, f"{role}.md", title or role.title(), role, "", "", text or f"About {role}.\n", "0",
                    role.replace("-", " "), aliases, hints)


def test_a_role_named_like_the_field_picks_no_guide_and_is_reported():
    docs = [doc("machine-learning"), doc("lecturer")]
    names, warnings = role_names(docs, FIELD)
    assert {n.role for n in names} == {"lecturer"}
    assert [(w.kind, w.files) for w in warnings] == [("field", ("machine-learning.md",))]
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.detect_roles("What does an ML lecturer earn?")[0] == ("lecturer",)
    assert lexicon.detect_roles("Is machine learning a good career?")[0] == ()


def test_an_own_name_beats_another_guides_alias_and_equal_aliases_cancel():
    docs = [doc("researcher", hints=("postdoc",)), doc("postdoc"),
            doc("phd", aliases=("admissions",)), doc("admissions-officer", aliases=("admissions",))]
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.detect_roles("How long do postdoc contracts run?")[0] == ("postdoc",)
    assert lexicon.detect_roles("When do admissions open?")[0] == ()
    kinds = {(w.kind, w.name): w for w in lexicon.warnings}
    assert kinds[("shared", "postdoc")].kept == "postdoc"
    assert kinds[("shared-dropped", "admissions")].files == ("admissions-officer.md", "phd.md")


def test_a_name_shared_with_a_guide_of_the_field_is_its_own_when_the_question_names_the_field():
    docs = [doc("researcher", "Machine Learning Research Jobs", hints=("postdoc",)),
            doc("assistant-professor", "Assistant Professor Jobs in ML", hints=("tenure-track", "faculty")),
            doc("postdoc", "Postdoctoral Researcher job profile"), doc("adjunct-professor", "Adjunct professor profile"),
            doc("lecturer", "ML Lecturer Jobs", hints=("professor",))]  # fmt: skip
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.field_roles == {"researcher", "assistant-professor", "lecturer"}
    assert lexicon.detect_roles("How long do postdoc contracts run?")[0] == ("postdoc",)
    assert lexicon.detect_roles("Where are the big hubs for ML postdoc opportunities?")[0] == ("researcher",)
    # Freed of the postdoc pages' claim, "postdoc" is a hint again, outweighed by two others.
    question = "How long a postdoc do people have before landing a tenure-track ML faculty job?"
    assert lexicon.detect_roles(question)[0] == ("assistant-professor",)
    # A longer name outside the field keeps its words: the field's hint covers only part of them.
    assert lexicon.detect_roles("Do ML adjunct professors need a PhD?")[0] == ("adjunct-professor",)
    # Without a guide of the field claiming it, the field changes nothing.
    assert Lexicon(docs[2:4], Collection(field=FIELD)).detect_roles("ML postdoc pay")[0] == ("postdoc",)


def test_a_question_naming_the_field_and_no_role_prefers_the_fields_guides_where_others_exist():
    docs = [doc("researcher", "Machine Learning Research Jobs"), doc("lecturer", "ML Lecturer Jobs"),
            doc("research-administrator", "Research administrator job profile")]  # fmt: skip
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.field_preference("What is the usual career ladder in ML research?") == ("lecturer", "researcher")
    assert lexicon.field_preference("What is the usual career ladder in research?") == ()
    # Where every guide is of the field, preferring them all would change nothing but the scores.
    assert Lexicon(docs[:2], Collection(field=FIELD)).field_preference("ML research careers") == ()


def test_a_title_names_its_role_by_its_abbreviation_unless_several_roles_share_it():
    docs = [doc("certified-public-accountant", "What Does a CPA Do? Duties and Salary"),
            doc("nurse", "Nurse job profile (UK)"), doc("lawyer", "Lawyer job profile (UK)")]
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.detect_roles("What does a CPA do?")[0] == ("certified-public-accountant",)
    assert lexicon.detect_roles("Jobs in the UK")[0] == ()


def test_a_one_word_hint_the_guides_of_many_roles_use_picks_no_guide():
    others = [doc(f"role-{n}", text="Most faculty members teach.\n") for n in range(12)]
    docs = [doc("assistant-professor", hints=("faculty", "tenure")), *others]
    lexicon = Lexicon(docs, Collection(field=FIELD))
    assert lexicon.detect_roles("What share of faculty are adjuncts?")[0] == ()
    assert lexicon.detect_roles("How long is tenure?")[0] == ("assistant-professor",)
    assert [w.name for w in lexicon.warnings if w.kind == "common"] == ["faculty"]
    # With few roles a word's spread says nothing: the hint stays.
    few = Lexicon([docs[0], *others[:3]], Collection(field=FIELD))
    assert few.detect_roles("What share of faculty are adjuncts?")[0] == ("assistant-professor",)


def _guide(folder: Path, role: str, extra: str = "") -> None:
    (folder / f"{role}.md").write_text(
        f"---\ntitle: {role.title()} Careers\nrole: {role}\nsource: test\n{extra}---\n\n# {role.title()}\n\n"
        f"## Pay\n\nA {role} earns a salary that grows with experience.\n\n## Training\n\nA {role} trains for years.\n",
        encoding="utf-8",
    )


def test_build_and_status_report_collisions_and_refusals_stay_short(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "collection.yaml").write_text("field: [machine learning]\n", encoding="utf-8")
    for number in range(40):
        _guide(corpus, f"career-number-{number}-with-a-long-name")
    _guide(corpus, "machine-learning")
    _guide(corpus, "chef", "aliases: [cook]\n")
    _guide(corpus, "baker", "aliases: [cook]\n")
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    env = {"GUIDE_MODEL": "fake"}
    built = CliRunner().invoke(main, [*folders, "build"], env=env)
    assert built.exit_code == 0, built.output
    assert "Warning: The role name 'machine learning' (machine-learning.md)" in built.stderr
    assert "'cook' names several roles equally (baker.md, chef.md)" in built.stderr
    status = CliRunner().invoke(main, [*folders, "status", "--json"], env=env)
    warnings = json.loads(status.stdout)["warnings"]
    assert sorted(w["kind"] for w in warnings) == ["field", "shared-dropped"]
    asked = CliRunner().invoke(main, [*folders, "ask", "--json", "How do I bake sourdough bread?"], env=env)
    answer = json.loads(asked.stdout)
    assert answer["refused"] and len(answer["answer"].split()) <= 60, answer["answer"]
    assert 1 <= len(answer["suggestions"]) <= 3
