"""The `guide` command group and what its commands share: settings, errors, the engine."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from guide.config import Settings, load_settings, mask_secrets
from guide.errors import GuideError

PORT = click.IntRange(1, 65535)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {mask_secrets(message)}", err=True)
    sys.exit(code)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a `GuideError` into a one-line message and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GuideError as error:
            fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

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
        fail(str(error), error.exit_code)


def current_settings() -> Settings:
    return click.get_current_context().find_root().obj


def open_embedder(settings: Settings) -> Any:
    from guide.index.embedding import load_embedder

    return load_embedder(settings.embedding)


def warn_if_stale(settings: Settings) -> None:
    from guide.index import index_status

    status = index_status(settings)
    if status.exists and not status.fresh and status.error is None:
        click.echo(f"Warning: the index is out of date ({'; '.join(status.reasons)}); run `guide build`.", err=True)


def open_engine(settings: Settings) -> Any:
    from guide.engine import Engine

    warn_if_stale(settings)
    return Engine.load(settings)
