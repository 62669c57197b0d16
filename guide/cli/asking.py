"""`guide search` and `guide ask`: one question, or a batch of them as JSON Lines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from guide.cli.base import current_settings, fail, handles_errors, main, open_engine
from guide.errors import GuideError


def _batch_lines(path: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, request, error) for each non-empty line of a JSON Lines file ('-' for stdin)."""
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except ValueError as error:
                yield number, None, f"line {number} is not JSON ({error})"
                continue
            if not isinstance(request, dict) or not isinstance(request.get("question"), str):
                yield number, None, f'line {number} must be an object with a "question" string'
                continue
            history = request.get("history", [])
            if not isinstance(history, list) or not all(isinstance(item, str) for item in history):
                yield number, None, f'line {number}: "history" must be a list of strings'
                continue
            yield number, request, None
    except OSError as error:
        raise GuideError(f"Cannot read the batch file {path}: {error}") from None
    except UnicodeDecodeError:
        raise GuideError(f"The batch file {path} is not UTF-8 text.") from None
    finally:
        if handle is not sys.stdin:
            handle.close()


def _run_batch(path: str, answer: Callable[[str, list[str]], dict[str, Any]]) -> None:
    failures = 0
    for _, request, error in _batch_lines(path):
        if error is not None:
            failures += 1
            click.echo(json.dumps({"error": error}, ensure_ascii=False))
            continue
        click.echo(json.dumps(answer(request["question"], request.get("history", [])), ensure_ascii=False))
    if failures:
        fail(f"{failures} line(s) of {path} could not be read; see the error objects in the output.")


def _check_batch_source(batch: str | None) -> None:
    if batch is not None and batch != "-" and not os.path.isfile(batch):
        fail(f"The batch file {batch} does not exist.")


@main.command()
@click.argument("question", required=False)
@click.option("--k", "k", type=click.IntRange(1, 100), help="How many passages (default from settings: 5).")
@click.option("--role", "roles", multiple=True, help="Only passages from guides of this role (repeatable).")
@click.option("--history", multiple=True, help="An earlier question of the conversation (repeatable, oldest first).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: {query, hits: [{rank, score, doc_id, title, role, section, path, text}]}.",
)
@click.option(
    "--batch",
    type=str,
    help="Read JSON Lines {question, history} from FILE ('-' for stdin); write one JSON object per line.",
)
@handles_errors
def search(
    question: str | None,
    k: int | None,
    roles: tuple[str, ...],
    history: tuple[str, ...],
    as_json: bool,
    batch: str | None,
) -> None:
    """Show the passages of the guides that best match QUESTION."""
    engine = _engine_for(question, batch, roles)

    def run(text: str, past: list[str]) -> dict[str, Any]:
        _, hits = engine.search(text, k=k, roles=roles, history=past)
        return _hits_json(engine, text, hits)

    if batch is not None:
        _run_batch(batch, run)
        return
    result = run(question or "", list(history))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if not result["hits"]:
        click.echo("No passages found.")
    for hit in result["hits"]:
        click.echo(f"{hit['rank']}. [{hit['score']:.3f}] {hit['title']} — {hit['section']} ({hit['path']})")
        click.echo("   " + hit["text"].replace("\n", "\n   "))


def _hits_json(engine: Any, question: str, hits: list[Any]) -> dict[str, Any]:
    documents = engine.index.documents
    return {
        "query": question,
        "hits": [
            {
                "rank": hit.rank,
                "score": round(float(hit.score), 6),
                "doc_id": hit.chunk.doc_id,
                "title": hit.chunk.title,
                "role": hit.chunk.role,
                "section": hit.chunk.section,
                # Relative to the corpus folder: the server's own folders are nobody's business.
                "path": documents[hit.chunk.doc_id].path,
                "text": hit.chunk.text,
            }
            for hit in hits
        ],
    }


def _engine_for(question: str | None, batch: str | None, roles: tuple[str, ...]) -> Any:
    """Check the arguments of `search` and `ask`, then load the engine."""
    _require_question(question, batch)
    _check_batch_source(batch)
    engine = open_engine(current_settings())
    _check_roles(roles, engine.index.roles)
    return engine


def _require_question(question: str | None, batch: str | None) -> None:
    if batch is None and question is None:
        fail("Give a QUESTION, or --batch FILE with one JSON question per line.", 2)
    if batch is not None and question is not None:
        fail("Give either a QUESTION or --batch FILE, not both.", 2)


def _check_roles(roles: tuple[str, ...], available: list[str]) -> None:
    unknown = [role for role in roles if role not in available]
    if unknown:
        fail(f"Unknown role {', '.join(unknown)}; the guides have: {', '.join(available)}.", 2)


@main.command()
@click.argument("question", required=False)
@click.option("--history", multiple=True, help="An earlier question of the conversation (repeatable, oldest first).")
@click.option(
    "--k", "k", type=click.IntRange(1, 100), help="How many passages to draw from (default from settings: 5)."
)
@click.option("--role", "roles", multiple=True, help="Only answer from guides of this role (repeatable).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: {question, answer, refused, confidence, citations: [{n, doc_id, title, section, path, snippet}]}.",
)
@click.option(
    "--batch",
    type=str,
    help="Read JSON Lines {question, history} from FILE ('-' for stdin); write one JSON object per line.",
)
@handles_errors
def ask(
    question: str | None,
    history: tuple[str, ...],
    k: int | None,
    roles: tuple[str, ...],
    as_json: bool,
    batch: str | None,
) -> None:
    """Answer QUESTION from the guides, citing each sentence's source as [n].

    Without QUESTION or --batch, the question is read from standard input (`echo "…" | guide ask`).
    """
    if question is None and batch is None and not sys.stdin.isatty():
        question = " ".join(sys.stdin.read().split())
        if not question:
            fail("Standard input held no question; give a QUESTION or pipe one in.", 2)
    engine = _engine_for(question, batch, roles)
    if batch is not None:
        _run_batch(batch, lambda text, past: engine.ask(text, history=past, k=k, roles=roles).to_json())
        return
    answer = engine.ask(question or "", history=list(history), k=k, roles=roles)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        print_answer(answer)
    if not (question or "").strip():
        sys.exit(2)


def print_answer(answer: Any) -> None:
    if answer.notice:
        click.echo(f"Note: {answer.notice}", err=True)
    if answer.interpretation.changed:
        click.echo(f"Interpreted as: {answer.interpretation.describe()}")
    click.echo(answer.text)
    if not answer.refused:
        click.echo(f"\nConfidence: {answer.level} ({answer.confidence:.2f})")
    if answer.citations:
        click.echo("\nSources:")
        for citation in answer.citations:
            click.echo(f"[{citation.n}] {citation.title} — {citation.section} ({citation.path})")
            if citation.also_at:
                click.echo(f"    Also at: {', '.join(citation.also_at)}")
            click.echo("    " + citation.snippet.replace("\n", "\n    "))
