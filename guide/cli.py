"""The `guide` command line: build the index, check it, search, ask, chat."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from guide.config import Settings, load_settings, mask_secrets
from guide.errors import GuideError

PORT = click.IntRange(1, 65535)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {mask_secrets(message)}", err=True)
    sys.exit(code)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a `GuideError` into a one-line message and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GuideError as error:
            _fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--corpus", type=click.Path(path_type=Path), help="Folder of guides [env GUIDE_CORPUS_DIR; default corpus/]."
)
@click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), help="Index folder [env GUIDE_INDEX_DIR; default index/]."
)
@click.option(
    "--config", type=click.Path(path_type=Path), help="Settings file [env GUIDE_CONFIG; default guide.yaml if present]."
)
@click.version_option(package_name="guide")
@click.pass_context
def main(ctx: click.Context, corpus: Path | None, index_dir: Path | None, config: Path | None) -> None:
    """Career guidance for academic machine learning, answered from the guides with citations.

    \b
    Examples:
      guide build
      guide ask "How long is the tenure track for an assistant professor?"
      guide ask "What GPA do admits have?" --history "How do I get into a PhD?"
      guide search "postdoc experience" --role researcher --json
      guide chat
    """
    try:
        ctx.obj = load_settings(config_file=config, overrides={"corpus_dir": corpus, "index_dir": index_dir})
    except GuideError as error:
        _fail(str(error), error.exit_code)


def _settings() -> Settings:
    return click.get_current_context().find_root().obj


def _embedder(settings: Settings) -> Any:
    from guide.index.embedding import load_embedder

    return load_embedder(settings.embedding)


def _warn_if_stale(settings: Settings) -> None:
    from guide.index import index_status

    status = index_status(settings)
    if status.exists and not status.fresh and status.error is None:
        click.echo(f"Warning: the index is out of date ({'; '.join(status.reasons)}); run `guide build`.", err=True)


def _engine(settings: Settings) -> Any:
    from guide.engine import Engine

    _warn_if_stale(settings)
    return Engine.load(settings)


@main.command()
@click.option("--force", is_flag=True, help="Embed every chunk again instead of reusing unchanged ones.")
@click.option("--skip-invalid", is_flag=True, help="Index the valid guides and list the bad ones instead of stopping.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@handles_errors
def build(force: bool, skip_invalid: bool, as_json: bool) -> None:
    """Build or update the index from the corpus (only new or changed text is embedded).

    The previous index keeps serving until the new one is complete; a failed or interrupted
    build leaves it untouched.
    """
    from guide.index import build_index
    from guide.index.build import read_sources

    settings = _settings()
    # Check the corpus before paying for the model load (and read, convert it once).
    reading = read_sources(settings, skip_invalid=skip_invalid)
    shown = {"phase": ""}

    def progress(phase: str, fraction: float) -> None:
        if phase != shown["phase"] and not as_json:
            click.echo(f"  {phase} …", err=True)
            shown["phase"] = phase

    report = build_index(
        settings, _embedder(settings), force=force, skip_invalid=skip_invalid, progress=progress, reading=reading
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(
        f"Built {settings.index_dir} from {report.documents} guide(s): {report.chunks} chunks, {report.spans} sentences "
        f"in {report.seconds:.1f}s."
    )
    click.echo(
        f"Guides: {len(report.guides_added)} added, {len(report.guides_changed)} changed, {len(report.guides_removed)} removed. "
        f"Chunks: {report.chunks_added} new or changed, {report.chunks_removed} removed, {report.chunks_reused} reused; "
        f"{report.embedded} texts embedded."
    )
    for line in corpus_lines(report.corpus):
        click.echo(line)
    for problem in report.skipped:
        click.echo(f"Skipped {problem}", err=True)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)


def corpus_lines(corpus: dict[str, Any]) -> list[str]:
    """The maintainer's lines of a build or status: the pages converted and the copies found."""
    converted = [entry for entry in corpus.get("files", []) if entry.get("converted")]
    lines = []
    if converted:
        formats = Counter(entry["format"] for entry in converted)
        lines.append(
            f"Converted {len(converted)} page(s) ({', '.join(f'{count} {kind.upper()}' for kind, count in sorted(formats.items()))}): "
            + ", ".join(entry["path"] for entry in converted)
        )
    for group in corpus.get("duplicates", []):
        lines.append(f"Copies of {group['canonical']} (indexed once): {', '.join(group['copies'])}")
    return lines


