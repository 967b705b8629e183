"""``searchsvc search`` and ``searchsvc export``: one search from the command line, printed as
text (or JSON), or every result written as CSV or JSON Lines."""

from __future__ import annotations

import click

from searchsvc.cli_support import no_index_error, option_error, settings_of
from searchsvc.errors import IndexNotFoundError, QueryError, SearchsvcError


def search_request(settings, query: str, options: dict, no_collapse: bool, no_typos: bool = False):
    """The options of a search command as a SearchRequest (parse_request's URL-style parameters,
    leaving out those not given); a bad value is a usage error naming its option."""
    from searchsvc.search import parse_request

    params: dict[str, list[str]] = {
        "q": [query],
        "collapse": ["false"] if no_collapse else [],
        "typos": ["false"] if no_typos else [],
    }
    renamed = {"types": "type", "date_from": "from", "date_to": "to"}
    for key, value in options.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        values = value if isinstance(value, tuple) else () if value is None else (value,)
        params[renamed.get(key, key)] = [str(v) for v in values]
    try:
        return parse_request(
            params, settings.page_size_max, settings.facet_size, settings.collapse, typos=settings.typo_tolerance
        )
    except QueryError as exc:
        raise option_error(exc) from None


@click.command("search")
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
@click.option("--no-typos", is_flag=True, help="Match misspelt words only as typed (no typo tolerance).")
@click.option("--json", "as_json", is_flag=True, help="Print the SearchResults as JSON.")
@click.pass_context
def search_command(ctx, query, index_dir, as_json, no_collapse, no_typos, **options) -> None:
    """Search the index for QUERY and print hits and facet counts.

    QUERY supports AND (the default), OR, NOT/-word, "exact phrase", field:value (title, excerpt,
    topic, provider, domain) and prefix*.
    """
    import json

    from searchsvc.engine import open_search
    from searchsvc.search import SearchService

    settings = settings_of(ctx, index_dir=index_dir)
    request = search_request(settings, query, options, no_collapse, no_typos)
    try:
        results = SearchService(open_search(settings, one_shot=True), cache_size=0).search(request)
    except IndexNotFoundError as exc:
        raise no_index_error(exc, settings) from None
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
    if results.corrections:
        corrected = "; ".join(f"{', '.join(c.matched)} (you typed {c.word})" for c in results.corrections)
        lines.append(f"Including results for {corrected}; --no-typos searches only the words as typed")
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


@click.command("export")
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
    help="Order of the rows: best match, newest or oldest first, or highest quality.",
)
@click.option("--no-collapse", is_flag=True, help="Export syndicated copies as rows of their own.")
@click.option("--limit", type=int, metavar="N", help="Only the first N results (default: every result).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True, help="CSV or JSON Lines."
)
@click.option("--output", "-o", default="-", metavar="FILE", help="Write to FILE (default: standard output).")
@click.pass_context
def export_command(ctx, query, index_dir, no_collapse, limit, fmt, output, **options) -> None:
    """Write every result of a search for QUERY as CSV or JSON Lines, streamed.

    The options are those of 'searchsvc search' (no pages: every result, or the first --limit).
    A search with more results than the export_max_rows setting is refused unless --limit is
    given. CSV cells that would start a spreadsheet formula (=, +, -, @) get a leading apostrophe.
    """
    from searchsvc.engine import open_search
    from searchsvc.export import export_csv, export_jsonl
    from searchsvc.search import SearchService

    settings = settings_of(ctx, index_dir=index_dir)
    request = search_request(settings, query, options, no_collapse)
    try:
        results = SearchService(open_search(settings), cache_size=0).export(request, limit, settings.export_max_rows)
        render = export_csv if fmt == "csv" else export_jsonl
        # a file appears whole or not at all (written beside it, renamed when done)
        with click.open_file(output, "wb", atomic=output != "-") as out:
            for chunk in render(results):
                out.write(chunk.encode("utf-8"))
    except QueryError as exc:
        if limit is not None and exc.parameter == "limit":
            raise click.BadParameter(str(exc).removeprefix("Parameter 'limit' "), param_hint="'--limit'") from None
        raise click.ClickException(str(exc)) from None
    except IndexNotFoundError as exc:
        raise no_index_error(exc, settings) from None
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    if output != "-":
        shown = f"{results.rows:,} of {results.total:,}" if results.rows < results.total else f"{results.rows:,}"
        click.echo(f"Exported {shown} result{'' if results.total == 1 else 's'} to {output}.", err=True)
