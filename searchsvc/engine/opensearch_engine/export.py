"""Every result of a request on one index, streamed (an export).

OpenSearch 2.x cannot combine ``collapse`` with ``search_after`` (3.3 can, and only when the
search sorts on the collapse field alone, which no result order here does), and ``from``/``size``
costs more with every page (each shard sorts ``from + size`` hits) up to ``max_result_window``.
So an export:

1. counts first, with the search's own queries and filters (``size: 0``): the strict query, and
   the relaxed one when a search would relax it, so the total, the folded copies and the choice
   of query are a search's, known before the first row;
2. opens a point in time (PIT) on the view's index (published indexes are never written again;
   the PIT also keeps the same shard copies answering, so scores cannot change between batches)
   and reads the hits in batches of BATCH_SIZE with ``search_after`` on the search's sort, which
   ends with the unique ``id``;
3. collapses here, as the results are read: a syndicated hit whose story was yielded already is
   skipped, so each story is yielded at its first copy in result order, the copy ``collapse``
   keeps; the copies of each batch's hits are counted in one request, as a page's are.

Memory: one batch of hits, and the stories of the syndicated hits yielded so far.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from searchsvc import query_language as ql
from searchsvc.engine.interface import Hit, ResultStream
from searchsvc.engine.limits import too_slow
from searchsvc.engine.opensearch_engine import request_body as rb
from searchsvc.engine.opensearch_engine.connection import search_all_shards, where
from searchsvc.engine.opensearch_engine.query_dsl import MATCH_ALL, plain_words
from searchsvc.engine.opensearch_engine.scoring import COMPLETE_BONUS, tiered
from searchsvc.engine.opensearch_engine.suggestions import check_prefixes
from searchsvc.errors import EngineUnavailable
from searchsvc.request import check_filter_values

log = logging.getLogger("searchsvc.engine")

BATCH_SIZE = 1000
# how long the point in time lives after each batch is read: a reader slower than this between
# two batches (a thousand rows) finds it gone and the export fails
KEEP_ALIVE = "5m"


@dataclass(frozen=True, slots=True)
class Plan:
    """What the counting decided: the query the hits are read with (scored as a search scores
    it), the query they match (unscored, for counting copies), and the totals."""

    query: dict
    matched: dict
    clauses: dict
    has_query: bool
    complete_bonus: bool
    relaxed: bool
    total: int
    folded: int
    tiered: bool = False  # typo tolerance's edit bonuses are in the scores (taken off when shown)


def export_results(engine, request, view=None, limit: int | None = None) -> ResultStream:
    """The results of ``request`` on ``view`` (the current index when None), at most ``limit``,
    in result order. The counting runs now (a bad or too expensive query raises here); the PIT is
    opened now too, so a cluster that cannot serve the export fails before the first row."""
    check_filter_values(request, engine.limits.max_filter_values)
    request = request.with_changes(facets=(), page=1)
    v = view or engine.view()
    node = ql.parse_query(request.q) if request.q.strip() else None
    if node is not None:
        ql.check_query_terms(node, engine.limits.max_query_terms)
        check_prefixes(engine.cluster, v.name, node, engine.limits.max_prefix_terms)
    plan = _plan(engine, v, request, node)
    wanted = plan.total if limit is None else min(plan.total, max(limit, 0))
    hits = Batches(engine, v, request, plan, limit) if wanted else iter(())
    return ResultStream(total=plan.total, hits=hits, relaxed=plan.relaxed, view=v.name, folded=plan.folded)


def _plan(engine, v, request, node) -> Plan:
    """The search's choice of query (search.py ``search``): strict, or relaxed when too few
    articles hold every word; its scored form; and its totals."""
    has_query = node is not None
    clauses = rb.filter_clauses(request)
    translator, _, tiers = engine.typo_tolerant(request, v, node)
    strict = translator.query(node) if has_query else MATCH_ALL
    scored = strict
    if has_query and request.sort == "relevance":
        bonus = translator.proximity(plain_words(node))
        if bonus:
            scored = {"bool": {"must": [strict], "should": bonus}}
    counted = _count(engine, v, request, strict, clauses)
    matched_all = int(counted["hits"]["total"]["value"])
    parts = ql.relaxable_parts(node) if has_query else None
    if parts and matched_all < min(engine.ranking.relax_below, request.per_page):
        words, required, excluded = parts
        short = len(words) <= engine.ranking.and_like_words
        if not short:
            words = ql.content_words(words)
        loose = translator.relaxed(words, required, excluded)
        wider = _count(engine, v, request, loose, clauses)
        if int(wider["hits"]["total"]["value"]) > matched_all:
            query = tiered(engine._scored(loose, v, True), tiers)
            if short:
                complete = {"constant_score": {"filter": strict, "boost": COMPLETE_BONUS}}
                query = {"bool": {"must": [query], "should": [complete]}}
            total, folded = engine._totals(request, wider)
            return Plan(query, loose, clauses, True, short, True, total, folded, bool(tiers))
    total, folded = engine._totals(request, counted)
    query = tiered(engine._scored(scored, v, has_query), tiers)
    return Plan(query, strict, clauses, has_query, False, False, total, folded, bool(tiers))


def _count(engine, v, request, query: dict, clauses: dict) -> dict:
    """How many articles ``query`` matches under the filters, and (collapsing) in how many stories."""
    body: dict = {"query": query, "size": 0, "track_total_hits": True}
    _limit_time(engine, body)
    if clauses:
        body["post_filter"] = {"bool": {"filter": list(clauses.values())}}
    if request.collapse:
        body["aggs"] = rb.aggregations(request, clauses)  # facets are off: the stories count alone
    response = search_all_shards(engine.cluster, v.name, body, engine._request_timeout(), "counting an export")
    if response.get("timed_out"):
        raise too_slow(engine.limits.search_timeout)
    return response


def _limit_time(engine, body: dict) -> None:
    if engine.limits.search_timeout > 0:
        body["timeout"] = f"{max(int(engine.limits.search_timeout * 1000), 1)}ms"


class Batches:
    """The hits of a plan, read a batch at a time through a point in time (opened at once,
    deleted when the hits are read to the end or ``close()`` is called, whichever comes first)."""

    def __init__(self, engine, v, request, plan: Plan, limit: int | None) -> None:
        self.engine, self.v, self.request, self.plan, self.limit = engine, v, request, plan, limit
        client = engine.cluster.client
        with engine.cluster.errors("opening a point in time to export from", v.name):
            self.pit: str | None = client.create_pit(
                index=v.name, keep_alive=KEEP_ALIVE, request_timeout=engine._request_timeout()
            )["pit_id"]
        self._hits = self._read()

    def __iter__(self) -> Iterator[Hit]:
        return self

    def __next__(self) -> Hit:
        return next(self._hits)

    def close(self) -> None:
        self._hits.close()
        self._release()

    def _read(self) -> Iterator[Hit]:
        engine, request, plan = self.engine, self.request, self.plan
        left = self.limit
        seen: set[str] = set()  # stories of the syndicated hits yielded so far
        after = None
        try:
            while True:
                size = BATCH_SIZE if left is None else min(BATCH_SIZE, left)
                found = self._batch(size, after)
                kept = [h for h in found if not request.collapse or _first_of_story(h, seen)]
                copies = engine._copies(self.v, request, plan.matched, plan.clauses, kept)
                for h in kept:
                    hit = engine._hit(h, plan.complete_bonus, copies, plan.tiered)
                    hit.highlights = {}  # an export shows none
                    yield hit
                    if left is not None:
                        left -= 1
                        if left <= 0:
                            return
                if len(found) < size:
                    return
                after = found[-1]["sort"]
        finally:
            self._release()

    def _batch(self, size: int, after: list | None) -> list[dict]:
        engine, request, plan = self.engine, self.request, self.plan
        body: dict = {
            "query": plan.query,
            "size": size,
            "sort": rb.sort_of(request, plan.has_query),
            "_source": rb.SOURCE_FIELDS,
            "track_total_hits": False,
            "pit": {"id": self.pit, "keep_alive": KEEP_ALIVE},
        }
        _limit_time(engine, body)
        if plan.has_query and request.sort != "relevance":
            body["track_scores"] = True
        if plan.clauses:
            body["post_filter"] = {"bool": {"filter": list(plan.clauses.values())}}
        if after is not None:
            body["search_after"] = after
        with engine.cluster.errors("exporting search results", self.v.name):
            response = engine.cluster.client.search(body=body, request_timeout=engine._request_timeout())
        shards = response.get("_shards") or {}
        if shards.get("failed"):
            raise EngineUnavailable(
                f"Only {shards.get('successful', 0)} of {shards.get('total', 0)} shards of {self.v.name} answered "
                f"while exporting search results from the OpenSearch cluster at {where(engine.cluster.settings)}; "
                "the export would miss articles. Check the cluster's health ('GET _cluster/health') and export again."
            )
        if response.get("timed_out"):
            raise too_slow(engine.limits.search_timeout)
        self.pit = response.get("pit_id") or self.pit
        return response["hits"]["hits"]

    def _release(self) -> None:
        """Delete the point in time (once; a failure is only logged: it expires by itself)."""
        pit, self.pit = self.pit, None
        if pit is None:
            return
        from opensearchpy import exceptions as os_errors

        try:
            self.engine.cluster.client.delete_pit(body={"pit_id": [pit]}, request_timeout=10)
        except os_errors.TransportError as exc:
            log.warning(
                "Cannot delete an export's point in time on %s (%s); it expires in %s.", self.v.name, exc, KEEP_ALIVE
            )


def _first_of_story(found: dict, seen: set[str]) -> bool:
    """Whether a hit is its story's first in result order (noting its story when syndicated)."""
    source = found.get("_source") or {}
    if not source.get("syndicated"):
        return True
    story = source.get("story")
    if story in seen:
        return False
    seen.add(story)
    return True