@main.command()
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; only set the exit status.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@handles_errors
def status(quiet: bool, as_json: bool) -> None:
    """Show the index and whether the corpus changed since it was built.

    Exit status: 0 fresh, 1 missing or out of date, 2 damaged.
    """
    from guide.index import index_status
    from guide.index.load import corpus_listing

    settings = _settings()
    state = index_status(settings)
    code = 2 if state.error else 0 if state.fresh else 1
    if as_json:
        click.echo(
            json.dumps(
                {
                    "exists": state.exists,
                    "fresh": state.fresh,
                    "reasons": state.reasons,
                    "warnings": (state.manifest or {}).get("warnings", []),
                    "manifest": state.manifest,
                    **corpus_listing(state.manifest),
                },
                indent=2,
            )
        )
    elif not quiet:
        if state.error:
            click.echo(f"Error: {state.error}", err=True)
        elif not state.exists:
            click.echo(f"No index in {settings.index_dir}. Run `guide build`.")
        else:
            manifest = state.manifest or {}
            counts = manifest.get("counts", {})
            click.echo(f"Index:    {settings.index_dir}")
            click.echo(
                f"Guides:   {counts.get('documents')}   Chunks: {counts.get('chunks')}   Sentences: {counts.get('spans')}"
            )
            click.echo(
                f"Model:    {manifest.get('model')} ({manifest.get('dimension')} dimensions, {manifest.get('index', {}).get('type')} index)"
            )
            click.echo(f"Built at: {manifest.get('built_at')}")
            click.echo("Status:   fresh" if state.fresh else f"Status:   out of date: {'; '.join(state.reasons)}")
            for warning in manifest.get("warnings", []):
                click.echo(f"Warning:  {warning.get('message') if isinstance(warning, dict) else warning}")
            for label, names in (("changed", state.changed), ("added", state.added), ("removed", state.removed)):
                if names:
                    click.echo(f"  {label}: {', '.join(names)}")
            for line in corpus_lines(manifest.get("corpus", {})):
                click.echo(line)
            for entry in corpus_listing(manifest)["skipped"]:
                click.echo(f"Skipped {entry['path']}" + (f": {entry['reason']}" if entry["reason"] else ""))
    sys.exit(code)


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
        _fail(f"{failures} line(s) of {path} could not be read; see the error objects in the output.")


def _check_batch_source(batch: str | None) -> None:
    if batch is not None and batch != "-" and not os.path.isfile(batch):
        _fail(f"The batch file {batch} does not exist.")


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
    engine = _engine(_settings())
    _check_roles(roles, engine.index.roles)
    return engine


def _require_question(question: str | None, batch: str | None) -> None:
    if batch is None and question is None:
        _fail("Give a QUESTION, or --batch FILE with one JSON question per line.", 2)
    if batch is not None and question is not None:
        _fail("Give either a QUESTION or --batch FILE, not both.", 2)


def _check_roles(roles: tuple[str, ...], available: list[str]) -> None:
    unknown = [role for role in roles if role not in available]
    if unknown:
        _fail(f"Unknown role {', '.join(unknown)}; the guides have: {', '.join(available)}.", 2)


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
            _fail("Standard input held no question; give a QUESTION or pipe one in.", 2)
    engine = _engine_for(question, batch, roles)
    if batch is not None:
        _run_batch(batch, lambda text, past: engine.ask(text, history=past, k=k, roles=roles).to_json())
        return
    answer = engine.ask(question or "", history=list(history), k=k, roles=roles)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_answer(answer)
    if not (question or "").strip():
        sys.exit(2)


def _print_answer(answer: Any) -> None:
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


