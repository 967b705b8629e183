"""The ``searchsvc`` command: a thin click group over the indexer, the search layer and the server."""

from __future__ import annotations

import sys
from typing import Any

import click

from searchsvc import __version__
from searchsvc.config import Settings, load_settings
from searchsvc.errors import SearchsvcError


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    try:
        return load_settings(flags, config_file=ctx.obj.get("config") if ctx.obj else None)
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None


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


@click.group()
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

    settings = _settings(ctx, index_dir=index_dir, source=sources or None, lock_timeout=lock_timeout)
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

    settings = _settings(ctx)
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

    settings = _settings(ctx, index_dir=index_dir)
    try:
        stats = index_stats(settings)
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(stats, indent=2, default=str))
        return
    click.echo(f"Index:       {stats['index_dir']}")
    click.echo(f"Generation:  {stats['generation']}")
    click.echo(f"Documents:   {stats['documents']}")
    click.echo(f"Built:       {stats['built_at']} in {stats['build_seconds']:.1f} s")
    click.echo(f"Last build:  {stats['last_report']}")
    click.echo(f"Size:        {stats['size_bytes'] / 1e6:.1f} MB")
    click.echo("Top providers:")
    for name, count in stats["top_providers"]:
        click.echo(f"  {count:>8}  {name or '(none)'}")


def _require_sources(sources) -> None:
    from pathlib import Path

    missing = [s for s in sources if not Path(s).exists()]
    if missing:
        raise click.ClickException(
            f"Source {missing[0]} does not exist. Give a folder of articles, e.g. 'searchsvc index seeds/'."
        )


@main.command("search")
@click.argument("query", required=False, default="")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: index).")
@click.option("--provider", multiple=True, help="Only this provider (repeat for several: any of them).")
@click.option("--topic", multiple=True, help="Only this topic (repeat for several: any of them).")
@click.option("--domain", multiple=True, help="Only this domain (repeat for several).")
@click.option("--category", multiple=True, help="Only this category (repeat for several).")
@click.option("--type", "types", multiple=True, help="Only this type (repeat for several).")
@click.option("--from", "date_from", help="Published on or after this day (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Published on or before this day (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest", "quality"]), default="relevance")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=10, show_default=True)
@click.option("--no-collapse", is_flag=True, help="Show syndicated copies separately.")
@click.option("--json", "as_json", is_flag=True, help="Print the SearchResults as JSON.")
@click.pass_context
def search_command(
    ctx,
    query,
    index_dir,
    provider,
    topic,
    domain,
    category,
    types,
    date_from,
    date_to,
    sort,
    page,
    per_page,
    no_collapse,
    as_json,
) -> None:
    """Search the index for QUERY and print hits and facet counts.

    QUERY supports AND (the default), OR, NOT/-word, "exact phrase", field:value (title, excerpt,
    topic, provider, domain) and prefix*.
    """
    import json

    from searchsvc.engine import open_search
    from searchsvc.search import SearchService, parse_request

    settings = _settings(ctx, index_dir=index_dir)
    params: dict[str, list[str]] = {
        "q": [query],
        "provider": list(provider),
        "topic": list(topic),
        "domain": list(domain),
        "category": list(category),
        "type": list(types),
        "sort": [sort],
        "page": [str(page)],
        "per_page": [str(per_page)],
    }
    if date_from:
        params["from"] = [date_from]
    if date_to:
        params["to"] = [date_to]
    if no_collapse:
        params["collapse"] = ["false"]
    try:
        request = parse_request(params, settings.page_size_max, settings.facet_size, settings.collapse)
        results = SearchService(open_search(settings), cache_size=0).search(request)
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(results.to_dict(), indent=2, ensure_ascii=False))
        return
    for line in render_results_text(results):
        click.echo(line)


def render_results_text(results) -> list[str]:
    """SearchResults as plain text for a terminal."""

    def plain(highlight) -> str:
        return highlight.render(escape=str, before="*", after="*")

    first = results.request.offset + 1
    last = results.request.offset + len(results.hits)
    lines = [
        f"{results.total} result{'' if results.total == 1 else 's'} ({results.took_ms:.1f} ms)"
        + (f", showing {first}-{last}" if results.hits else "")
        + (" [query relaxed: not every word matched]" if results.relaxed else "")
    ]
    if results.suggestion:
        lines.append(f"Did you mean: {results.suggestion}")
    for number, hit in enumerate(results.hits, first):
        date = (hit.published or "")[:10] or "no date"
        lines.append("")
        title = hit.highlights.get("title")
        lines.append(f"{number}. {plain(title) if title else hit.title}")
        source = hit.provider or hit.domain or "unknown source"
        extra = f" (+{hit.duplicates} similar)" if hit.duplicates else ""
        lines.append(f"   {source} · {date} · {hit.url}{extra}")
        snippet = hit.highlights.get("excerpt") or hit.highlights.get("body") or ""
        if snippet:
            lines.append(f"   {plain(snippet)}")
    for name, facet in results.facets.items():
        if not facet.values:
            continue
        shown = ", ".join(f"{'[x] ' if v.selected else ''}{v.value} ({v.count})" for v in facet.values)
        lines.append("")
        lines.append(f"{name}{' by ' + facet.interval if facet.interval else ''}: {shown}")
    return lines


from searchsvc.serve import serve_command  # noqa: E402

main.add_command(serve_command)
