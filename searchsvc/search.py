"""SearchRequest -> SearchResults: the one data structure the CLI, the HTML page and the JSON API
render. Engine-neutral: the engine behind it only sees a validated SearchRequest."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

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


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool = False
    # for date buckets: the first and last day the bucket covers
    start: str | None = None
    end: str | None = None


@dataclass
class Facet:
    name: str
    values: list[FacetValue] = field(default_factory=list)
    interval: str | None = None  # date facet: "day", "month" or "year"
    more: bool = False  # more values exist than were listed


@dataclass
class Hit:
    id: str
    title: str
    excerpt: str
    url: str
    provider: str
    domain: str
    published: str | None
    topics: list[str]
    image: str
    score: float
    highlights: dict[str, str] = field(default_factory=dict)
    category: str = ""
    type: str = ""
    quality: int | None = None
    duplicates: int = 0
    related_to: str = ""
    related_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The hit as JSON-ready data (a shallow copy: dataclasses.asdict deep-copies, slowly)."""
        data = dict(vars(self))
        data["topics"] = list(self.topics)
        data["highlights"] = dict(self.highlights)
        data["related_ids"] = list(self.related_ids)
        return data


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
            },
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": {
                name: {
                    "interval": facet.interval,
                    "more": facet.more,
                    "values": [
                        {k: v for k, v in vars(value).items() if v is not None or k in ("value", "count")}
                        for value in facet.values
                    ],
                }
                for name, facet in self.facets.items()
            },
            "suggestion": self.suggestion,
            "relaxed": self.relaxed,
            "took_ms": round(self.took_ms, 3),
            "generation": self.generation,
        }


class SearchService:
    """Runs requests on an engine and builds SearchResults; caches them per index generation."""

    def __init__(self, engine, cache_size: int = 512) -> None:
        self.engine = engine
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, SearchResults] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def generation(self) -> str:
        return self.engine.snapshot().name

    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        snapshot = self.engine.snapshot()  # one generation for the whole request
        key = (snapshot.name, request.cache_key())
        if self.cache_size:
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    return replace(cached, took_ms=(time.perf_counter() - started) * 1000)
        raw = self.engine.search(request, snapshot)
        results = SearchResults(
            request=request,
            total=raw.total,
            hits=[to_hit(h) for h in raw.hits],
            facets={
                name: Facet(
                    name=name,
                    values=[FacetValue(v, c, sel, start, end) for v, c, sel, start, end in values],
                    interval=interval,
                    more=more,
                )
                for name, (values, interval, more) in raw.facets.items()
            },
            suggestion=raw.suggestion,
            relaxed=raw.relaxed,
            generation=raw.generation,
            query_terms=raw.words,
        )
        results.took_ms = (time.perf_counter() - started) * 1000
        if self.cache_size:
            with self._lock:
                self._cache[key] = results
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return results

    def article(self, doc_id: str) -> tuple[Hit, list[Hit]] | None:
        """An article and the articles like it (its own related entries first)."""
        snapshot = self.engine.snapshot()
        found = self.engine.article(doc_id, snapshot)
        if found is None:
            return None
        return to_hit(found), [to_hit(h) for h in self.engine.more_like_this(doc_id, snapshot=snapshot)]

    def suggest(self, prefix: str, limit: int = 10) -> list[dict]:
        return self.engine.suggest(prefix[:200], limit)


def to_hit(raw) -> Hit:
    data = raw.stored
    return Hit(
        id=data["id"],
        title=raw.title,
        excerpt=raw.excerpt,
        url=data.get("url", ""),
        provider=data.get("provider", ""),
        domain=data.get("domain", ""),
        published=data.get("published_at"),
        topics=list(data.get("topics", [])),
        image=data.get("image", ""),
        score=round(float(raw.score), 4),
        highlights=raw.highlights,
        category=data.get("category", ""),
        type=data.get("type", ""),
        quality=data.get("quality"),
        duplicates=raw.duplicates,
        related_to=data.get("related_to", ""),
        related_ids=list(data.get("related_ids", [])),
    )