@main.command()
@click.option("--replicas", type=click.IntRange(1, 16), default=2, show_default=True, help="How many app replicas.")
@click.option("--port", type=PORT, default=8600, show_default=True, help="nginx's port on 127.0.0.1.")
@click.option(
    "--feedback-url",
    default=None,
    help="The replicas' feedback database [default: a private PostgreSQL started for them].",
)
@click.option(
    "--connections-per-address",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="Connections one client address may hold at once (each browser tab holds one).",
)
@click.option("--secure-cookie", is_flag=True, help="Mark the session cookie Secure (for a site behind TLS).")
@handles_errors
def serve(
    replicas: int, port: int, feedback_url: str | None, connections_per_address: int, secure_cookie: bool
) -> None:
    """Serve many users on this machine: N replicas behind nginx, feedback in PostgreSQL.

    Everything listens on 127.0.0.1 and stops cleanly on Ctrl-C. The replicas share the index
    folder: publish a new index with `guide build` and each switches to it between questions.
    """
    from guide.config import SecretMask
    from guide.serve.cluster import Cluster
    from guide.serve.feedback_store import safe_url

    SecretMask.install()
    settings = _settings()
    env = {"GUIDE_CORPUS_DIR": str(settings.corpus_dir.resolve()), "GUIDE_INDEX_DIR": str(settings.index_dir.resolve())}
    cluster = Cluster(
        replicas=replicas,
        port=port,
        feedback_url=feedback_url,
        env=env,
        connections_per_address=connections_per_address,
        secure_cookie=secure_cookie,
    )
    click.echo(f"Starting {replicas} replica(s), nginx{'' if feedback_url else ' and PostgreSQL'} …")
    cluster.start()
    click.echo(f"Serving on {cluster.url} ({', '.join(f'{r.name} on :{r.port}' for r in cluster.members)})")
    click.echo(f"Feedback: {safe_url(cluster.feedback_url or '')}. Press Ctrl-C to stop.")
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        click.echo("Stopping: replicas finish their answers, then nginx and PostgreSQL stop.")
        cluster.stop()


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

    data = settings_dict(_settings())
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

    settings = _settings()
    report = run_evaluation(
        settings, lambda: _engine(settings), question_set, useful_sets, split, extra_corpus, k, calibrate
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

    settings = _settings()
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


@main.command()
@click.option("--port", type=PORT, default=8501, show_default=True, help="Port to serve the app on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 serves every network (Rebuild is then off unless ui.allow_rebuild: true).",
)
@click.option("--terminal", is_flag=True, help="Chat here in the terminal instead, the model loaded once.")
@handles_errors
def chat(port: int, address: str, terminal: bool) -> None:
    """Start the chat app in the browser (Streamlit), on this machine only unless --address says otherwise."""
    settings = _settings()
    if terminal:
        _terminal_chat(_engine(settings))
        return
    # The app reads its folders from the environment; this process's own is left as it is.
    env = {
        **os.environ,
        "GUIDE_CORPUS_DIR": str(settings.corpus_dir.resolve()),
        "GUIDE_INDEX_DIR": str(settings.index_dir.resolve()),
    }
    # The model and the index are loaded (and warmed up) before the port opens; no file watcher.
    command = [sys.executable, "-m", "guide.serve.local", "--server.port", str(port), "--server.address", address]
    os.execvpe(command[0], command, env)


TERMINAL_HELP = "Ask a question (follow-ups keep the conversation); /new starts afresh, /quit or Ctrl-D leaves."


def _terminal_chat(engine: Any) -> None:
    """A conversation in the terminal: one question per line, the model loaded once for all of them."""
    from guide.answer.base import Final, Stage
    from guide.ask.interpret import carried_over

    interactive = sys.stdin.isatty()
    if interactive:
        click.echo(TERMINAL_HELP, err=True)
    # Each answer's interpretation is carried to the next question: the conversation is not read again.
    previous = None
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        question = line.strip()
        if question in {"/quit", "/exit"}:
            break
        if question == "/new":
            previous = None
            click.echo("(a new conversation)", err=True)
            continue
        if not question:
            continue
        for event in engine.stream(question, previous=previous):
            if isinstance(event, Stage) and interactive:
                click.echo(f"  {event.name}…", err=True)
            elif isinstance(event, Final):
                _print_answer(event.answer)
                previous = carried_over(previous, event.answer.interpretation)
        click.echo("")


if __name__ == "__main__":
    main()
