"""The OpenAPI 3 description of the JSON API, served at /api/openapi.json and rendered as the
page /api/docs. The response schemas are in openapi_schemas.py.

It describes the responses the handlers really send (tests check it against the live app), and
every parameter and schema property has a description (a test checks that too)."""

from __future__ import annotations

from searchsvc import __version__
from searchsvc.config import Settings
from searchsvc.request import FACETS, MAX_PAGE, MAX_QUERY_LENGTH, SORTS
from searchsvc.web.openapi_schemas import SCHEMAS
from searchsvc.web.openapi_types import BOOL, ID, STR, ref

DATE_PATTERN = r"^(?!0000)\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
SUGGEST_LIMIT_MAX = 50


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


ERRORS = {
    "400": _json("Error", "A parameter has a value that cannot be used; `errors` names it."),
    "503": _json("Error", "There is no index to search yet."),
    "500": _json("Error", "An unexpected failure (logged on the server)."),
}
NOT_MODIFIED = {"304": {"description": "The index and the URL are unchanged since the ETag in If-None-Match."}}
ETAG = {"ETag": {"description": "Changes with the index generation and the URL.", "schema": STR}}


def _param(name: str, schema: dict, description: str, array: bool = False) -> dict:
    if array:
        schema = {"type": "array", "items": schema}
    param = {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    if array:
        param.update(style="form", explode=True)
    else:
        param["allowEmptyValue"] = True  # an empty value means the parameter is not set
    return param


def _filter(name: str, what: str) -> dict:
    return _param(
        name,
        STR,
        f"Only articles whose {what} is one of these values, matched exactly (repeat the parameter for several: "
        f"{name}=a&{name}=b). Not set: any {what}.",
        array=True,
    )


def search_parameters(settings: Settings) -> list[dict]:
    # year 0001-9999, month 01-12, day 01-31 (a day the month lacks, such as 02-30, is refused too)
    date = {"type": "string", "pattern": DATE_PATTERN}
    per_page = min(10, settings.page_size_max)
    return [
        _param(
            "q",
            {**STR, "maxLength": MAX_QUERY_LENGTH},
            f'Query text: words, "phrases", -exclusions, OR. At most {MAX_QUERY_LENGTH} characters once leading '
            "and trailing spaces are trimmed (longer: 400). Empty or not set: every article matches.",
        ),
        _filter("provider", "provider (publisher name)"),
        _filter("topic", "topic"),
        _filter("domain", "domain"),
        _filter("category", "category"),
        _filter("type", "type"),
        _param(
            "published",
            BOOL,
            "Only articles marked published (true) or unpublished (false) in their front matter. Not set: every "
            "article, marked or not.",
        ),
        _param(
            "from",
            date,
            "First day included (YYYY-MM-DD; YYYY-MM and YYYY mean their first day). Not set: no lower bound.",
        ),
        _param(
            "to",
            date,
            "Last day included (YYYY-MM-DD; YYYY-MM and YYYY mean their last day). Not set: no upper bound.",
        ),
        _param(
            "sort",
            {"type": "string", "enum": list(SORTS), "default": "relevance"},
            "Order of the hits: relevance (best match first), newest, oldest, or quality (highest first).",
        ),
        _param(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            f"Page number, from 1 to {MAX_PAGE}.",
        ),
        _param(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": settings.page_size_max, "default": per_page},
            f"Hits per page, from 1 to {settings.page_size_max} (the page_size_max setting).",
        ),
        _param(
            "facets",
            {**STR, "default": ",".join(FACETS)},
            f"Comma-separated facets to count ({', '.join(FACETS)}), or none to count no facet.",
        ),
        _param(
            "facet_size",
            {"type": "integer", "minimum": 1, "maximum": 1000, "default": settings.facet_size},
            "Values listed per facet, from 1 to 1000 (default: the facet_size setting).",
        ),
        _param(
            "collapse",
            {**BOOL, "default": settings.collapse},
            "Fold syndicated copies of one story into one hit (default: the collapse setting).",
        ),
        _param(
            "typos",
            {**BOOL, "default": settings.typo_tolerance},
            "Let a rare or unknown word of 5+ letters also match known words 1 edit away (2 edits from "
            "9 letters), ranked below the words as typed; false searches the words only as typed "
            "(default: the typo_tolerance setting).",
        ),
    ]


def _get(
    summary: str,
    ok: dict,
    parameters: list | None = None,
    errors: tuple = ("400", "503", "500"),
    conditional: bool = True,
) -> dict:
    responses = {"200": {**ok, "headers": ETAG} if conditional else ok}
    if conditional:
        responses.update(NOT_MODIFIED)
    responses.update({code: ERRORS[code] for code in errors})
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


def admin_reindex() -> dict:
    def error(description: str) -> dict:
        return _json("Error", description)

    unauthorized = error("No admin token was sent.")
    unauthorized["headers"] = {"WWW-Authenticate": {"description": "Bearer.", "schema": STR}}
    full = "Rebuild the whole index instead of updating what changed (true or false; default false)."
    return {
        "post": {
            "summary": "Start a re-index run now (incremental unless full is true).",
            "description": "Off (404) until the admin_token setting (SEARCHSVC_ADMIN_TOKEN) is set. The run "
            "goes on in the background: follow it in the `reindex` object of /api/stats.",
            "security": [{"bearer": []}, {"adminToken": []}],
            "parameters": [_param("full", {**BOOL, "default": False}, full)],
            "requestBody": {
                "required": False,
                "description": "Optional; `full` here does the same as the query parameter.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"full": {**BOOL, "description": full}},
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "202": _json("ReindexStarted", "The run has started."),
                "400": error("`full` is not true or false, or the body is not a JSON object."),
                "401": unauthorized,
                "403": error("The admin token is wrong."),
                "404": error("The admin API is off: no admin_token is set."),
                "409": error("A run is going on already."),
                "500": ERRORS["500"],
            },
        }
    }


def export_path(settings: Settings, fmt: str) -> dict:
    """/api/export.csv and /api/export.jsonl: /api/search's parameters less the page and facet
    ones, and limit."""
    from searchsvc.web.export import NOT_FOR_EXPORTS

    cap = settings.export_max_rows
    limit = {"type": "integer", "minimum": 1, **({"maximum": cap} if cap else {})}
    parameters = [p for p in search_parameters(settings) if p["name"] not in NOT_FOR_EXPORTS]
    about = "Only the first N results, in result order. Not set: every result"
    if cap:
        about += f"; a search with more than the export_max_rows setting ({cap:,}) is refused (400) instead"
    parameters.append(_param("limit", limit, about + "."))
    if fmt == "csv":
        body = {
            "text/csv": {
                "schema": {
                    **STR,
                    "description": "UTF-8, a header row, CRLF line ends (RFC 4180). Columns: id, title, excerpt, "
                    "url, provider, domain, published, topics (joined with '; '), category, type, quality, score, "
                    "duplicates. A text cell starting with =, +, -, @, tab or CR gets a leading apostrophe, so "
                    "that a spreadsheet shows it as text rather than running it as a formula.",
                }
            }
        }
    else:
        body = {"application/x-ndjson": {"schema": ref("ExportRow")}}
    count = {**STR, "pattern": r"^\d+$"}
    headers = {
        "Content-Disposition": {
            "description": "attachment, named searchsvc-<query words>-<date, UTC>." + fmt + ".",
            "schema": STR,
        },
        "X-Export-Total": {"description": "Results of the search (as /api/search's total).", "schema": count},
        "X-Export-Rows": {"description": "Rows the file holds: the total, or limit when smaller.", "schema": count},
        "X-Export-Relaxed": {
            "description": "true when some rows match only some of the words (as /api/search's relaxed).",
            "schema": {**STR, "enum": ["true", "false"]},
        },
        "X-Export-Generation": {"description": "The index generation the rows come from.", "schema": STR},
    }
    what = "CSV" if fmt == "csv" else "JSON Lines (one ExportRow object a line)"
    return {
        "get": {
            "summary": f"Every result of a search as {'CSV' if fmt == 'csv' else 'JSON Lines'}, streamed.",
            "description": "The rows are the search's results in its order, with its filters and collapse; no "
            "facets, no highlights. The search runs before the answer starts: its errors are JSON like "
            "/api/search's. An error while the rows stream (the index went away) cuts the answer short: "
            "X-Export-Rows tells whether a file is whole.",
            "parameters": parameters,
            "responses": {
                "200": {"description": f"Every result as {what}.", "headers": headers, "content": body},
                "400": _json(
                    "Error", "A parameter cannot be used, or the search has more results than an export may hold."
                ),
                "503": ERRORS["503"],
                "500": ERRORS["500"],
            },
        }
    }


def _articles() -> tuple[dict, dict]:
    """/api/articles/{id} and /api/article?id=..."""
    not_found = _json("Error", "No article has this id.")
    article = _get("An article and the articles related to it.", _json("Article", "The article."))
    article["get"]["responses"]["404"] = not_found
    described = "The article's id: its URL as /api/search returns it (or, without one, its file's path)."
    by_query = _get(
        "The same, with the id as a query parameter.",
        _json("Article", "The article."),
        [{"name": "id", "in": "query", "required": True, "schema": ID, "description": described}],
    )
    by_query["get"]["responses"]["404"] = not_found
    article["get"]["parameters"] = [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": ID,
            "description": described + " Slashes stay as they are (/api/articles/https://host/path).",
        }
    ]
    return article, by_query


