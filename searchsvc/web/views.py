"""The HTML pages (/ and /articles/<id>) and the Atom feed (/search.atom).

Unknown parameters are ignored here (links get shared and edited by hand); the API is strict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Flask, Response, abort, make_response, redirect, render_template, request
from markupsafe import Markup
from werkzeug.routing import PathConverter

from searchsvc.errors import QueryError
from searchsvc.search import FACETS, PARAMETERS, SORTS, Highlight, Hit, SearchRequest, parse_request
from searchsvc.web.atom import render_feed
from searchsvc.web.http import conditional
from searchsvc.web.pagemodel import SORT_LABELS, build_page, href, request_params
from searchsvc.web.state import (
    index_summary,
    reindex_fingerprint,
    reindex_status,
    search_request,
    service,
    settings,
    stats_data,
)

# the page's own form fields whose errors it shows beside the field (others get the error page)
DATE_FIELDS = ("from", "to")


class ArticleIdConverter(PathConverter):
    """An article id in a URL path: a URL, or a file's path (slashes and all, even a leading one)."""

    regex = ".+?"
    part_isolating = False


blueprint = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@dataclass
class DateError:
    """A from/to value the search could not use, shown beside its field with the values as typed."""

    parameter: str
    message: str
    date_from: str
    date_to: str


@blueprint.get("/")
@conditional(extra=reindex_fingerprint)
def search_page():
    raw = list(request.args.items(multi=True))
    # a form sent without JavaScript carries its empty fields and the default sort: drop them
    clean = [(k, v) for k, v in raw if v.strip() and not (k == "sort" and v == "relevance")]
    if clean != raw:
        return redirect(href(clean), code=302)
    search, date_error = _page_request()
    search = search.with_changes(facets=FACETS)
    results = service().search(search)
    page = build_page(results, settings().facet_size)
    html = render_template(
        "search.html",
        page=page,
        search=search,
        results=results,
        q=search.q,
        autofocus=page.is_empty_search and not date_error,
        date_error=date_error,
        sorts=[(s, SORT_LABELS[s]) for s in SORTS],
        summary=index_summary(),
    )
    return (html, 400) if date_error else html


def _page_request() -> tuple[SearchRequest, DateError | None]:
    """The page's search; when a date is wrong, the search without the dates and the error."""
    try:
        return search_request(strict=False), None
    except QueryError as exc:
        if exc.parameter not in DATE_FIELDS:
            raise
        error = DateError(exc.parameter, str(exc), request.args.get("from", ""), request.args.get("to", ""))
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in DATE_FIELDS}
    return _parse(args), error


def _parse(args: dict[str, list[str]]) -> SearchRequest:
    config = settings()
    return parse_request(
        args,
        page_size_max=config.page_size_max,
        facet_size=config.facet_size,
        collapse=config.collapse,
        strict=False,
        typos=config.typo_tolerance,
    )


def came_from() -> list[tuple[str, str]]:
    """The search a reader came to an article page from, as parameters: the page's own query string
    (links between article pages carry it), else the search page in the Referer; [] if none."""
    args = request.args.to_dict(flat=False)
    if not set(args) & set(PARAMETERS):
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc != request.host or referrer.path != "/":
            return []
        args = parse_qs(referrer.query)
    try:
        return request_params(_parse(args), settings().facet_size)
    except QueryError:
        return []


def _article_fingerprint() -> str:
    """What an article page shows beyond the index: the re-index status and the search it keeps."""
    return reindex_fingerprint() + "\n" + urlencode(came_from())


@blueprint.get("/articles/<id:doc_id>")
@conditional(extra=_article_fingerprint)
def article_page(doc_id: str):
    found = service().article(doc_id)
    if found is None:
        abort(404, f"No article with id {doc_id!r}. Search for it from the search page instead.")
    hit, similar = found
    own = set(hit.related_ids) | ({hit.related_to} if hit.related_to else set())
    related = [h for h in similar if h.id in own]
    more_like_this = [h for h in similar if h.id not in own]
    back = came_from()  # kept in the search box and in the way back
    html = render_template(
        "article.html",
        hit=hit,
        related=related,
        more_like_this=more_like_this,
        q=dict(back).get("q", ""),
        back_href=href(back),
        back_query=urlencode(back),
        summary=index_summary(),
    )
    response = make_response(html)
    response.vary.add("Referer")
    return response


@blueprint.get("/search.atom")
@conditional
def atom_feed():
    search = search_request(strict=False).with_changes(sort="newest", facets=())
    results = service().search(search)
    html_url = (
        request.host_url.rstrip("/") + "/" + ("?" + request.query_string.decode() if request.query_string else "")
    )
    # a feed without a dated entry was last updated when the index it reads was built
    dated = any(hit.published for hit in results.hits)
    empty_updated = None if dated else stats_data().get("built_at")
    body = render_feed(results, self_url=request.url, html_url=html_url, empty_updated=empty_updated)
    return Response(body, mimetype="application/atom+xml")


def nice_date(value: str | None) -> str:
    """'2022-03-18T09:00:00Z' -> '18 Mar 2022'."""
    if not value:
        return ""
    try:
        day = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return f"{day.day} {day:%b %Y}"
    except ValueError:
        return value


def web_url(value: str | None) -> str:
    """The URL when it is http(s), else '' (a javascript: link from an article never reaches href)."""
    if not value:
        return ""
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        return ""
    return value if scheme in ("http", "https") else ""


def nice_time(value: str | None) -> str:
    """'2022-03-18T09:05:00.000+00:00' -> '18 Mar 2022 09:05 UTC'."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return value
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def reindex_footer() -> dict | None:
    """The re-index status for the page footer; None when nothing was ever re-indexed or scheduled."""
    try:
        status = reindex_status()
    except Exception:  # noqa: BLE001 - the footer must never break a page (an error page least of all)
        return None
    if not (status["running"] or status["last_run"] or status["next_run"]):
        return None
    return status


def marked(highlight: Highlight) -> Markup:
    """A highlight as HTML: its text escaped, its matches in <mark>."""
    return Markup(highlight.render())


@dataclass
class Snippet:
    html: Markup
    source: str  # "excerpt" or "body"


def snippet(hit: Hit) -> Snippet | None:
    """What a result card quotes, to show why it matched: the excerpt where the query matched it,
    else the body fragment that matched, else the excerpt."""
    excerpt, body = hit.highlights.get("excerpt"), hit.highlights.get("body")
    if excerpt and excerpt.spans:
        return Snippet(marked(excerpt), "excerpt")
    if body and body.spans:
        return Snippet(marked(body), "body")
    if excerpt:
        return Snippet(marked(excerpt), "excerpt")
    if hit.excerpt:
        return Snippet(Markup.escape(hit.excerpt), "excerpt")
    return None


def took(ms: float) -> str:
    """How long a search took, as the page says it ('0 ms' reads as a fault: a cached answer is
    'under 1 ms')."""
    return "under 1 ms" if ms < 1 else f"{round(ms):,} ms"


def register_filters(app: Flask) -> None:
    app.add_template_filter(marked, "marked")
    app.add_template_filter(snippet, "snippet")
    app.add_template_filter(took, "took")
    app.add_template_filter(nice_date, "nice_date")
    app.add_template_filter(nice_time, "nice_time")
    app.add_template_filter(web_url, "web_url")


def register_context(app: Flask) -> None:
    app.context_processor(lambda: {"reindex": reindex_footer()})
