"""What every view needs from the app: the settings, the search service, request parsing and the
state of re-index runs."""

from __future__ import annotations

import threading

from flask import current_app, g, request

from searchsvc.config import Settings
from searchsvc.reindex import Reindexer
from searchsvc.search import SearchRequest, SearchService, parse_request
from searchsvc.stats import public_reindex, public_stats

_stats_lock = threading.Lock()


def settings() -> Settings:
    return current_app.extensions["searchsvc.settings"]


def service() -> SearchService:
    return current_app.extensions["searchsvc.service"]


def reindexer() -> Reindexer:
    return current_app.extensions["searchsvc.reindexer"]


def search_request(strict: bool = True) -> SearchRequest:
    """The current request's query string as a SearchRequest (raises QueryError)."""
    config = settings()
    return parse_request(
        request.args.to_dict(flat=False),
        page_size_max=config.page_size_max,
        facet_size=config.facet_size,
        collapse=config.collapse,
        strict=strict,
        typos=config.typo_tolerance,
    )


def index_summary() -> dict:
    """The engine, its health, and the name and document count of the view this process serves
    (which may lag the newest view by up to half a second after a re-index: never one view's name
    with another's count)."""
    engine = service().engine
    view = engine.view()
    health = engine.health(view)
    return {"engine": engine.name, "health": health, "generation": view.name, "documents": view.documents}


def stats_data() -> dict:
    """/api/stats' data of the view being served: computed once per view and process
    (concurrent callers wait for the one computing it rather than repeating it)."""
    engine = service().engine
    view = engine.view()
    cache = current_app.extensions["searchsvc.stats"]
    data = cache.get(view.name)
    if data is None:
        with _stats_lock:
            data = cache.get(view.name)
            if data is None:
                config = settings()
                data = public_stats(engine.summary(view), config.source, config.index_dir, engine.name)
                cache.clear()
                cache[view.name] = data
    return {**data, "health": engine.health(view)}  # the health of now, not of when it was cached


def reindex_status() -> dict:
    """The ``reindex`` object of /api/stats (read once per request)."""
    status = g.get("searchsvc_reindex")
    if status is None:
        config = settings()
        status = {
            **reindexer().status(),
            "schedule": {
                "every": config.reindex_every or None,
                "cron": config.reindex_cron or None,
                "full_cron": config.full_reindex_cron or None,
            },
            "generation": service().generation,
        }
        status = public_reindex(status, config.source, config.index_dir)
        g.searchsvc_reindex = status
    return status


def reindex_fingerprint() -> str:
    """What of the re-index status a page or /api/stats shows: part of their ETag."""
    status = reindex_status()
    current = status["current"] or {}
    last = status["last_run"] or {}
    return "|".join(str(part) for part in (status["running"], current.get("id"), last.get("id"), status["next_run"]))
