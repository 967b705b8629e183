"""The HTML pages (/ and /articles/<id>) and the Atom feed (/search.atom).

Unknown parameters are ignored here (links get shared and edited by hand); the API is strict.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, render_template, request
from markupsafe import Markup
from werkzeug.routing import PathConverter

from searchsvc.search import FACETS, SORTS, Highlight
from searchsvc.web.atom import render_feed
from searchsvc.web.http import conditional
from searchsvc.web.pagemodel import SORT_LABELS, build_page
from searchsvc.web.state import index_summary, reindex_fingerprint, reindex_status, search_request, service, settings


class ArticleIdConverter(PathConverter):
    """An article id in a URL path: a URL, or a file's path (slashes and all, even a leading one)."""

    regex = ".+?"
    part_isolating = False


blueprint = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@blueprint.get("/")
@conditional(extra=reindex_fingerprint)
def search_page():
    search = search_request(strict=False).with_changes(facets=FACETS)
    results = service().search(search)
    page = build_page(results, settings().facet_size)
    return render_template(
        "search.html",
        page=page,
        search=search,
        results=results,
        q=search.q,
        autofocus=page.is_empty_search,
        sorts=[(s, SORT_LABELS[s]) for s in SORTS],
        summary=index_summary(),
    )


@blueprint.get("/articles/<id:doc_id>")
@conditional(extra=reindex_fingerprint)
def article_page(doc_id: str):
    found = service().article(doc_id)
    if found is None:
        abort(404, f"No article with id {doc_id!r}. Search for it from the search page instead.")
    hit, similar = found
    own = set(hit.related_ids) | ({hit.related_to} if hit.related_to else set())
    related = [h for h in similar if h.id in own]
    more_like_this = [h for h in similar if h.id not in own]
    return render_template(
        "article.html", hit=hit, related=related, more_like_this=more_like_this, summary=index_summary()
    )


@blueprint.get("/search.atom")
@conditional
def atom_feed():
    search = search_request(strict=False).with_changes(sort="newest", facets=())
    results = service().search(search)
    html_url = (
        request.host_url.rstrip("/") + "/" + ("?" + request.query_string.decode() if request.query_string else "")
    )
    body = render_feed(results, self_url=request.url, html_url=html_url)
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


def register_filters(app: Flask) -> None:
    app.add_template_filter(marked, "marked")
    app.add_template_filter(nice_date, "nice_date")
    app.add_template_filter(nice_time, "nice_time")
    app.add_template_filter(web_url, "web_url")


def register_context(app: Flask) -> None:
    app.context_processor(lambda: {"reindex": reindex_footer()})
