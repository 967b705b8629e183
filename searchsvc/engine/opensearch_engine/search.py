"""The OpenSearch search engine: SearchRequest -> ResultPage on one view (the index the alias
named when the request took its view)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from searchsvc import query_language as ql
from searchsvc.analysis import analyse_term
from searchsvc.engine.interface import Hit, IndexSummary, ResultPage, Suggestion
from searchsvc.engine.limits import QueryLimits, too_slow
from searchsvc.engine.opensearch_engine import request_body as rb
from searchsvc.engine.opensearch_engine import state as names
from searchsvc.engine.opensearch_engine.builder import current_view
from searchsvc.engine.opensearch_engine.connection import Cluster, search_all_shards, where
from searchsvc.engine.opensearch_engine.mapping import doc_id
from searchsvc.engine.opensearch_engine.query_dsl import MATCH_ALL, Translator, plain_words
from searchsvc.engine.opensearch_engine.related import more_like_this
from searchsvc.engine.opensearch_engine.results import facets_of, hit_of
from searchsvc.engine.opensearch_engine.scoring import COMPLETE_BONUS, SCORE_SCRIPT, tiered
from searchsvc.engine.opensearch_engine.suggestions import check_prefixes, completions, did_you_mean
from searchsvc.engine.opensearch_engine.typos import (
    EDIT_BONUS,
    TolerantTranslator,
    TypoLookup,
    corrections_of,
)
from searchsvc.engine.ranking import RankingModel
from searchsvc.errors import IndexNotFoundError
from searchsvc.request import check_filter_values
from searchsvc.typo_tolerance import applies_to as typos_apply
from searchsvc.typo_tolerance import tolerant_words

CHECK_INTERVAL = 0.5
SUGGEST_BELOW = 3


@dataclass(frozen=True, slots=True)
class IndexView:
    """One published index: its name, article count, newest date and quality scale (for the boosts)."""

    name: str
    documents: int
    newest_ms: float
    quality_scale: float


class OpenSearchEngine:
    name = "opensearch"

    def __init__(self, settings, ranking: RankingModel, limits: QueryLimits) -> None:
        self.cluster = Cluster(settings)
        self.ranking = ranking
        self.limits = limits
        self.translator = Translator(ranking)
        self.typos = TypoLookup(self.cluster, limits)
        self._views: dict[str, IndexView] = {}
        self._current: tuple[float, IndexView] | None = None
        self._lock = threading.Lock()
        self._summaries: dict[tuple[str, int], IndexSummary] = {}

    # -- views -----------------------------------------------------------------------------
    def view(self) -> IndexView:
        """The index the alias names (looked up at most twice a second)."""
        found = self._current
        if found is not None and time.monotonic() - found[0] < CHECK_INTERVAL:
            return found[1]
        with self._lock:
            alias = names.alias(self.cluster.prefix)
            with self.cluster.errors("reading the alias", alias):
                name = current_view(self.cluster)
                if name is None:
                    raise IndexNotFoundError(
                        alias,
                        f"No index {alias} on the OpenSearch cluster at {where(self.cluster.settings)}. "
                        "Run 'searchsvc index SOURCE' with engine = opensearch first.",
                    )
            view = self._views.get(name)
            if view is None:
                with self.cluster.errors(f"opening the index {name}", name):
                    view = self._open(name)
            self._current = (time.monotonic(), view)
            return view

    def _open(self, name: str) -> IndexView:
        body = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "newest": {"max": {"field": "published_at"}},
                "quality": {"percentiles": {"field": "quality", "percents": [95]}},
            },
        }
        found = self.cluster.client.search(index=name, body=body)
        quality = (found["aggregations"]["quality"]["values"] or {}).get("95.0")
        view = IndexView(
            name=name,
            documents=int(found["hits"]["total"]["value"]),
            newest_ms=float(found["aggregations"]["newest"]["value"] or 0.0),
            quality_scale=float(quality or 0.0),
        )
        self._views = {**{k: v for k, v in list(self._views.items())[-3:]}, name: view}
        return view

    # -- search ----------------------------------------------------------------------------
    def search(self, request, view: IndexView | None = None) -> ResultPage:
        check_filter_values(request, self.limits.max_filter_values)
        v = view or self.view()
        node = ql.parse_query(request.q) if request.q.strip() else None
        if node is not None:
            ql.check_query_terms(node, self.limits.max_query_terms)
            check_prefixes(self.cluster, v.name, node, self.limits.max_prefix_terms)
        has_query = node is not None
        clauses = rb.filter_clauses(request)
        translator, corrections, tiers = self.typo_tolerant(request, v, node)
        strict = translator.query(node) if has_query else MATCH_ALL
        scored = strict
        if has_query and request.sort == "relevance":
            bonus = translator.proximity(plain_words(node))
            if bonus:
                scored = {"bool": {"must": [strict], "should": bonus}}
        used_query = strict
        response = self._run(v, request, tiered(self._scored(scored, v, has_query), tiers), clauses, has_query)
        matched_all = response["hits"]["total"]["value"]
        relaxed = False
        complete_bonus = False
        parts = ql.relaxable_parts(node) if has_query else None
        if parts and matched_all < min(self.ranking.relax_below, request.per_page):
            words, required, excluded = parts
            short = len(words) <= self.ranking.and_like_words
            if not short:
                words = ql.content_words(words)
            loose = tiered(self._scored(translator.relaxed(words, required, excluded), v, True), tiers)
            if short:
                loose = {
                    "bool": {
                        "must": [loose],
                        "should": [{"constant_score": {"filter": strict, "boost": COMPLETE_BONUS}}],
                    }
                }
            wider = self._run(v, request, loose, clauses, True)
            if wider["hits"]["total"]["value"] > matched_all:
                response, relaxed, complete_bonus = wider, True, short
                used_query = translator.relaxed(words, required, excluded)
        total, folded = self._totals(request, response)
        copies = self._copies(v, request, used_query, clauses, response["hits"]["hits"])
        hits = [self._hit(found, complete_bonus, copies, bool(tiers)) for found in response["hits"]["hits"]]
        suggestion = None
        if has_query and not corrections and (total < SUGGEST_BELOW or relaxed):
            suggestion = did_you_mean(self, v, request, matched_all if relaxed else total)
        return ResultPage(
            total=total,
            hits=hits,
            facets=facets_of(request, response.get("aggregations", {})) if request.facets else {},
            suggestion=suggestion,
            relaxed=relaxed,
            view=v.name,
            words=sorted({term for _, term in ql.query_words(node)} | _corrected_terms(corrections))
            if has_query
            else [],
            folded=folded,
            corrections=corrections,
        )

    def typo_tolerant(self, request, v: IndexView, node) -> tuple[Translator, list, list[dict]]:
        """The translator of a search (one whose misspelt words also match their corrections,
        when typo tolerance applies and found some), the corrections, and the edit bonuses that
        rank articles holding the words as typed first (typos.py)."""
        if (
            node is None
            or not request.typos
            or not self.limits.typo_tolerance
            or self.limits.typo_candidates <= 0
            or not typos_apply(request.q)
        ):
            return self.translator, [], []
        tolerant = tolerant_words(node)
        found = self.typos.corrections(v, tolerant) if tolerant else {}
        if not found:
            return self.translator, [], []
        translator = TolerantTranslator(self.ranking, found)
        tiers = translator.edit_tiers(node) if request.sort == "relevance" else []
        return translator, corrections_of(tolerant, found), tiers

    def _scored(self, query: dict, v: IndexView, has_query: bool) -> dict:
        """``query`` with the bounded recency and quality boosts of the ranking model."""
        r = self.ranking
        if not has_query or not (r.recency_weight or r.quality_weight):
            return query
        params = {
            "rw": r.recency_weight if v.newest_ms else 0.0,
            "newest": v.newest_ms,
            "half": r.recency_half_life_days,
            "qw": r.quality_weight,
            "qscale": v.quality_scale,
        }
        return {"script_score": {"query": query, "script": {"source": SCORE_SCRIPT, "params": params}}}

    def _run(self, v: IndexView, request, query: dict, clauses: dict, has_query: bool) -> dict:
        body: dict = {
            "query": query,
            "from": request.offset,
            "size": request.per_page,
            "track_total_hits": True,
            "sort": rb.sort_of(request, has_query),
            "_source": rb.SOURCE_FIELDS,
            "highlight": rb.HIGHLIGHT,
            "timeout": f"{max(int(self.limits.search_timeout * 1000), 1)}ms"
            if self.limits.search_timeout > 0
            else None,
        }
        if body["timeout"] is None:
            del body["timeout"]
        if has_query and request.sort != "relevance":
            body["track_scores"] = True
        if clauses:
            body["post_filter"] = {"bool": {"filter": list(clauses.values())}}
        aggs = rb.aggregations(request, clauses) if (request.facets or request.collapse) else {}
        if aggs:
            body["aggs"] = aggs
        if request.collapse:
            body["collapse"] = rb.COLLAPSE
        response = search_all_shards(self.cluster, v.name, body, self._request_timeout(), "searching")
        if response.get("timed_out"):
            raise too_slow(self.limits.search_timeout)
        return response

    def _request_timeout(self) -> float:
        return max(self.cluster.settings.opensearch_timeout, self.limits.search_timeout + 1.0)

    def _totals(self, request, response: dict) -> tuple[int, int]:
        matched = int(response["hits"]["total"]["value"])
        if not request.collapse:
            return matched, 0
        stories = response["aggregations"]["stories"]
        total = int(stories["single"]["doc_count"]) + int(stories["copies"]["stories"]["value"])
        total = min(total, matched)
        return total, matched - total

    def _copies(self, v: IndexView, request, query: dict, clauses: dict, hits: list[dict]) -> dict[str, int]:
        """story -> matches, for the page's hits that have syndicated copies (one request, only
        when there are such hits)."""
        stories = sorted({h["_source"]["story"] for h in hits if (h.get("_source") or {}).get("syndicated")})
        if not request.collapse or not stories:
            return {}
        body = rb.copies_body(query, clauses, stories)
        found = search_all_shards(self.cluster, v.name, body, self._request_timeout(), "counting syndicated copies")
        return {b["key"]: int(b["doc_count"]) for b in found["aggregations"]["copies"]["buckets"]}

    def _hit(self, found: dict, complete_bonus: bool, copies: dict[str, int], tiered: bool = False) -> Hit:
        score = found.get("_score") or 0.0
        if complete_bonus and score >= COMPLETE_BONUS:
            score -= COMPLETE_BONUS
        if tiered:
            score %= EDIT_BONUS
        matches = copies.get((found.get("_source") or {}).get("story"), 1)
        return hit_of(found, score, max(matches - 1, 0))

    # -- articles ----------------------------------------------------------------------------
    def article(self, article_id: str, view: IndexView | None = None) -> Hit | None:
        v = view or self.view()
        with self.cluster.errors("reading an article", v.name):
            found = self.cluster.client.get(index=v.name, id=doc_id(article_id), ignore=[404])
        if not found.get("found"):
            return None
        return hit_of(found, 0.0)

    def more_like_this(self, article_id: str, limit: int = 5, view: IndexView | None = None) -> list[Hit]:
        v = view or self.view()
        with self.cluster.errors("finding related articles", v.name):
            return more_like_this(self.cluster.client, v.name, article_id, limit)

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        v = self.view()
        with self.cluster.errors("suggesting completions", v.name):
            return completions(self.cluster.client, v.name, prefix, limit)

    def summary(self, view: IndexView | None = None, top: int = 10) -> IndexSummary:
        from searchsvc.engine.opensearch_engine.summary import summarise

        v = view or self.view()
        key = (v.name, top)
        with self.cluster.errors("reading the index summary", v.name):
            found = self._summaries.get(key)
            if found is None:
                found = summarise(self.cluster, v.name, v.documents, top)
                self._summaries = {key: found}
        return replace(found, health=self.health(v))  # the health of now, not of when it was cached

    def health(self, view: IndexView | None = None) -> str:
        """The health of the view's index on the cluster (one _cluster/health call)."""
        v = view or self.view()
        with self.cluster.errors("reading the cluster's health", v.name):
            return self.cluster.client.cluster.health(index=v.name, timeout="2s", request_timeout=5)["status"]

    def close(self) -> None:
        self.cluster.close()

    # -- export ------------------------------------------------------------------------------
    def export(self, request, view: IndexView | None = None, limit: int | None = None):
        """Every result of ``request`` as a ResultStream (opensearch_engine/export.py)."""
        from searchsvc.engine.opensearch_engine.export import export_results

        return export_results(self, request, view, limit)


def _corrected_terms(corrections) -> set[str]:
    return {analyse_term(word) for c in corrections for word in c.matched} - {""}
