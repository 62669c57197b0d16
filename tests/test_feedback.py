from __future__ import annotations

import json
import threading

from click.testing import CliRunner

from guide.answer.records import Answer
from guide.ask.interpret import Interpretation
from guide.cli import main
from guide.serve.feedback import append_record, automatic_kind, feedback_record, find_gaps, read_records


def _answer(question: str, refused: bool = False, confidence: float = 0.9) -> Answer:
    return Answer(
        question, Interpretation(question, question, question), "text [1]" if not refused else "no", refused, confidence
    )


def test_records_hold_question_answer_and_citations(tmp_path):
    path = tmp_path / "log" / "feedback.jsonl"
    append_record(path, feedback_record("thumbs-down", _answer("How long is a postdoc?")))
    records, bad = read_records(path)
    assert bad == 0 and records[0]["kind"] == "thumbs-down" and records[0]["question"] == "How long is a postdoc?"
    assert set(records[0]) >= {"time", "interpreted_as", "answer", "refused", "confidence", "citations"}


def test_refusals_and_weak_answers_are_logged_automatically():
    assert automatic_kind(_answer("x", refused=True)) == "refused"
    assert automatic_kind(_answer("x", confidence=0.3)) == "low-confidence"
    assert automatic_kind(_answer("x", confidence=0.95)) is None


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"

    def write(number: int) -> None:
        for _ in range(50):
            append_record(path, feedback_record("refused", _answer(f"question {number} " + "x" * 2000, refused=True)))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records, bad = read_records(path)
    assert len(records) == 400 and bad == 0


def test_gaps_group_similar_questions_and_ignore_thumbs_up():
    records = [
        {"kind": "refused", "question": "What is the salary of a postdoc?"},
        {"kind": "thumbs-down", "question": "Postdoc salary in Europe?"},
        {"kind": "low-confidence", "question": "How do I negotiate a startup package?"},
        {"kind": "thumbs-up", "question": "What GPA do PhD admits have?"},
    ]
    groups = find_gaps(records)
    assert len(groups) == 2
    assert groups[0].questions == ["What is the salary of a postdoc?", "Postdoc salary in Europe?"]
    assert groups[0].kinds == {"refused": 1, "thumbs-down": 1}


def test_gaps_command(tmp_path):
    path = tmp_path / "feedback.jsonl"
    lines = [
        {"kind": "refused", "question": "What is the salary of a postdoc?"},
        {"kind": "thumbs-down", "question": "Postdoc salary in Europe?"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    result = CliRunner().invoke(main, ["gaps", "--file", str(path)])
    assert result.exit_code == 0
    assert "1 refused, 1 thumbs-down" in result.stdout and "Postdoc salary in Europe?" in result.stdout
    assert "1 line(s)" in result.stderr
    data = json.loads(CliRunner().invoke(main, ["gaps", "--file", str(path), "--json"]).stdout)
    assert data["groups"][0]["count"] == 2 and data["unreadable_lines"] == 1
    empty = CliRunner().invoke(main, ["gaps", "--file", str(tmp_path / "none.jsonl")])
    assert empty.exit_code == 0 and "No feedback yet" in empty.stdout
