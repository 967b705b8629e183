"""The parts of a search body: filters (post_filter, so each facet can count without its own
selection), facet and date-histogram aggregations, the collapsed total, sorts and highlights."""

from __future__ import annotations

import datetime as dt

from searchsvc.engine.opensearch_engine.mapping import FACET_FIELDS

# highlight marks: private-use characters that no article text holds (the normaliser drops them)
MARK_START, MARK_END = "\ue000", "\ue001"
# above this many copies the collapsed count is HyperLogLog's (exact below: see README)
COPIES_PRECISION = 40_000
SELECTED = {"provider": "providers", "domain": "domains", "topic": "topics", "category": "categories", "type": "types"}


def filter_clauses(request) -> dict[str, dict]:
    """One clause per active filter, keyed by the facet it belongs to (as the Whoosh engine's masks)."""
    clauses: dict[str, dict] = {}
    for facet, attr in SELECTED.items():
        values = getattr(request, attr)
        if values:
            clauses[facet] = {"terms": {FACET_FIELDS[facet][1]: list(values)}}
    if request.published is not None:
        clauses["published"] = {"term": {"published": bool(request.published)}}
    if request.date_from or request.date_to:
        span: dict = {}
        if request.date_from:
            span["gte"] = request.date_from.isoformat() + "T00:00:00Z"
        if request.date_to:
            span["lt"] = (request.date_to + dt.timedelta(days=1)).isoformat() + "T00:00:00Z"
        clauses["date"] = {"range": {"published_at": span}}
    return clauses


def all_but(clauses: dict[str, dict], facet: str | None) -> list[dict]:
    return [clause for name, clause in clauses.items() if name != facet]


def _wrapped(clauses: list[dict], aggs: dict) -> dict:
    """``aggs`` counted under ``clauses`` (no wrapper when there is nothing to filter)."""
    if not clauses:
        return {"filter": {"match_all": {}}, "aggs": aggs}
    return {"filter": {"bool": {"filter": clauses}}, "aggs": aggs}


def aggregations(request, clauses: dict[str, dict]) -> dict:
    aggs: dict = {}
    for facet in request.facets:
        if facet == "date":
            # one day histogram; months and years are summed from its days (results.date_facet)
            aggs["f_date"] = _wrapped(
                all_but(clauses, "date"),
                {"day": {"date_histogram": {"field": "published_at", "calendar_interval": "day", "min_doc_count": 1}}},
            )
            continue
        shown, folded = FACET_FIELDS[facet]
        inner: dict = {
            "top": {
                "terms": {
                    "field": shown,
                    "size": request.facet_size + 1,
                    "shard_size": max(request.facet_size * 3 + 10, 100),
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
        }
        selected = getattr(request, SELECTED[facet])
        if selected:
            inner["chosen"] = {
                "filters": {"filters": {str(i): {"term": {folded: value}} for i, value in enumerate(selected)}},
                "aggs": {"spelling": {"terms": {"field": shown, "size": 1}}},
            }
        aggs[f"f_{facet}"] = _wrapped(all_but(clauses, facet), inner)
    if request.collapse:
        aggs["stories"] = _wrapped(
            all_but(clauses, None),
            {
                "single": {"filter": {"term": {"syndicated": False}}},
                "copies": {
                    "filter": {"term": {"syndicated": True}},
                    "aggs": {"stories": {"cardinality": {"field": "story", "precision_threshold": COPIES_PRECISION}}},
                },
            },
        )
    return aggs


def sort_of(request, has_query: bool) -> list:
    newest = {"published_at": {"order": "desc", "missing": "_last"}}
    if request.sort == "newest" or (request.sort == "relevance" and not has_query):
        return [newest, "_score", {"id": "asc"}]
    if request.sort == "oldest":
        return [{"published_at": {"order": "asc", "missing": "_last"}}, "_score", {"id": "asc"}]
    if request.sort == "quality":
        return [{"quality": {"order": "desc", "missing": "_last"}}, "_score", newest, {"id": "asc"}]
    return ["_score", newest, {"id": "asc"}]


HIGHLIGHT = {
    "type": "unified",
    "pre_tags": [MARK_START],
    "post_tags": [MARK_END],
    "fields": {
        "title": {"number_of_fragments": 0},
        "excerpt": {"fragment_size": 300, "number_of_fragments": 1, "no_match_size": 300},
        "body": {"fragment_size": 200, "number_of_fragments": 1, "no_match_size": 200},
    },
}

# the copies of each hit are counted afterwards, in one request for the page (copies_body), not
# with inner_hits, which runs one more search per hit
COLLAPSE = {"field": "story"}
SOURCE_FIELDS = [
    "id",
    "title",
    "excerpt",
    "topics",
    "provider",
    "domain",
    "category",
    "type",
    "published_at",
    "published",
    "quality",
    "heat",
    "title_key",
    "story",
    "syndicated",
    "shown",
]


def copies_body(query: dict, clauses: dict[str, dict], stories: list[str]) -> dict:
    """How many matches (under the filters) each of ``stories`` has: the copies of a page's hits."""
    keep = [query, *clauses.values(), {"terms": {"story": stories}}]
    return {
        "size": 0,
        "query": {"bool": {"filter": keep}},
        "aggs": {"copies": {"terms": {"field": "story", "size": len(stories)}}},
    }
