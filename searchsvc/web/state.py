"""What every view needs from the app: the settings, the search service, request parsing and the
state of re-index runs."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app, g, request

from searchsvc import engine
from searchsvc.config import Settings
from searchsvc.reindex import Reindexer
from searchsvc.search import SearchRequest, SearchService, parse_request
from searchsvc.stats import index_stats

_summary_lock = threading.Lock()


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
    )


def index_summary() -> dict:
    """Generation and document count of the index being served (read once per generation).

    The count is that of the generation this process serves, which may lag ``CURRENT`` by up to
    half a second after a re-index: a summary never pairs one generation with another's count.
    """
    generation = service().generation
    cache = current_app.extensions["searchsvc.summary"]
    summary = cache.get(generation)
    if summary is None:
        try:
            documents = engine.document_count(Path(settings().index_dir) / generation)
        except Exception:  # noqa: BLE001 - the folder of a superseded generation may be gone already
            stats = index_stats(settings().index_dir)
            return {"generation": stats["generation"], "documents": stats["documents"]}
        summary = {"generation": generation, "documents": documents}
        with _summary_lock:
            cache.clear()
            cache[generation] = summary
    return summary


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
        g.searchsvc_reindex = status
    return status


def reindex_fingerprint() -> str:
    """What of the re-index status a page or /api/stats shows: part of their ETag."""
    status = reindex_status()
    current = status["current"] or {}
    last = status["last_run"] or {}
    return "|".join(str(part) for part in (status["running"], current.get("id"), last.get("id"), status["next_run"]))
