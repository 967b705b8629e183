"""What the search page shows, derived from SearchResults: links that add or remove one value,
active-filter chips, facet lists, the date histogram and pagination. Every state is a URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from searchsvc.search import FILTER_PARAMS, MAX_PAGE, SearchRequest, SearchResults

SIDEBAR_FACETS = ("provider", "topic", "domain", "category", "type")
FACET_LABELS = {"provider": "Provider", "topic": "Topic", "domain": "Domain", "category": "Category", "type": "Type"}
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first", "quality": "Quality"}
MORE_FACET_SIZE = 50

Params = list[tuple[str, str]]


def href(params: Params) -> str:
    return "/?" + urlencode(params) if params else "/"


def without(params: Params, name: str, value: str | None = None) -> Params:
    """``params`` less ``name`` (only its ``value`` when given), back on the first page."""
    return [(k, v) for k, v in params if k != "page" and not (k == name and (value is None or v == value))]


def replaced(params: Params, **changes: str) -> Params:
    """``params`` with single-valued parameters set (``from_`` means ``from``)."""
    names = {k.rstrip("_") for k in changes}
    kept = [(k, v) for k, v in params if k not in names and (k != "page" or "page" in names)]
    return kept + [(k.rstrip("_"), v) for k, v in changes.items()]


@dataclass
class Chip:
    label: str
    href: str


@dataclass
class Bar:
    label: str
    count: int
    height: int
    href: str
    selected: bool
    description: str


@dataclass
class PageLink:
    number: int | None  # None: a gap (…)
    href: str = ""
    current: bool = False


@dataclass
class SearchPage:
    request: SearchRequest
    results: SearchResults
    params: Params
    chips: list[Chip] = field(default_factory=list)
    clear_all: str = ""
    facets: list = field(default_factory=list)  # (name, label, Facet, "show more" link or "")
    bars: list[Bar] = field(default_factory=list)
    pages: list[PageLink] = field(default_factory=list)
    previous: str = ""
    next: str = ""
    suggestion_href: str = ""
    first_page: str = ""

    @property
    def is_empty_search(self) -> bool:
        return not self.request.q and not self.chips and self.request.page == 1


def request_params(request: SearchRequest, facet_size: int) -> Params:
    params = request.to_params()
    if request.facet_size != facet_size:
        params.append(("facet_size", str(request.facet_size)))
    return params


def build_page(results: SearchResults, facet_size: int) -> SearchPage:
    request = results.request
    params = request_params(request, facet_size)
    page = SearchPage(request, results, params)
    page.chips = _chips(request, params)
    page.clear_all = href([(k, v) for k, v in params if k in ("q", "sort", "per_page", "collapse")])
    for name in SIDEBAR_FACETS:
        facet = results.facets.get(name)
        if facet is None or not facet.values:
            continue
        more = href(replaced(params, facet_size=str(MORE_FACET_SIZE))) if facet.more else ""
        page.facets.append((name, FACET_LABELS[name], facet, more))
    date = results.facets.get("date")
    if date is not None and date.values:
        page.bars = _bars(date, params)
    _pagination(page, min(results.pages, MAX_PAGE))
    if results.suggestion:
        page.suggestion_href = href(replaced(without(params, "q"), q=results.suggestion))
    page.first_page = href(without(params, "page"))
    return page


def _chips(request: SearchRequest, params: Params) -> list[Chip]:
    chips = []
    for param, attr in FILTER_PARAMS.items():
        for value in getattr(request, attr):
            chips.append(Chip(f"{FACET_LABELS[param]}: {value}", href(without(params, param, value))))
    if request.published is not None:
        label = "Published only" if request.published else "Unpublished only"
        chips.append(Chip(label, href(without(params, "published"))))
    if request.date_from:
        chips.append(Chip(f"From {request.date_from.isoformat()}", href(without(params, "from"))))
    if request.date_to:
        chips.append(Chip(f"To {request.date_to.isoformat()}", href(without(params, "to"))))
    return chips


def _bar_label(value: str, interval: str | None) -> tuple[str, str]:
    """Short label under a bar, and the long one screen readers hear."""
    try:
        if interval == "month":
            day = dt.date.fromisoformat(value + "-01")
            return day.strftime("%b %y"), day.strftime("%B %Y")
        if interval == "day":
            day = dt.date.fromisoformat(value)
            return day.strftime("%d %b"), day.strftime("%d %B %Y")
    except ValueError:
        pass
    return value, value


def _bars(facet, params: Params) -> list[Bar]:
    top = max(v.count for v in facet.values) or 1
    bars = []
    for value in facet.values:
        short, long = _bar_label(value.value, facet.interval)
        target = replaced(params, from_=value.start or value.value, to=value.end or value.value)
        noun = "article" if value.count == 1 else "articles"
        bars.append(
            Bar(
                short,
                value.count,
                max(4, round(100 * value.count / top)),
                href(target),
                value.selected,
                f"{long}: {value.count} {noun}",
            )
        )
    return bars


def _pagination(page: SearchPage, last: int) -> None:
    current = page.request.page
    if last <= 1:
        return
    wanted = {1, last, *range(current - 2, current + 3)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    previous = 0
    for number in numbers:
        if number - previous > 1:
            page.pages.append(PageLink(None))
        page.pages.append(PageLink(number, href(_page(page.params, number)), number == current))
        previous = number
    if current > 1:
        page.previous = href(_page(page.params, min(current - 1, last)))
    if current < last:
        page.next = href(_page(page.params, current + 1))


def _page(params: Params, number: int) -> Params:
    kept = [(k, v) for k, v in params if k != "page"]
    return kept + [("page", str(number))] if number > 1 else kept
