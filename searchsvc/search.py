"""SearchRequest -> SearchResults: the one data structure the CLI, the HTML page and the JSON API
render. Engine-neutral: the engine behind it only sees a validated SearchRequest."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from searchsvc.errors import QueryError

SORTS = ("relevance", "newest", "oldest", "quality")
FACETS = ("provider", "domain", "topic", "category", "type", "date")
# request parameter -> (SearchRequest attribute, facet name)
FILTER_PARAMS = {
    "provider": "providers",
    "domain": "domains",
    "topic": "topics",
    "category": "categories",
    "type": "types",
}
PARAMETERS = (
    "q",
    *FILTER_PARAMS,
    "published",
    "from",
    "to",
    "sort",
    "page",
    "per_page",
    "facets",
    "facet_size",
    "collapse",
)
MAX_PAGE = 1000
MAX_QUERY_LENGTH = 4000


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    providers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    published: bool | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facets: tuple[str, ...] = FACETS
    facet_size: int = 10
    collapse: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def filters(self) -> dict[str, tuple[str, ...]]:
        """Selected values by facet name (only the facets with a selection)."""
        out = {}
        for param, attr in FILTER_PARAMS.items():
            values = getattr(self, attr)
            if values:
                out[param] = values
        return out

    def cache_key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))

    def to_params(self) -> list[tuple[str, str]]:
        """The request as URL query parameters (defaults left out), for links and ETags."""
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        for param, attr in FILTER_PARAMS.items():
            params.extend((param, v) for v in getattr(self, attr))
        if self.published is not None:
            params.append(("published", "true" if self.published else "false"))
        if self.date_from:
            params.append(("from", self.date_from.isoformat()))
        if self.date_to:
            params.append(("to", self.date_to.isoformat()))
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.page != 1:
            params.append(("page", str(self.page)))
        if self.per_page != 10:
            params.append(("per_page", str(self.per_page)))
        if not self.collapse:
            params.append(("collapse", "false"))
        return params

    def with_changes(self, **changes: Any) -> SearchRequest:
        return replace(self, **changes)


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
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

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


def parse_request(
    params: Mapping[str, list[str]],
    page_size_max: int = 100,
    facet_size: int = 10,
    collapse: bool = True,
    strict: bool = True,
) -> SearchRequest:
    """Validate URL-style parameters (name -> list of values) into a SearchRequest.

    Raises QueryError naming the parameter and its valid values. With ``strict``, unknown
    parameters are errors too.
    """
    if strict:
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            raise QueryError(
                f"Unknown parameter {unknown[0]!r}. Valid parameters: {', '.join(PARAMETERS)}.", unknown[0]
            )

    def one(name: str) -> str | None:
        values = params.get(name) or []
        values = [v for v in values if v != ""]
        if len(values) > 1:
            raise QueryError(f"Parameter {name!r} was given {len(values)} times; give it once.", name)
        return values[0] if values else None

    def many(name: str) -> tuple[str, ...]:
        out: list[str] = []
        for value in params.get(name) or []:
            value = value.strip()
            if value and value not in out:
                out.append(value)
        return tuple(out)

    q = (one("q") or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError(f"Parameter 'q' is longer than {MAX_QUERY_LENGTH} characters; shorten the query.", "q")
    sort = one("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"Parameter 'sort' must be one of {', '.join(SORTS)}; got {sort!r}.", "sort")
    page = _integer(one("page"), "page", 1, 1, MAX_PAGE)
    per_page = _integer(one("per_page"), "per_page", min(10, page_size_max), 1, page_size_max)
    size = _integer(one("facet_size"), "facet_size", facet_size, 1, 1000)
    date_from = _date(one("from"), "from")
    date_to = _date(one("to"), "to")
    if date_from and date_to and date_from > date_to:
        raise QueryError(f"Parameter 'from' ({date_from}) is after 'to' ({date_to}); swap them.", "from")
    facets_param = one("facets")
    if facets_param is None:
        facets = FACETS
    elif facets_param.lower() in ("none", "false", "0"):
        facets = ()
    else:
        facets = tuple(f.strip() for f in facets_param.split(",") if f.strip())
        bad = [f for f in facets if f not in FACETS]
        if bad:
            raise QueryError(
                f"Parameter 'facets' has unknown facet {bad[0]!r}; valid: {', '.join(FACETS)}, or none.",
                "facets",
            )
    return SearchRequest(
        q=q,
        providers=many("provider"),
        domains=many("domain"),
        topics=many("topic"),
        categories=many("category"),
        types=many("type"),
        published=_flag(one("published"), "published"),
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=page,
        per_page=per_page,
        facets=facets,
        facet_size=size,
        collapse=_flag(one("collapse"), "collapse", collapse),
    )


def _integer(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        text = raw.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise ValueError(raw)
        value = int(text)
    except ValueError:
        raise QueryError(
            f"Parameter {name!r} must be a whole number from {low} to {high}; got {raw!r}.", name
        ) from None
    if not low <= value <= high:
        raise QueryError(f"Parameter {name!r} must be from {low} to {high}; got {value}.", name)
    return value


def _date(raw: str | None, name: str) -> dt.date | None:
    """A day from YYYY-MM-DD; YYYY-MM and YYYY mean their first day ('from') or last day ('to')."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:7])
            first = dt.date(year, month, 1)
            if name == "to":
                following = dt.date(year + month // 12, month % 12 + 1, 1)
                return following - dt.timedelta(days=1)
            return first
        if len(text) == 4 and text.isdigit():
            return dt.date(int(text), 12, 31) if name == "to" else dt.date(int(text), 1, 1)
        raise ValueError(text)
    except ValueError:
        raise QueryError(
            f"Parameter {name!r} must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got {raw!r}.", name
        ) from None


def _flag(raw: str | None, name: str, default: bool | None = None) -> bool | None:
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise QueryError(f"Parameter {name!r} must be true or false; got {raw!r}.", name)


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
