"""What every view needs from the app: the settings, the search service and request parsing."""

from __future__ import annotations

import threading

from flask import current_app, request

from searchsvc.config import Settings
from searchsvc.search import SearchRequest, SearchService, parse_request
from searchsvc.stats import index_stats

_summary_lock = threading.Lock()


def settings() -> Settings:
    return current_app.extensions["searchsvc.settings"]


def service() -> SearchService:
    return current_app.extensions["searchsvc.service"]


def search_request(strict: bool = True) -> SearchRequest:
    """The current request's query string as a SearchRequest (raises QueryError)."""
    config = settings()
    return parse_request(
        request.args.to_dict(flat=False),
        page_size_max=config.page_size_max,
        facet_size=config.facet_size,
        collapse=config.collapse,
        strict=strict,
    )


def index_summary() -> dict:
    """Generation and document count of the index being served (read once per generation)."""
    generation = service().generation
    cache = current_app.extensions["searchsvc.summary"]
    summary = cache.get(generation)
    if summary is None:
        stats = index_stats(settings().index_dir)
        summary = {"generation": generation, "documents": stats["documents"]}
        if stats["generation"] == generation:
            with _summary_lock:
                cache.clear()
                cache[generation] = summary
    return summary
