"""`guide serve` (replicas behind nginx) and `guide chat` (the app, or a terminal chat)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import click

from guide.cli.asking import print_answer
from guide.cli.base import PORT, current_settings, handles_errors, main, open_engine


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
    settings = current_settings()
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
    settings = current_settings()
    if terminal:
        _terminal_chat(open_engine(settings))
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
                print_answer(event.answer)
                previous = carried_over(previous, event.answer.interpretation)
        click.echo("")
