"""SearchRequest -> SearchResults: the one data structure the CLI, the HTML page and the JSON API
render. Engine-neutral: the engine behind it only sees a validated SearchRequest."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from prometheus_client import Counter, Histogram

from searchsvc.engine.interface import Correction, Facet, FacetValue, Highlight, Hit, SearchEngine, Suggestion
from searchsvc.errors import QueryError, QueryTooExpensive
from searchsvc.request import (  # noqa: F401 - the request side, re-exported for callers
    FACETS,
    FILTER_PARAMS,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    PARAMETERS,
    SORTS,
    SearchRequest,
    parse_request,
)

# engine time of the searches the cache did not answer, in seconds
SEARCH_SECONDS = Histogram(
    "searchsvc_search_took_seconds",
    "Time the engine took to run a search the result cache did not answer, in seconds.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CACHE_LOOKUPS = Counter(
    "searchsvc_search_cache", "Lookups in the result cache (none when result_cache = 0), by result.", ["result"]
)
CACHE_HITS, CACHE_MISSES = CACHE_LOOKUPS.labels("hit"), CACHE_LOOKUPS.labels("miss")


@dataclass
class SearchResults:
    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, Facet]
    suggestion: str | None = None
    relaxed: bool = False
    took_ms: float = 0.0
    generation: str = ""
    query_terms: list[str] = field(default_factory=list)
    folded: int = 0  # syndicated copies folded into the hits: total + folded articles match
    corrections: list[Correction] = field(default_factory=list)  # misspelt words, what they matched

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def per_page(self) -> int:
        return self.request.per_page

    @property
    def pages(self) -> int:
        """The pages that can be asked for (page= is refused above MAX_PAGE)."""
        return min(math.ceil(self.total / self.per_page), MAX_PAGE) if self.total else 0

    def to_dict(self) -> dict:
        request = self.request
        return {
            "ok": True,
            "query": {
                "q": request.q,
                "filters": {k: list(v) for k, v in request.filters().items()},
                "published": request.published,
                "from": request.date_from.isoformat() if request.date_from else None,
                "to": request.date_to.isoformat() if request.date_to else None,
                "sort": request.sort,
                "collapse": request.collapse,
                "typos": request.typos,
            },
            "total": self.total,
            "folded": self.folded,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "hits": [hit_to_dict(hit) for hit in self.hits],
            "facets": {
                name: {
                    "interval": facet.interval,
                    "more": facet.more,
                    "values": [facet_value_to_dict(value) for value in facet.values],
                }
                for name, facet in self.facets.items()
            },
            "suggestion": self.suggestion,
            "relaxed": self.relaxed,
            "corrections": [{"word": c.word, "matched": list(c.matched)} for c in self.corrections],
            "took_ms": round(self.took_ms, 3),
            "generation": self.generation,
        }


class SearchService:
    """Runs requests on an engine and builds SearchResults; caches them per view of the index."""

    def __init__(self, engine: SearchEngine, cache_size: int = 512) -> None:
        self.engine = engine
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, SearchResults] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def generation(self) -> str:
        """The name of the view being served."""
        return self.engine.view().name

    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        view = self.engine.view()  # one view for the whole request
        key = (view.name, request.cache_key())
        if self.cache_size:
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    CACHE_HITS.inc()
                    return replace(cached, took_ms=(time.perf_counter() - started) * 1000)
            CACHE_MISSES.inc()
        page = self.engine.search(request, view)
        results = SearchResults(
            request=request,
            total=page.total,
            hits=page.hits,
            facets=page.facets,
            suggestion=page.suggestion,
            relaxed=page.relaxed,
            generation=page.view,
            query_terms=page.words,
            folded=page.folded,
            corrections=page.corrections,
        )
        results.took_ms = (time.perf_counter() - started) * 1000
        SEARCH_SECONDS.observe(results.took_ms / 1000)
        if self.cache_size:
            with self._lock:
                self._cache[key] = results
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return results

    def article(self, doc_id: str) -> tuple[Hit, list[Hit]] | None:
        """An article and the articles like it (its own related entries first)."""
        view = self.engine.view()
        found = self.engine.article(doc_id, view)
        if found is None:
            return None
        return found, self.engine.more_like_this(doc_id, view=view)

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        return self.engine.suggest(prefix[:200], limit)

    def export(self, request: SearchRequest, limit: int | None = None, max_rows: int = 0) -> ExportResults:
        """Every result of ``request`` for an export, or the first ``limit``. Without a limit, a
        search with more than ``max_rows`` results (0: no cap) is refused before a row is read."""
        if limit is not None and (limit < 1 or 0 < max_rows < limit):
            span = f"from 1 to {max_rows} (the export_max_rows setting)" if max_rows else "of at least 1"
            raise QueryError(f"Parameter 'limit' must be a whole number {span}; got {limit}.", "limit")
        cap = limit or max_rows or None
        stream = self.engine.export(request, self.engine.view(), cap)
        if limit is None and cap is not None and stream.total > cap:
            stream.close()
            raise QueryTooExpensive(
                f"This search has {stream.total:,} results, more than the {cap:,} one export may hold (the "
                f"export_max_rows setting). Narrow it with filters or dates, or export the first {cap:,} "
                f"only: add limit={cap} (--limit {cap} on the command line).",
                "limit",
            )
        return ExportResults(
            request=request,
            total=stream.total,
            rows=stream.total if cap is None else min(stream.total, cap),
            hits=stream.hits,
            relaxed=stream.relaxed,
            generation=stream.view,
            folded=stream.folded,
            close=stream.close,
        )


@dataclass
class ExportResults:
    """Every result of a search, as an export renders it: ``total`` (as SearchResults') and
    ``rows`` (how many ``hits`` yields: the total, or the first ``limit``) are known before the
    first hit is read; ``hits`` reads the articles as they are consumed. The renderers below
    call ``close`` when done (or stopped)."""

    request: SearchRequest
    total: int
    rows: int
    hits: Iterator[Hit]
    relaxed: bool = False
    generation: str = ""
    folded: int = 0
    close: Callable[[], None] = lambda: None


def facet_value_to_dict(value: FacetValue) -> dict:
    data = {"value": value.value, "count": value.count, "selected": value.selected}
    if value.start is not None:
        data["start"] = value.start
    if value.end is not None:
        data["end"] = value.end
    return data


def hit_to_dict(hit: Hit) -> dict:
    """A hit as JSON-ready data, its highlights as escaped HTML with <mark> around the matches."""
    return {
        "id": hit.id,
        "title": hit.title,
        "excerpt": hit.excerpt,
        "url": hit.url,
        "provider": hit.provider,
        "domain": hit.domain,
        "published": hit.published,
        "topics": list(hit.topics),
        "image": hit.image,
        "score": hit.score,
        "highlights": {name: value.render() for name, value in hit.highlights.items()},
        "category": hit.category,
        "type": hit.type,
        "quality": hit.quality,
        "duplicates": hit.duplicates,
        "related_to": hit.related_to,
        "related_ids": list(hit.related_ids),
    }


__all__ = ["Facet", "FacetValue", "Highlight", "Hit", "SearchResults", "SearchService", "Suggestion", "hit_to_dict"]
