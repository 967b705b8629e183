"""Syndicated copies as stories: articles with the same normalised title, each published within
three days of the one before, share a ``story`` (searches collapse on it and count its copies).

The Whoosh engine finds the copies among each search's matches; here the stories are computed
when the index is written, over every article of the index, so a search collapses with one
field. (The difference: when a filter removes the middle copy of three, Whoosh may show the
other two apart; here they stay one story.)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from searchsvc.engine.opensearch_engine.mapping import doc_id

COLLAPSE_SECONDS = 3 * 86400
UNDATED = float("-inf")


def timestamp(published_at: str | None) -> float:
    if not published_at:
        return UNDATED
    return dt.datetime.fromisoformat(published_at.replace("Z", "+00:00")).timestamp()


def stories(members: Iterable[tuple[str, str, float]]) -> dict[str, tuple[str, bool]]:
    """``(_id, title_key, timestamp)`` of articles -> ``_id: (story, syndicated)``; an article with
    no title key or no copy is a story of its own (its own _id). Linear after the sort per key."""
    by_key: dict[str, list[tuple[float, str]]] = defaultdict(list)
    out: dict[str, tuple[str, bool]] = {}
    for _id, key, ts in members:
        if key:
            by_key[key].append((ts, _id))
        else:
            out[_id] = (_id, False)
    for copies in by_key.values():
        if len(copies) == 1:
            out[copies[0][1]] = (copies[0][1], False)
            continue
        copies.sort()
        chain: list[str] = [copies[0][1]]
        previous = copies[0][0]
        for ts, _id in copies[1:]:
            if ts - previous <= COLLAPSE_SECONDS or ts == previous:
                chain.append(_id)
            else:
                _close(chain, out)
                chain = [_id]
            previous = ts
        _close(chain, out)
    return out


def _close(chain: list[str], out: dict[str, tuple[str, bool]]) -> None:
    story = chain[0]
    for _id in chain:
        out[_id] = (story, len(chain) > 1)


def of_articles(articles) -> dict[str, tuple[str, bool]]:
    return stories((doc_id(a.id), a.title_key, timestamp(_iso(a))) for a in articles)


def _iso(article) -> str | None:
    return article.published_at.isoformat() if article.published_at else None
