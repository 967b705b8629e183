"""Every result of a request on one snapshot, streamed (an export).

The matching is a search's (``WhooshEngine.ranked``, facets off) and runs under the search time
budget; it leaves the arrays of matching document numbers, scores and copy counts, as a search
does. The articles' stored fields are then read one hit at a time as the stream is consumed, so
memory holds those arrays (16 bytes a result) and one article, never the articles of every
result. Reading is linear in the rows and bounded by ``limit``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from searchsvc.engine.interface import Hit, ResultStream, shown_score
from searchsvc.engine.limits import Deadline
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

BATCH = 1000


def export_results(engine, request, view: Snapshot | None = None, limit: int | None = None) -> ResultStream:
    """The results of ``request`` on ``view`` (the engine's current snapshot when None), at most
    ``limit`` of them, in result order; QueryTooExpensive when the matching is over a limit."""
    s = view or engine.view()
    ranked = engine.ranked(request.with_changes(facets=(), page=1), s, Deadline(engine.limits.search_timeout))
    total = len(ranked.docs)
    rows = total if limit is None else min(total, max(limit, 0))
    return ResultStream(
        total=total,
        hits=_hits(s, ranked.docs[:rows], ranked.final[:rows], ranked.counts[:rows]),
        relaxed=ranked.relaxed,
        view=s.name,
        folded=ranked.matched - total,
    )


def _hits(s: Snapshot, docs: np.ndarray, final: np.ndarray, counts: np.ndarray) -> Iterator[Hit]:
    for start in range(0, len(docs), BATCH):  # Python numbers for a batch at a time, not for every row
        part = slice(start, start + BATCH)
        for docnum, score, count in zip(docs[part].tolist(), final[part].tolist(), counts[part].tolist(), strict=True):
            yield hit_of(s.stored(docnum), score, count - 1)


def hit_of(stored: dict, score: float, duplicates: int) -> Hit:
    """A Hit from a document's stored fields, without highlights (an export shows none)."""
    data = stored.get("stored", {})
    return Hit(
        id=stored["id"],
        title=stored.get("title", ""),
        excerpt=stored.get("excerpt", ""),
        url=data.get("url", ""),
        provider=data.get("provider", ""),
        domain=data.get("domain", ""),
        published=data.get("published_at"),
        topics=list(data.get("topics", [])),
        image=data.get("image", ""),
        score=shown_score(score),
        category=data.get("category", ""),
        type=data.get("type", ""),
        quality=data.get("quality"),
        duplicates=duplicates,
        related_to=data.get("related_to", ""),
        related_ids=list(data.get("related_ids", [])),
    )
