"""What the search page shows, derived from SearchResults: links that add or remove one value,
active-filter chips, facet lists, the date histogram and pagination. Every state is a URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from searchsvc.search import FILTER_PARAMS, MAX_PAGE, Facet, SearchRequest, SearchResults

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
class FacetBox:
    name: str
    label: str
    facet: Facet
    more: str = ""  # "Show more" link, or ""
    less: str = ""  # "Show less" link, or ""


@dataclass
class Bar:
    label: str
    count: int
    height: int
    href: str
    selected: bool
    description: str
    value: str = ""  # the bucket, as the engine names it (2022-03)


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
    facets: list[FacetBox] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    pages: list[PageLink] = field(default_factory=list)
    previous: str = ""
    next: str = ""
    suggestion_href: str = ""
    exact_href: str = ""  # the same search without typo tolerance, when it corrected words
    first_page: str = ""

    @property
    def is_empty_search(self) -> bool:
        return not self.request.q and not self.chips and self.request.page == 1

    @property
    def folded(self) -> int:
        """Syndicated copies folded into the total (what facet counts include and it does not)."""
        return self.results.folded


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
    counted = results.total + results.folded  # the articles matched, as facets count them
    for name in SIDEBAR_FACETS:
        facet = results.facets.get(name)
        if facet is None or not facet.values or _adds_nothing(facet, counted):
            continue
        box = FacetBox(name, FACET_LABELS[name], facet)
        if facet.more and request.facet_size < MORE_FACET_SIZE:
            box.more = href(replaced(params, facet_size=str(MORE_FACET_SIZE)))
        if request.facet_size > facet_size and len(facet.values) > facet_size:
            box.less = href(without(params, "facet_size"))
        page.facets.append(box)
    date = results.facets.get("date")
    if date is not None and date.values:
        page.bars = _bars(date, params)
    _pagination(page, min(results.pages, MAX_PAGE))
    if results.suggestion:
        page.suggestion_href = href(replaced(without(params, "q"), q=results.suggestion))
    if results.corrections:
        page.exact_href = href(replaced(without(params, "page"), typos="false"))
    page.first_page = href(without(params, "page"))
    return page


def _adds_nothing(facet: Facet, articles: int) -> bool:
    """A facet whose one value no one ticked and every matching article has: ticking it would
    change nothing."""
    if facet.more or len(facet.values) != 1:
        return False
    value = facet.values[0]
    return not value.selected and value.count >= articles


def _chips(request: SearchRequest, params: Params) -> list[Chip]:
    chips = []
    for param, attr in FILTER_PARAMS.items():
        for value in getattr(request, attr):
            chips.append(Chip(f"{FACET_LABELS[param]}: {value}", href(without(params, param, value))))
    if request.published is not None:
        label = "Published only" if request.published else "Unpublished only"
        chips.append(Chip(label, href(without(params, "published"))))
    period = _period(request.date_from, request.date_to)
    if period:
        chips.append(Chip(f"Published: {period}", href(without(without(params, "from"), "to"))))
        return chips
    if request.date_from:
        chips.append(Chip(f"From {request.date_from.isoformat()}", href(without(params, "from"))))
    if request.date_to:
        chips.append(Chip(f"To {request.date_to.isoformat()}", href(without(params, "to"))))
    return chips


def _period(start: dt.date | None, end: dt.date | None) -> str:
    """'March 2022' when from..to is exactly one day, month or year (a histogram bar), else ''."""
    if start is None or end is None:
        return ""
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31):
        return str(start.year)
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    if start.day == 1 and end == following - dt.timedelta(days=1):
        return f"{start:%B %Y}"
    return ""


def _bar_label(value: str, interval: str | None) -> tuple[str, str]:
    """Short label under a bar (with its year: 'Jan 22' could be a day), and the long one."""
    try:
        if interval == "month":
            day = dt.date.fromisoformat(value + "-01")
            return day.strftime("%b %Y"), day.strftime("%B %Y")
        if interval == "day":
            day = dt.date.fromisoformat(value)
            return f"{day.day} {day:%b %Y}", f"{day.day} {day:%B %Y}"
    except ValueError:
        pass
    return value, value


def _bars(facet, params: Params) -> list[Bar]:
    top = max(v.count for v in facet.values) or 1
    chosen = dict(params)
    bars = []
    for value in facet.values:
        short, long = _bar_label(value.value, facet.interval)
        start, end = value.start or value.value, value.end or value.value
        noun = "article" if value.count == 1 else "articles"
        description = f"{long}: {value.count} {noun}"
        if chosen.get("from") == start and chosen.get("to") == end:
            # the bar is the whole date filter: following it again removes the filter
            target = without(without(params, "from"), "to")
            description = f"Remove the date filter {long} ({value.count} {noun})"
        else:
            target = replaced(params, from_=start, to=end)
        bars.append(
            Bar(
                short,
                value.count,
                max(4, round(100 * value.count / top)),
                href(target),
                value.selected,
                description,
                value.value,
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
