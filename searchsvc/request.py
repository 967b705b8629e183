"""SearchRequest: what a search asks for, and parse_request, which validates URL-style
parameters into one (with errors that name the parameter and its valid values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from searchsvc.errors import QueryError, QueryTooExpensive

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
    "typos",
)
MAX_PAGE = 1000
# The longest ``q`` accepted, in characters (the OpenAPI description reads it). Long enough for a
# pasted paragraph (the CISI benchmark's queries reach 2,035); what a query may cost is bounded by
# the words it holds and the time budget instead (engine/limits.py).
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
    typos: bool = True  # misspelt words may also match known words (typo tolerance)

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
        if not self.typos:
            params.append(("typos", "false"))
        return params

    def with_changes(self, **changes: Any) -> SearchRequest:
        return replace(self, **changes)


def parse_request(
    params: Mapping[str, list[str]],
    page_size_max: int = 100,
    facet_size: int = 10,
    collapse: bool = True,
    strict: bool = True,
    typos: bool = True,
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
        # distinct, in order (a dict: 15,000 values must not cost 15,000 squared comparisons)
        return tuple(dict.fromkeys(value for value in (v.strip() for v in params.get(name) or []) if value))

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
        typos=_flag(one("typos"), "typos", typos),
    )


def check_filter_values(request: SearchRequest, limit: int) -> None:
    """Refuse a request whose filters (provider=, topic=, ...) hold more than ``limit`` values
    together (0: no limit)."""
    filters = request.filters()
    count = sum(len(values) for values in filters.values())
    if limit <= 0 or count <= limit:
        return
    most = max(filters, key=lambda name: len(filters[name]))
    listed = ", ".join(f"{name}= {len(values)}" for name, values in filters.items())
    raise QueryTooExpensive(
        f"The filters of this search hold {count} values ({listed}); at most {limit} are allowed "
        f"(max_filter_values). Select fewer values.",
        most,
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
