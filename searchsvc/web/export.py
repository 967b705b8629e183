"""Exports of a search: /api/export.csv and /api/export.jsonl, streamed, every result.

They take /api/search's parameters (bad ones are the same 400 errors) and ``limit``, the first N
results only; not ``page``, ``per_page``, ``facets`` or ``facet_size``, which an export has no
use for (refused, so a URL copied from /api/search never silently means something else). The
search runs before the response starts, so a bad query, a search over the time budget or one with
more results than the export_max_rows setting is refused with a JSON error; the rows are then
rendered (search.py: export_csv, export_jsonl) as they are read from the index. The total and
the rows the file will hold are in headers, known before the first row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from urllib.parse import urlencode

from flask import Blueprint, Response, request, stream_with_context

from searchsvc.errors import QueryError
from searchsvc.export import export_csv, export_jsonl
from searchsvc.request import PARAMETERS, SearchRequest
from searchsvc.web.state import search_request, service, settings

blueprint = Blueprint("export", __name__)

# format -> (content type, renderer)
FORMATS = {
    "csv": ("text/csv; charset=utf-8", export_csv),
    "jsonl": ("application/x-ndjson; charset=utf-8", export_jsonl),
}
# /api/search parameters an export refuses, and why
NOT_FOR_EXPORTS = {
    "page": "an export holds every result, not a page (limit= keeps the first N)",
    "per_page": "an export holds every result, not a page (limit= keeps the first N)",
    "facets": "an export counts no facets",
    "facet_size": "an export counts no facets",
}
EXPORT_PARAMETERS = (*(p for p in PARAMETERS if p not in NOT_FOR_EXPORTS), "limit")
FILENAME_WORDS = 40  # characters of the query a file name keeps


def export_request() -> tuple[SearchRequest, int | None]:
    """The export's search and its limit (None: every result), from the query string."""
    for name in request.args:
        if name in NOT_FOR_EXPORTS:
            raise QueryError(f"Parameter {name!r} does not apply to an export: {NOT_FOR_EXPORTS[name]}.", name)
    unknown = sorted(set(request.args) - set(EXPORT_PARAMETERS))
    if unknown:
        raise QueryError(
            f"Unknown parameter {unknown[0]!r}. Valid parameters: {', '.join(EXPORT_PARAMETERS)}.", unknown[0]
        )
    given = request.args.getlist("limit")
    if len(given) > 1:
        raise QueryError(f"Parameter 'limit' was given {len(given)} times; give it once.", "limit")
    raw = given[0].strip() if given else ""
    if raw and not (raw.isascii() and raw.isdigit()):
        raise QueryError(f"Parameter 'limit' must be a whole number, such as limit=1000; got {raw!r}.", "limit")
    return search_request(strict=False), int(raw) if raw else None


@blueprint.get("/api/export.<any(csv, jsonl):fmt>")
def export(fmt: str) -> Response:
    search, limit = export_request()
    results = service().export(search, limit, settings().export_max_rows)
    content_type, render = FORMATS[fmt]
    response = Response(stream_with_context(render(results)), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(search, fmt)}"'
    response.headers["X-Export-Total"] = str(results.total)
    response.headers["X-Export-Rows"] = str(results.rows)
    response.headers["X-Export-Relaxed"] = "true" if results.relaxed else "false"
    response.headers["X-Export-Generation"] = results.generation
    response.headers["Cache-Control"] = "no-store"
    return response


def filename(search: SearchRequest, fmt: str, today: dt.date | None = None) -> str:
    """searchsvc-<the query's words>-<today, UTC>.<fmt>: ASCII letters, digits and hyphens only."""
    folded = unicodedata.normalize("NFKD", search.q).encode("ascii", "ignore").decode("ascii").lower()
    words = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:FILENAME_WORDS].strip("-")
    day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    return "-".join(part for part in ("searchsvc", words, day) if part) + "." + fmt


def export_links(search: SearchRequest, total: int) -> dict:
    """The results page's download links for its search: ``csv``, ``jsonl``, and ``first`` (the
    rows they hold, when the search has more than an export may: they ask for those first)."""
    params = [(name, value) for name, value in search.to_params() if name not in NOT_FOR_EXPORTS]
    cap = settings().export_max_rows
    first = cap if cap and total > cap else None
    if first:
        params.append(("limit", str(first)))
    query = "?" + urlencode(params) if params else ""
    return {"csv": f"/api/export.csv{query}", "jsonl": f"/api/export.jsonl{query}", "first": first}


@blueprint.app_context_processor
def _template_helpers() -> dict:
    return {"export_links": export_links}
