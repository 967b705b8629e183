"""What every view needs from the app: the settings, the search service, request parsing and the
state of re-index runs."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app, g, request

from searchsvc import engine
from searchsvc.config import Settings
from searchsvc.engine.whoosh_engine.generations import Generation, require_generation
from searchsvc.reindex import Reindexer
from searchsvc.search import SearchRequest, SearchService, parse_request
from searchsvc.stats import public_reindex, public_stats

_summary_lock = threading.Lock()
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
            current = require_generation(settings().index_dir)
            return {"generation": current.name, "documents": engine.document_count(current.path)}
        summary = {"generation": generation, "documents": documents}
        with _summary_lock:
            cache.clear()
            cache[generation] = summary
    return summary


def stats_data() -> dict:
    """/api/stats' data of the generation being served: computed once per generation and
    process (concurrent callers wait for the one computing it rather than repeating it)."""
    snapshot = service().engine.snapshot()
    cache = current_app.extensions["searchsvc.stats"]
    data = cache.get(snapshot.name)
    if data is None:
        with _stats_lock:
            data = cache.get(snapshot.name)
            if data is None:
                config = settings()
                generation = Generation(int(snapshot.name.rpartition("-")[2]), Path(snapshot.folder))
                data = public_stats(generation, snapshot, config.source, config.index_dir)
                cache.clear()
                cache[snapshot.name] = data
    return data


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
