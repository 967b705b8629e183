"""The JSON API: /api/search, /api/articles/<id>, /api/suggest, /api/stats, /api/openapi.json,
and the probes /healthz and /readyz. Every handler renders what the search layer returns.
(POST /api/admin/reindex is in admin.py.)"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from searchsvc.errors import EngineUnavailable, QueryError
from searchsvc.search import hit_to_dict
from searchsvc.web import docs, openapi
from searchsvc.web.http import conditional, no_store
from searchsvc.web.state import (
    index_summary,
    reindex_fingerprint,
    reindex_status,
    search_request,
    service,
    settings,
    stats_data,
)

blueprint = Blueprint("api", __name__)
blueprint.add_url_rule("/api/docs", view_func=docs.api_docs)  # the spec as an HTML page

SUGGEST_LIMIT = 10
SUGGEST_LIMIT_MAX = 50


def check_params(*allowed: str) -> None:
    """Reject parameters this endpoint does not know (the API is strict; typos never pass)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise QueryError(f"Unknown parameter {unknown[0]!r}. Valid parameters: {valid}.", unknown[0])


def one_param(name: str) -> str:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise QueryError(f"Parameter {name!r} was given {len(values)} times; give it once.", name)
    return values[0] if values else ""


@blueprint.get("/api/search")
@conditional
def search():
    results = service().search(search_request(strict=True))
    return jsonify(results.to_dict())


def _article_payload(doc_id: str):
    found = service().article(doc_id)
    if found is None:
        abort(404, f"No article with id {doc_id!r}. Ids are article URLs, as /api/search returns them.")
    hit, related = found
    return jsonify({"ok": True, "article": hit_to_dict(hit), "related": [hit_to_dict(h) for h in related]})


@blueprint.get("/api/articles/<id:doc_id>")
@conditional
def article(doc_id: str):
    check_params()
    return _article_payload(doc_id)


@blueprint.get("/api/article")
@conditional
def article_by_query():
    check_params("id")
    doc_id = one_param("id").strip()
    if not doc_id:
        raise QueryError("Parameter 'id' is required: the article's URL, e.g. ?id=https://example.com/a.", "id")
    return _article_payload(doc_id)


@blueprint.get("/api/suggest")
@conditional
def suggest():
    check_params("q", "limit")
    raw = one_param("limit").strip()
    limit = SUGGEST_LIMIT
    if raw:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= SUGGEST_LIMIT_MAX:
            raise QueryError(
                f"Parameter 'limit' must be a whole number from 1 to {SUGGEST_LIMIT_MAX}; got {raw!r}.", "limit"
            )
        limit = int(raw)
    suggestions = service().suggest(one_param("q"), limit)
    return jsonify({"ok": True, "suggestions": [_suggestion(s) for s in suggestions]})


def _suggestion(s) -> dict:
    """A word as its text; a topic or provider with the filter it sets and the query kept beside it."""
    if s.filter is None:
        return {"text": s.text, "kind": s.kind}
    return {"text": s.text, "kind": s.kind, "filter": s.filter, "q": s.query or ""}


@blueprint.get("/api/stats")
@conditional(extra=reindex_fingerprint)
def stats():
    check_params()
    data = dict(stats_data())
    data["top_providers"] = [{"value": name, "count": count} for name, count in data["top_providers"]]
    return jsonify({"ok": True, **data, "reindex": reindex_status()})


@blueprint.get("/api/openapi.json")
def openapi_json():
    check_params()
    return no_store(jsonify(openapi.spec(settings())))


@blueprint.get("/healthz")
def healthz():
    return no_store(jsonify({"ok": True}))


@blueprint.get("/readyz")
def readyz():
    summary = index_summary()
    if summary["health"] == "red":
        raise EngineUnavailable(
            f"The {summary['engine']} engine is red: some of the index {summary['generation']} is not searchable. "
            "Check the cluster ('GET _cluster/health') and bring its nodes back."
        )
    return no_store(jsonify({"ok": True, **summary}))