def spec(settings: Settings) -> dict:
    article, by_query = _articles()
    suggest_limit = {"type": "integer", "minimum": 1, "maximum": SUGGEST_LIMIT_MAX, "default": 10}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "searchsvc",
            "version": __version__,
            "description": "Full-text and faceted search over news articles. Every error has the "
            "shape of `Error`. Unknown query parameters are errors (400). The index is rebuilt in the "
            "background on a schedule or through POST /api/admin/reindex; searches switch to each new "
            "generation as a whole (the `generation` of a result names it).",
        },
        "paths": {
            "/api/search": _get(
                "Search articles.", _json("SearchResults", "One page of hits with facets."), search_parameters(settings)
            ),
            "/api/export.csv": export_path(settings, "csv"),
            "/api/export.jsonl": export_path(settings, "jsonl"),
            "/api/articles/{id}": article,
            "/api/article": by_query,
            "/api/suggest": _get(
                "Completions for a search box.",
                _json("Suggestions", "Topics, providers and words that complete the text."),
                [
                    _param("q", STR, "The text typed so far (its first 200 characters are used)."),
                    _param(
                        "limit",
                        suggest_limit,
                        f"At most this many suggestions, from 1 to {SUGGEST_LIMIT_MAX}.",
                    ),
                ],
            ),
            "/api/stats": _get(
                "What is in the index, and the state of re-index runs.",
                _json("Stats", "Counts, the last build report and the re-index status."),
            ),
            "/api/admin/reindex": admin_reindex(),
            "/healthz": _get("The process is up.", _json("Health", "Always."), errors=("500",), conditional=False),
            "/readyz": _get(
                "An index is open and searchable.", _json("Ready", "Ready."), errors=("503", "500"), conditional=False
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The admin_token setting."},
                "adminToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Admin-Token",
                    "description": "The admin_token setting, in this header instead of Authorization.",
                },
            },
        },
    }
