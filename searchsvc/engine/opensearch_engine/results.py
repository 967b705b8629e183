"""A search response as the interface's types: hits with highlights as spans, facets with the
selected values always listed, the date histogram at the interval its span asks for."""

from __future__ import annotations

import datetime as dt

from searchsvc.engine.interface import Facet, FacetValue, Highlight, Hit, shown_score
from searchsvc.engine.opensearch_engine.request_body import MARK_END, MARK_START, SELECTED

FRAGMENTS = {"title": None, "excerpt": 300, "body": 200}


def highlight_of(original: str, fragments: list[str] | None, size: int | None) -> Highlight:
    """A Highlight of ``original`` from the highlighter's fragment (or its start when none)."""
    if not fragments:
        return plain_highlight(original, size)
    text, spans = split_marks(fragments[0])
    at = original.find(text)
    if at < 0:
        return Highlight(text, spans)
    return Highlight(text, spans, cut_before=at > 0, cut_after=at + len(text) < len(original))


def body_highlight(fragment: str, shown: dict) -> Highlight:
    """The body's fragment; whether it starts or ends the body is read from the body's first
    and last characters kept beside it (a search does not fetch whole bodies)."""
    text, spans = split_marks(fragment)
    head, tail = shown.get("body_head", ""), shown.get("body_tail", "")
    starts = head.startswith(text) if len(text) <= len(head) else text.startswith(head)
    ends = tail.endswith(text) if len(text) <= len(tail) else text.endswith(tail)
    return Highlight(text, spans, cut_before=not starts, cut_after=not ends)


def split_marks(fragment: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    position = 0
    while True:
        start = fragment.find(MARK_START, position)
        if start < 0:
            out.append(fragment[position:])
            break
        end = fragment.find(MARK_END, start)
        if end < 0:
            out.append(fragment[position:].replace(MARK_START, ""))
            break
        before = fragment[position:start]
        out.append(before)
        length += len(before)
        word = fragment[start + 1 : end]
        out.append(word)
        spans.append((length, length + len(word)))
        length += len(word)
        position = end + 1
    return "".join(out), tuple(s for s in spans if s[1] > s[0])


def plain_highlight(original: str, size: int | None) -> Highlight:
    """The field's start without marks (a whole short field; a long one cut at a space)."""
    if size is None or len(original) <= size:
        return Highlight(original)
    cut = original.rfind(" ", 0, size)
    cut = cut if cut > size // 2 else size
    return Highlight(original[:cut].rstrip(), cut_after=True)


def hit_of(found: dict, score: float, duplicates: int = 0) -> Hit:
    """A Hit from a search hit or a get (``_source`` and, for a search, ``highlight``)."""
    source = found.get("_source") or {}
    shown = source.get("shown") or {}
    marks = found.get("highlight") or {}
    highlights = {
        name: highlight_of(source.get(name) or "", marks.get(name), FRAGMENTS[name]) for name in ("title", "excerpt")
    }
    if "body" in source:  # an article by id: the whole body is there
        if source["body"]:
            highlights["body"] = plain_highlight(source["body"], FRAGMENTS["body"])
    elif marks.get("body"):
        highlights["body"] = body_highlight(marks["body"][0], shown)
    quality = source.get("quality")
    return Hit(
        id=source.get("id", ""),
        title=source.get("title") or "",
        excerpt=source.get("excerpt") or "",
        url=shown.get("url", ""),
        provider=source.get("provider") or "",
        domain=source.get("domain") or "",
        published=source.get("published_at"),
        topics=list(source.get("topics") or []),
        image=shown.get("image", ""),
        score=shown_score(score or 0.0),
        highlights=highlights,
        category=source.get("category") or "",
        type=source.get("type") or "",
        quality=int(quality) if quality is not None else None,
        duplicates=duplicates,
        related_to=shown.get("related_to", ""),
        related_ids=list(shown.get("related_ids") or []),
    )


def facets_of(request, aggregations: dict) -> dict[str, Facet]:
    out: dict[str, Facet] = {}
    for facet in request.facets:
        found = aggregations.get(f"f_{facet}") or {}
        out[facet] = date_facet(request, found) if facet == "date" else value_facet(request, facet, found)
    return out


def value_facet(request, facet: str, found: dict) -> Facet:
    size = request.facet_size
    buckets = [b for b in found.get("top", {}).get("buckets", []) if b["key"] != ""]
    buckets.sort(key=lambda b: (-b["doc_count"], str(b["key"]).casefold()))
    selected = getattr(request, SELECTED[facet])
    folded = {value.casefold() for value in selected}
    values = [FacetValue(b["key"], b["doc_count"], b["key"].casefold() in folded) for b in buckets[:size]]
    listed = {v.value.casefold() for v in values}
    chosen = found.get("chosen", {}).get("buckets", {})
    for i, value in enumerate(selected):
        if value.casefold() in listed:
            continue
        bucket = chosen.get(str(i), {})
        spelled = bucket.get("spelling", {}).get("buckets", [])
        name = spelled[0]["key"] if spelled else value
        if name.casefold() not in listed:
            listed.add(name.casefold())
            values.append(FacetValue(name, int(bucket.get("doc_count", 0)), True))
    return Facet(facet, values, None, len(buckets) > size)


def date_facet(request, found: dict) -> Facet:
    """The date histogram at the interval its span asks for (as the Whoosh engine chooses it),
    summed from the day buckets: a day list is bounded by the days that have articles."""
    days = [(_day(b["key"]), int(b["doc_count"])) for b in found.get("day", {}).get("buckets", []) if b["doc_count"]]
    if not days:
        return Facet("date", [], "month", False)
    span = (days[-1][0] - days[0][0]).days
    interval = "day" if span <= 62 else ("month" if span <= 3 * 366 else "year")
    counts: dict[dt.date, int] = {}
    for day, count in days:
        start = day if interval == "day" else day.replace(day=1) if interval == "month" else day.replace(month=1, day=1)
        counts[start] = counts.get(start, 0) + count
    low = request.date_from or dt.date.min
    high = request.date_to or dt.date.max
    has_range = bool(request.date_from or request.date_to)
    values = []
    for start, count in sorted(counts.items()):
        end = _end(start, interval)
        label = start.isoformat()[: {"day": 10, "month": 7, "year": 4}[interval]]
        chosen = has_range and start >= low and end <= high
        values.append(FacetValue(label, count, chosen, start.isoformat(), end.isoformat()))
    return Facet("date", values, interval, False)


def _day(epoch_ms: float) -> dt.date:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).date()


def _end(start: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return start
    if interval == "month":
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    else:
        following = dt.date(start.year + 1, 1, 1)
    return following - dt.timedelta(days=1)
