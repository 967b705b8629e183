"""The OpenAPI 3 description of the JSON API, served at /api/openapi.json.

It describes the responses the handlers really send (tests check it against the live app)."""

from __future__ import annotations

from searchsvc import __version__
from searchsvc.config import Settings
from searchsvc.request import FACETS, MAX_PAGE, MAX_QUERY_LENGTH, SORTS
from searchsvc.stats import PUBLIC_LIST_LIMIT

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
# an article id: its URL, or for an article without one its file's path in its source folder
ID = {"type": "string", "minLength": 1, "pattern": r"\S"}
DATE_PATTERN = r"^(?!0000)\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


ERRORS = {
    "400": _json("Error", "A parameter has a value that cannot be used; `errors` names it."),
    "503": _json("Error", "There is no index to search yet."),
    "500": _json("Error", "An unexpected failure (logged on the server)."),
}
NOT_MODIFIED = {"304": {"description": "The index and the URL are unchanged since the ETag in If-None-Match."}}
ETAG = {"ETag": {"description": "Changes with the index generation and the URL.", "schema": STR}}

HIT = _obj(
    {
        "id": STR,
        "title": STR,
        "excerpt": STR,
        "url": STR,
        "provider": STR,
        "domain": STR,
        "published": _nullable({"type": "string", "format": "date-time"}),
        "topics": {"type": "array", "items": STR},
        "image": STR,
        "score": NUM,
        "highlights": {
            "type": "object",
            "additionalProperties": STR,
            "description": "HTML-escaped text with <mark> around matched words.",
        },
        "category": STR,
        "type": STR,
        "quality": _nullable(INT),
        "duplicates": INT,
        "related_to": STR,
        "related_ids": {"type": "array", "items": STR},
    }
)
FACET_VALUE = _obj(
    {
        "value": STR,
        "count": INT,
        "selected": BOOL,
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
    },
    optional=("start", "end"),
)
FACET = _obj(
    {
        "interval": _nullable({"type": "string", "enum": ["day", "month", "year"]}),
        "more": BOOL,
        "values": {"type": "array", "items": _ref("FacetValue")},
    }
)
QUERY = _obj(
    {
        "q": STR,
        "filters": {"type": "object", "additionalProperties": {"type": "array", "items": STR}},
        "published": _nullable(BOOL),
        "from": _nullable({"type": "string", "format": "date"}),
        "to": _nullable({"type": "string", "format": "date"}),
        "sort": {"type": "string", "enum": list(SORTS)},
        "collapse": BOOL,
    }
)
RESULTS = _obj(
    {
        "ok": {"type": "boolean", "enum": [True]},
        "query": QUERY,
        "total": INT,
        "folded": {
            **INT,
            "description": "Syndicated copies folded into the hits (collapse): total + folded articles match, "
            "as the facet counts count them.",
        },
        "page": INT,
        "per_page": INT,
        "pages": {
            **INT,
            "description": f"Pages that can be asked for: ceil(total / per_page), at most {MAX_PAGE}.",
        },
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": {"type": "object", "additionalProperties": _ref("Facet")},
        "suggestion": _nullable(STR),
        "relaxed": BOOL,
        "took_ms": NUM,
        "generation": STR,
    }
)
ERROR = _obj(
    {
        "ok": {"type": "boolean", "enum": [False]},
        "status": INT,
        "error": STR,
        "errors": {"type": "array", "items": _obj({"parameter": STR, "message": STR})},
    }
)
ARTICLE = _obj(
    {
        "ok": {"type": "boolean", "enum": [True]},
        "article": _ref("Hit"),
        "related": {"type": "array", "items": _ref("Hit")},
    }
)
SUGGESTIONS = _obj(
    {
        "ok": {"type": "boolean", "enum": [True]},
        "suggestions": {"type": "array", "items": _obj({"text": STR, "kind": {"type": "string"}})},
    }
)
ENGINE = {"type": "string", "enum": ["whoosh", "opensearch"], "description": "The engine serving (the engine setting)."}
ENGINE_HEALTH = {
    "type": "string",
    "enum": ["green", "yellow", "red"],
    "description": "The engine's health: always green for Whoosh; the cluster's for OpenSearch (yellow: some "
    "replicas are not assigned, every article is searchable; red is answered with a 503).",
}
STATS = _obj(
    {
        "ok": {"type": "boolean", "enum": [True]},
        "engine": ENGINE,
        "health": ENGINE_HEALTH,
        "generation": STR,
        "documents": INT,
        "files": INT,
        "built_at": {"type": "string", "format": "date-time"},
        "build_seconds": NUM,
        "last_report": STR,
        "report": {
            "type": "object",
            "description": f"The last build's counts; failures and warnings list the first {PUBLIC_LIST_LIMIT} "
            "(failed and warned count them all), file paths relative to their source folder.",
            "properties": {
                "failed": INT,
                "warned": INT,
                "failures": {"type": "array", "items": STR, "maxItems": PUBLIC_LIST_LIMIT},
                "warnings": {"type": "array", "items": STR, "maxItems": PUBLIC_LIST_LIMIT},
            },
            "required": ["failed", "warned", "failures", "warnings"],
        },
        "size_bytes": INT,
        "top_providers": {"type": "array", "items": _obj({"value": STR, "count": INT})},
        "reindex": _ref("Reindex"),
    }
)
DATE_TIME = {"type": "string", "format": "date-time"}
REINDEX_REPORT = _obj(
    {
        "added": INT,
        "updated": INT,
        "unchanged": INT,
        "deleted": INT,
        "duplicates": INT,
        "failed": INT,
        "documents": INT,
        "generation": {**STR, "description": "The generation the run published (or kept, when nothing changed)."},
        "failures": {
            "type": "array",
            "items": STR,
            "maxItems": PUBLIC_LIST_LIMIT,
            "description": "Files that could not be read as articles, as path:line: reason (the first "
            f"{PUBLIC_LIST_LIMIT}; paths relative to their source folder).",
        },
    }
)
RUN = {
    "id": STR,
    "full": {**BOOL, "description": "A full rebuild rather than an incremental update."},
    "trigger": {"type": "string", "enum": ["schedule", "api", "manual"]},
    "started_at": DATE_TIME,
}
REINDEX = _obj(
    {
        "running": {**BOOL, "description": "A run is going on now (in any server process)."},
        "current": _nullable(_obj(RUN)),
        "last_run": _nullable(
            _obj(
                {
                    **RUN,
                    "finished_at": DATE_TIME,
                    "seconds": NUM,
                    "ok": {**BOOL, "description": "False when the run failed; the previous index is still served."},
                    "error": _nullable(STR),
                    "report": _nullable(_ref("ReindexReport")),
                    "status_error": STR,
                },
                optional=("status_error",),
            )
        ),
        "next_run": _nullable({**DATE_TIME, "description": "When the schedule starts the next run."}),
        "schedule": _obj({"every": _nullable(STR), "cron": _nullable(STR), "full_cron": _nullable(STR)}),
        "generation": {**STR, "description": "The generation this server process is serving."},
    }
)
REINDEX_STARTED = _obj(
    {"ok": {"type": "boolean", "enum": [True]}, "run": _obj({"id": STR, "full": BOOL})},
)
HEALTH = _obj({"ok": {"type": "boolean", "enum": [True]}})
READY = _obj(
    {
        "ok": {"type": "boolean", "enum": [True]},
        "engine": ENGINE,
        "health": ENGINE_HEALTH,
        "generation": STR,
        "documents": INT,
    }
)


