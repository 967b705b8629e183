"""Filters and facet counts over matching documents, from a snapshot's per-document arrays.

Facets are disjunctive: each facet counts the matches under every filter but its own, so a
selected provider still shows the other providers with their counts.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from searchsvc.engine.interface import Facet, FacetValue
from searchsvc.engine.whoosh_engine.snapshot import Snapshot


def filter_masks(s: Snapshot, request, docs: np.ndarray) -> dict[str, np.ndarray]:
    """One boolean mask over ``docs`` per active filter, keyed by the facet it belongs to."""
    masks: dict[str, np.ndarray] = {}
    for facet, column, values in (
        ("provider", s.provider, request.providers),
        ("domain", s.domain, request.domains),
        ("category", s.category, request.categories),
        ("type", s.type, request.types),
    ):
        if values:
            masks[facet] = np.isin(column.ords[docs], column.ords_for(values))
    if request.topics:
        masks["topic"] = s.topics.doc_mask(s.topics.ords_for(request.topics), s.size)[docs]
    if request.published is not None:
        masks["published"] = s.published[docs] == (1 if request.published else 0)
    if request.date_from or request.date_to:
        days = s.day[docs]
        mask = s.has_date[docs]
        if request.date_from:
            mask &= days >= epoch_day(request.date_from)
        if request.date_to:
            mask &= days <= epoch_day(request.date_to)
        masks["date"] = mask
    return masks


def count_facets(s: Snapshot, request, docs: np.ndarray, filters: dict[str, np.ndarray]) -> dict[str, Facet]:
    out: dict[str, Facet] = {}

    def docs_for(facet: str) -> np.ndarray:
        others = [mask for name, mask in filters.items() if name != facet]
        if not others:
            return docs
        keep = np.ones(len(docs), dtype=bool)
        for mask in others:
            keep &= mask
        return docs[keep]

    selected_by_facet = {
        "provider": request.providers,
        "domain": request.domains,
        "topic": request.topics,
        "category": request.categories,
        "type": request.types,
    }
    for facet in request.facets:
        subset = docs_for(facet)
        if facet == "date":
            out["date"] = date_facet(s, subset, request)
            continue
        if facet == "topic":
            column, counts = s.topics, s.topics.counts(subset)
        else:
            column = {"provider": s.provider, "domain": s.domain, "category": s.category, "type": s.type}[facet]
            counts = np.bincount(column.ords[subset], minlength=len(column.values))
            if column.empty >= 0:
                counts[column.empty] = 0
        out[facet] = top_values(facet, column, counts, selected_by_facet[facet], request.facet_size)
    return out


def date_facet(s: Snapshot, subset: np.ndarray, request) -> Facet:
    # counted per distinct day of the snapshot (one bincount), then per month or year from those
    dates = s.dates
    per_day = dates.counts(subset)
    present = np.flatnonzero(per_day)
    if not len(present):
        return Facet("date", [], "month", False)
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(dates.days[present[0]]))
    last = dt.date(1970, 1, 1) + dt.timedelta(days=int(dates.days[present[-1]]))
    span = (last - first).days
    interval = "day" if span <= 62 else ("month" if span <= 3 * 366 else "year")
    keys = {"day": dates.days, "month": dates.months, "year": dates.years}[interval][present]  # ascending
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.add.reduceat(per_day[present], starts)
    values = []
    low = request.date_from or dt.date.min
    high = request.date_to or dt.date.max
    has_range = bool(request.date_from or request.date_to)
    for number, count in zip(keys[starts].tolist(), counts.tolist(), strict=True):
        start, end, label = _bucket(interval, number)
        selected = has_range and start >= low and end <= high
        values.append(FacetValue(label, int(count), selected, start.isoformat(), end.isoformat()))
    return Facet("date", values, interval, False)


@lru_cache(maxsize=65536)
def _bucket(interval: str, number: int) -> tuple[dt.date, dt.date, str]:
    """The first and last day of a date bucket (``number``: days, months or years since 1970)
    and its label."""
    unit = {"day": "datetime64[D]", "month": "datetime64[M]", "year": "datetime64[Y]"}[interval]
    start = np.array([number], dtype=np.int64).astype(unit).astype("datetime64[D]")[0].astype(dt.date)
    if interval == "day":
        end = start
    else:
        end = np.array([number + 1], dtype=np.int64).astype(unit).astype("datetime64[D]")[0].astype(dt.date)
        end -= dt.timedelta(days=1)
    return start, end, start.isoformat()[: {"day": 10, "month": 7, "year": 4}[interval]]


def all_of(masks: dict[str, np.ndarray], size: int) -> np.ndarray:
    keep = np.ones(size, dtype=bool)
    for mask in masks.values():
        keep &= mask
    return keep


def epoch_day(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def top_values(name: str, column, counts: np.ndarray, selected: tuple[str, ...], size: int) -> Facet:
    nonzero = np.flatnonzero(counts)
    more = len(nonzero) > size
    if len(nonzero) > size:
        # every value counted at least as often as the size-th one, then ordered exactly
        threshold = np.partition(counts[nonzero], len(nonzero) - size)[len(nonzero) - size]
        part = nonzero[counts[nonzero] >= threshold]
    else:
        part = nonzero
    chosen = sorted(part.tolist(), key=lambda i: (-int(counts[i]), column.values[i].casefold()))[:size]
    selected_ords = set(column.ords_for(selected).tolist()) if selected else set()
    values = [FacetValue(column.values[i], int(counts[i]), i in selected_ords) for i in chosen]
    listed = set(chosen)
    for i in sorted(selected_ords - listed):
        values.append(FacetValue(column.values[i], int(counts[i]), True))
    # selected values that are not in the index at all still show, with a zero count
    known = {column.values[i].casefold() for i in selected_ords}
    for value in selected:
        if value.casefold() not in known:
            values.append(FacetValue(value, 0, True))
    return Facet(name, values, None, more)
