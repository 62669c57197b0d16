"""`guide settings`, `guide eval` and `guide gaps`: what is configured, how good answers are, what users miss."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from guide.cli.base import current_settings, handles_errors, main, open_engine


@main.command(name="settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@handles_errors
def show_settings(as_json: bool) -> None:
    """Print the settings in force: defaults, then guide.yaml, then the environment, then flags.

    The same keys as guide.yaml; a password in feedback.url is hidden.
    """
    import yaml

    from guide.config import settings_dict
    from guide.serve.feedback_store import safe_url

    data = settings_dict(current_settings())
    data["feedback"]["url"] = safe_url(data["feedback"]["url"])
    click.echo(json.dumps(data, indent=2) if as_json else yaml.safe_dump(data, sort_keys=False).rstrip())


@main.command(name="eval")
@click.option(
    "--set", "question_set", type=click.Path(path_type=Path), help="YAML question set [default: eval/questions.yaml]."
)
@click.option(
    "--usefulness",
    "useful_sets",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Usefulness question set (repeatable) [default: eval/usefulness.yaml].",
)
@click.option(
    "--split",
    type=click.Choice(["dev", "heldout", "all"]),
    default="all",
    show_default=True,
    help="Which part of the usefulness sets to score.",
)
@click.option(
    "--grow",
    "extra_corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also answer with these guides added beside the corpus (built in a temporary folder) and compare.",
)
@click.option(
    "--k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="Passages retrieved per question."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures and failures as JSON.")
@click.option(
    "--calibrate", is_flag=True, help="Also print the refusal thresholds and confidence slope the data suggest."
)
@click.option("--check", is_flag=True, help="Exit with status 1 when a figure misses its target.")
@handles_errors
def evaluate_command(
    question_set: Path | None,
    useful_sets: tuple[Path, ...],
    split: str,
    extra_corpus: Path | None,
    k: int,
    as_json: bool,
    calibrate: bool,
    check: bool,
) -> None:
    """Measure answer quality: retrieval and facts on one set, usefulness per question group on another.

    \b
    Retrieval set: hit@1, hit@3, MRR, facts in answers, citations, refusals.
    Usefulness sets: per group (broad, duties, trends, …) key-point recall, boilerplate sentences,
    wrong inheritance, false refusals, off-topic answered, answer length, and how confidence
    follows key-point recall; plus the answer-material filter's precision and recall.
    """
    from guide.quality.report import evaluation_lines, run_evaluation

    settings = current_settings()
    report = run_evaluation(
        settings, lambda: open_engine(settings), question_set, useful_sets, split, extra_corpus, k, calibrate
    )
    if as_json:
        click.echo(json.dumps(report.data, indent=2, ensure_ascii=False))
    else:
        for line in evaluation_lines(report, extra_corpus):
            click.echo(line)
    if check and report.missed:
        sys.exit(1)


@main.command()
@click.option(
    "--file",
    "feedback_file",
    type=click.Path(path_type=Path),
    help="Read this JSON Lines feedback log instead of the database.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the groups as JSON.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="How many groups to show.")
@handles_errors
def gaps(feedback_file: Path | None, as_json: bool, limit: int) -> None:
    """Group the questions the guides answered badly: refused, low confidence, thumbs down.

    The biggest groups are what to write next. The app stores these in the feedback database
    (feedback.url: a SQLite file by default, or PostgreSQL); a feedback.jsonl of an earlier
    version is imported into it first, once.
    """
    from guide.serve.feedback import find_gaps, read_records

    settings = current_settings()
    if feedback_file is not None:
        records, unreadable = read_records(feedback_file)
        source = str(feedback_file)
    else:
        from guide.serve.feedback_store import FeedbackStore, Spool, safe_url

        store = FeedbackStore(settings.feedback.url, settings.feedback.origin)
        try:
            store.import_log(settings.feedback_file)
            # Records still waiting for the database count too.
            waiting = {record.get("id") for record in store.records()}
            records = store.records() + [r for r in Spool(settings.feedback.spool).pending() if r.get("id") not in waiting]
        finally:
            store.close()
        unreadable, source = 0, safe_url(settings.feedback.url)
    groups = find_gaps(records)[:limit]
    if as_json:
        data = [{"count": g.count, "kinds": g.kinds, "words": g.words, "questions": g.questions} for g in groups]
        click.echo(
            json.dumps(
                {"source": source, "records": len(records), "groups": data, "unreadable_lines": unreadable},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not records:
        click.echo(f"No feedback yet in {source}.")
        return
    if unreadable:
        click.echo(f"Warning: {unreadable} line(s) of {source} could not be read and were skipped.", err=True)
    if not groups:
        click.echo(f"Nothing to fix: every logged answer in {source} was rated up.")
    for number, gap in enumerate(groups, start=1):
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(gap.kinds.items()))
        click.echo(f"{number}. {' '.join(gap.words[:8])}  ({kinds})")
        for question in gap.questions[:5]:
            click.echo(f"     - {question}")