def _param(name: str, schema: dict, description: str, array: bool = False) -> dict:
    if array:
        schema = {"type": "array", "items": schema}
    param = {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    if array:
        param.update(style="form", explode=True)
    else:
        param["allowEmptyValue"] = True  # an empty value means the parameter is not set
    return param


def search_parameters(settings: Settings) -> list[dict]:
    # year 0001-9999, month 01-12, day 01-31 (a day the month lacks, such as 02-30, is refused too)
    date = {"type": "string", "pattern": DATE_PATTERN}
    return [
        _param(
            "q",
            {**STR, "maxLength": MAX_QUERY_LENGTH},
            f'Query text: words, "phrases", -exclusions, OR. At most {MAX_QUERY_LENGTH} characters once leading '
            "and trailing spaces are trimmed (longer: 400).",
        ),
        _param("provider", STR, "Only these providers (repeat for several).", array=True),
        _param("topic", STR, "Only articles with one of these topics.", array=True),
        _param("domain", STR, "Only these domains.", array=True),
        _param("category", STR, "Only these categories.", array=True),
        _param("type", STR, "Only these types.", array=True),
        _param("published", BOOL, "Only published (true) or unpublished (false) articles."),
        _param("from", date, "First day (YYYY-MM-DD; YYYY-MM and YYYY mean their first day)."),
        _param("to", date, "Last day (YYYY-MM-DD; YYYY-MM and YYYY mean their last day)."),
        _param("sort", {"type": "string", "enum": list(SORTS)}, "Order of the hits."),
        _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number, from 1."),
        _param("per_page", {"type": "integer", "minimum": 1, "maximum": settings.page_size_max}, "Hits per page."),
        _param("facets", STR, f"Comma-separated facets to count ({', '.join(FACETS)}), or none."),
        _param("facet_size", {"type": "integer", "minimum": 1, "maximum": 1000}, "Values listed per facet."),
        _param("collapse", BOOL, "Fold syndicated copies of one story into one hit."),
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
    return {
        "post": {
            "summary": "Start a re-index run now (incremental unless full is true).",
            "description": "Off (404) until the admin_token setting (SEARCHSVC_ADMIN_TOKEN) is set. The run "
            "goes on in the background: follow it in the `reindex` object of /api/stats.",
            "security": [{"bearer": []}, {"adminToken": []}],
            "parameters": [_param("full", BOOL, "Rebuild the whole index instead of updating what changed.")],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"full": BOOL},
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


def spec(settings: Settings) -> dict:
    not_found = _json("Error", "No article has this id.")
    article = _get("An article and the articles related to it.", _json("Article", "The article."))
    article["get"]["responses"]["404"] = not_found
    by_query = _get(
        "The same, with the id as a query parameter.",
        _json("Article", "The article."),
        [{"name": "id", "in": "query", "required": True, "schema": ID, "description": "The article's id."}],
    )
    by_query["get"]["responses"]["404"] = not_found
    article["get"]["parameters"] = [
        {"name": "id", "in": "path", "required": True, "schema": ID, "description": "The article's id."}
    ]
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
            "/api/articles/{id}": article,
            "/api/article": by_query,
            "/api/suggest": _get(
                "Completions for a search box.",
                _json("Suggestions", "Topics, providers and words that complete the text."),
                [
                    _param("q", STR, "The text typed so far."),
                    _param("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "At most this many."),
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
            "schemas": {
                "SearchResults": RESULTS,
                "Hit": HIT,
                "Facet": FACET,
                "FacetValue": FACET_VALUE,
                "Article": ARTICLE,
                "Suggestions": SUGGESTIONS,
                "Stats": STATS,
                "Reindex": REINDEX,
                "ReindexReport": REINDEX_REPORT,
                "ReindexStarted": REINDEX_STARTED,
                "Health": HEALTH,
                "Ready": READY,
                "Error": ERROR,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The admin_token setting."},
                "adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token"},
            },
        },
    }
