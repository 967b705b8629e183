"""The ``searchsvc`` command: a thin click group over the indexer, the search layer and the server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from searchsvc import __version__
from searchsvc.cli_support import no_index_error, settings_of
from searchsvc.errors import IndexNotFoundError, SearchsvcError


def _progress(label: str):
    """A progress callback that draws a bar on a terminal and stays silent otherwise."""
    if not sys.stderr.isatty():
        return None, lambda: None
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
            state["done"] = 0
        bar.update(done - state["done"])
        state["done"] = done

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return update, close


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searchsvc")
@click.option("--config", type=click.Path(dir_okay=False), help="A TOML settings file (default: ./searchsvc.toml).")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Full-text and faceted search for a folder of news articles."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command("index")
@click.argument("sources", nargs=-1, type=click.Path())
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: index).")
@click.option("--full", is_flag=True, help="Rebuild everything instead of updating what changed.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when any file failed.")
@click.option("--lock-timeout", type=float, help="Seconds to wait for another build to finish.")
@click.option("-v", "--verbose", is_flag=True, help="List every warning too.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one line of JSON.")
@click.pass_context
def index_command(ctx, sources, index_dir, full, strict, lock_timeout, verbose, as_json) -> None:
    """Index SOURCES (folders or files; default: the 'source' setting) into a new generation.

    Only new, changed and deleted files are processed unless --full is given. Files that cannot
    be read as articles are listed as PATH:LINE: REASON; the rest are indexed.
    """
    from searchsvc.engine import open_builder
    from searchsvc.indexer import build_index

    settings = settings_of(ctx, index_dir=index_dir, source=sources or None, lock_timeout=lock_timeout)
    _require_sources(settings.source)
    update, close = _progress("Parsing") if not as_json else (None, lambda: None)
    try:
        report = build_index(
            settings.source,
            settings.index_dir,
            full,
            settings.lock_timeout,
            update,
            max_file_bytes=settings.max_file_bytes,
            follow_external_links=settings.follow_external_links,
            builder=open_builder(settings),
        )
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        close()
    if as_json:
        import json

        click.echo(json.dumps(report.to_dict()))
    else:
        for line in report.lines(verbose):
            click.echo(line)
    if strict and report.failed:
        sys.exit(1)


@main.command("check")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Exit with status 1 when any file failed.")
@click.option("-v", "--verbose", is_flag=True, help="List every warning too.")
@click.pass_context
def check_command(ctx, sources, strict, verbose) -> None:
    """Validate SOURCES without indexing them: the same report as 'index'."""
    from searchsvc.indexer import check_sources

    settings = settings_of(ctx)
    _require_sources(sources)
    update, close = _progress("Checking")
    try:
        report = check_sources(sources, update, settings.max_file_bytes, settings.follow_external_links)
    finally:
        close()
    lines = report.lines(verbose)
    lines[0] = f"Checked {report.added + report.failed} files: {report.added} ok, " + (
        f"{report.duplicates} duplicates, {report.failed} failed."
    )
    for line in lines:
        click.echo(line)
    if strict and report.failed:
        sys.exit(1)


@main.command("stats")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: index).")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_context
def stats_command(ctx, index_dir, as_json) -> None:
    """Documents, generation, last build, size on disk and top providers of the index."""
    import json

    from searchsvc.stats import index_stats

    settings = settings_of(ctx, index_dir=index_dir)
    try:
        stats = index_stats(settings)
    except IndexNotFoundError as exc:
        raise no_index_error(exc, settings) from None
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(stats, indent=2, default=str))
        return
    click.echo(f"Index:       {stats['location']}")
    click.echo(f"Generation:  {stats['generation']}")
    if stats["engine"] != "whoosh":
        click.echo(f"Engine:      {stats['engine']} (health {stats['health']})")
    click.echo(f"Documents:   {stats['documents']:,}")
    click.echo(f"Built:       {stats['built_at']} in {stats['build_seconds']:.1f} s")
    click.echo(f"Last build:  {stats['last_report']}")
    click.echo(f"Size:        {stats['size_bytes'] / 1e6:.1f} MB")
    click.echo("Top providers:")
    for name, count in stats["top_providers"]:
        click.echo(f"  {count:>8,}  {name or '(none)'}")


def _require_sources(sources) -> None:

    missing = [s for s in sources if not Path(s).exists()]
    if missing:
        raise click.ClickException(
            f"Source {missing[0]} does not exist. Give a folder of articles, e.g. 'searchsvc index seeds/'."
        )


from searchsvc.cli_search import export_command, render_results_text, search_command  # noqa: E402
from searchsvc.serve import serve_command  # noqa: E402

main.add_command(search_command)
main.add_command(export_command)
main.add_command(serve_command)
__all__ = ["main", "render_results_text"]
