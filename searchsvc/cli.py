"""The ``searchsvc`` command: a thin click group over the indexer, the search layer and the server."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from searchsvc import __version__
from searchsvc.config import Settings, load_settings
from searchsvc.errors import IndexNotFoundError, QueryError, SearchsvcError

# search request parameter (parse_request's names) -> the ``search`` option that sets it
SEARCH_OPTIONS = {
    "q": "QUERY",
    **{name: f"--{name}" for name in ("provider", "topic", "domain", "category", "type", "from", "to")},
    **{name: f"--{name}" for name in ("published", "sort", "page", "facets")},
    "per_page": "--per-page",
    "facet_size": "--facet-size",
    "collapse": "--no-collapse",
}


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


def _no_index_error(exc: IndexNotFoundError, settings: Settings) -> click.ClickException:
    """Where the index was looked for (absolute) and the commands that build one there."""
    if settings.engine != "whoosh":
        return click.ClickException(str(exc))
    index = f"--index {_shell_word(str(exc.index_dir))}"
    build = " ".join(["searchsvc index", *map(_shell_word, settings.source), index])
    return click.ClickException(
        f"No index at {Path(exc.index_dir).absolute()}. Build one with '{build}' "
        f"(or start 'searchsvc serve {index}', which builds it)."
    )


def _shell_word(text: str) -> str:
    """``text`` as one shell word, in double quotes when it needs quoting (the message quotes in ')."""
    if shlex.quote(text) == text:
        return text
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def _option_error(exc: QueryError) -> click.BadParameter:
    """A parse_request error as click reports a bad option: naming ``--per-page``, not 'per_page'."""
    option = SEARCH_OPTIONS.get(exc.parameter or "", exc.parameter)
    message = str(exc).removeprefix(f"Parameter {exc.parameter!r} ")
    message = re.sub(r"^\((.+?)\) is after 'to' \((.+?)\)", r"\1 is after --to (\2)", message)
    return click.BadParameter(message, param_hint=f"'{option}'")


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
    except IndexNotFoundError as exc:
        raise _no_index_error(exc, settings) from None
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
@click.option("--from", "date_from", metavar="DATE", help="Published on or after this day (YYYY-MM-DD).")
@click.option("--to", "date_to", metavar="DATE", help="Published on or before this day (YYYY-MM-DD).")
@click.option(
    "--published/--unpublished",
    default=None,
    help="Only articles marked published: true (--unpublished: published: false; default: all).",
)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest", "quality"]),
    default="relevance",
    show_default=True,
    help="Order of the hits: best match, newest or oldest first, or highest quality.",
)
@click.option("--page", type=int, default=1, show_default=True, help="Which page of hits to print (1 to 1000).")
@click.option(
    "--per-page", type=int, default=10, show_default=True, help="Hits per page (at most the page_size_max setting)."
)
@click.option(
    "--facets",
    metavar="LIST",
    help="Facets to print, comma-separated (provider, domain, topic, category, type, date), or none (default: all).",
)
@click.option("--facet-size", type=int, metavar="N", help="Values listed per facet (default: the facet_size setting).")
@click.option("--no-collapse", is_flag=True, help="Show syndicated copies separately.")
@click.option("--json", "as_json", is_flag=True, help="Print the SearchResults as JSON.")
@click.pass_context
def search_command(ctx, query, index_dir, as_json, no_collapse, **options) -> None:
    """Search the index for QUERY and print hits and facet counts.

    QUERY supports AND (the default), OR, NOT/-word, "exact phrase", field:value (title, excerpt,
    topic, provider, domain) and prefix*.
    """
    import json

    from searchsvc.engine import open_search
    from searchsvc.search import SearchService, parse_request

    settings = _settings(ctx, index_dir=index_dir)
    # the options as parse_request's URL-style parameters (name -> values), leaving out those not given
    params: dict[str, list[str]] = {"q": [query], "collapse": ["false"] if no_collapse else []}
    renamed = {"types": "type", "date_from": "from", "date_to": "to"}
    for key, value in options.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        values = value if isinstance(value, tuple) else () if value is None else (value,)
        params[renamed.get(key, key)] = [str(v) for v in values]
    try:
        request = parse_request(params, settings.page_size_max, settings.facet_size, settings.collapse)
    except QueryError as exc:
        raise _option_error(exc) from None
    try:
        results = SearchService(open_search(settings), cache_size=0).search(request)
    except IndexNotFoundError as exc:
        raise _no_index_error(exc, settings) from None
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
        f"{results.total:,} result{'' if results.total == 1 else 's'} ({results.took_ms:.1f} ms)"
        + (f", showing {first:,}-{last:,}" if results.hits else "")
        + (" [query relaxed: not every word matched]" if results.relaxed else "")
    ]
    if results.suggestion:
        lines.append(f"Did you mean: {results.suggestion}")
    for number, hit in enumerate(results.hits, first):
        date = (hit.published or "")[:10] or "no date"
        lines.append("")
        title = hit.highlights.get("title")
        lines.append(f"{number:,}. {plain(title) if title else hit.title}")
        source = hit.provider or hit.domain or "unknown source"
        extra = f" (+{hit.duplicates} similar)" if hit.duplicates else ""
        lines.append(f"   {source} · {date} · {hit.url}{extra}")
        snippet = hit.highlights.get("excerpt") or hit.highlights.get("body") or ""
        if snippet:
            lines.append(f"   {plain(snippet)}")
    for name, facet in results.facets.items():
        if not facet.values:
            continue
        shown = ", ".join(f"{'[x] ' if v.selected else ''}{v.value} ({v.count:,})" for v in facet.values)
        lines.append("")
        lines.append(f"{name}{' by ' + facet.interval if facet.interval else ''}: {shown}")
    return lines


from searchsvc.serve import serve_command  # noqa: E402

main.add_command(serve_command)
