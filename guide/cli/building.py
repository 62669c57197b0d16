"""`guide build` and `guide status`: make the index and say whether it is fresh."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import click

from guide.cli.base import current_settings, handles_errors, main, open_embedder


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

    settings = current_settings()
    # Check the corpus before paying for the model load (and read, convert it once).
    reading = read_sources(settings, skip_invalid=skip_invalid)
    shown = {"phase": ""}

    def progress(phase: str, fraction: float) -> None:
        if phase != shown["phase"] and not as_json:
            click.echo(f"  {phase} …", err=True)
            shown["phase"] = phase

    report = build_index(
        settings, open_embedder(settings), force=force, skip_invalid=skip_invalid, progress=progress, reading=reading
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

    settings = current_settings()
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
