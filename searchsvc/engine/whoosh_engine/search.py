"""The Whoosh search engine: SearchRequest -> a ResultPage for one generation (a snapshot)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from searchsvc.engine.interface import Hit, IndexSummary, ResultPage, Suggestion, shown_score
from searchsvc.engine.limits import Deadline, QueryLimits
from searchsvc.engine.ranking import DEFAULT_RANKING, RankingModel
from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.facets import all_of, count_facets, filter_masks
from searchsvc.engine.whoosh_engine.generation_switch import GenerationSwitch, open_snapshot, retire
from searchsvc.engine.whoosh_engine.highlight import highlight
from searchsvc.engine.whoosh_engine.ordering import collapse, final_scores, result_order, with_proximity
from searchsvc.engine.whoosh_engine.query_limits import check_query_terms
from searchsvc.engine.whoosh_engine.query_parser import make_parser, parse_user_query, query_words
from searchsvc.engine.whoosh_engine.related import more_like_this
from searchsvc.engine.whoosh_engine.schema import SEARCH_FIELDS
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.engine.whoosh_engine.suggestions import completions, did_you_mean
from searchsvc.engine.whoosh_engine.summary import summarise
from searchsvc.engine.whoosh_engine.typos import TypoMatcher, tolerant_words
from searchsvc.request import check_filter_values
from searchsvc.typo_tolerance import applies_to as typos_apply

PARSED_CACHE = 2048
SUGGEST_BELOW = 3
CHECK_INTERVAL = 0.5


@dataclass(slots=True)
class Ranked:
    """Every result of a request in result order: ``docs`` (document numbers), their ``final``
    scores and ``counts`` (1 + the syndicated copies folded into each), with what the page needs."""

    query: object  # the parsed query, None for no words
    docs: np.ndarray
    final: np.ndarray
    counts: np.ndarray
    facets: dict
    relaxed: bool
    matched_all: int  # results matching every word, under the filters
    matched: int  # results before collapsing
    words: set  # (field, word) pairs the query looks for (corrections too), for highlights
    corrections: list  # misspelt words and the known words they also matched


class WhooshEngine:
    """Serves the current generation of the index in ``index_dir``; a newer one is opened in the
    background and served once ready (generation_switch.py). A view is a Snapshot."""

    name = "whoosh"

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        ranking: RankingModel = DEFAULT_RANKING,
        limits: QueryLimits | None = None,
        warm: bool = True,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.ranking = ranking
        self.limits = limits or QueryLimits()
        # a one-shot command's snapshot builds its spelling vocabulary only if a query needs it
        opener = open_snapshot if warm else partial(open_snapshot, warm=False)
        self._switch = GenerationSwitch(self.index_dir, opener, retire)
        self._parsers = threading.local()
        self._parsed: dict[str, object] = {}
        self._summaries: dict[tuple[str, int], IndexSummary] = {}
        self._summary_lock = threading.Lock()

    # -- views ---------------------------------------------------------------------------------
    def view(self) -> Snapshot:
        """The snapshot of the generation being served (checked for a newer one twice a second).

        A newer generation is opened in a background thread (see generation_switch); requests
        meanwhile keep getting the current snapshot. Only the very first open is waited for."""
        return self._switch.current(CHECK_INTERVAL)

    def summary(self, view: Snapshot | None = None, top: int = 10) -> IndexSummary:
        """What the view holds (computed once per view: it reads the generation's manifest)."""
        s = view or self.view()
        key = (s.name, top)
        found = self._summaries.get(key)
        if found is None:
            with self._summary_lock:
                found = self._summaries.get(key)
                if found is None:
                    found = summarise(s, top)
                    self._summaries = {key: found}
        return found

    def health(self, view: Snapshot | None = None) -> str:
        """Always green: a generation that opened answers every search."""
        return "green"

    def close(self) -> None:
        self._switch.close()

    def _parser(self, snapshot: Snapshot):
        parser = getattr(self._parsers, "parser", None)
        if parser is None:
            parser = make_parser(snapshot.ix.schema)
            self._parsers.parser = parser
        return parser

    def _parse(self, snapshot: Snapshot, text: str):
        """The parsed query for ``text`` (parsing takes about a millisecond: repeats are cached;
        parsed queries are never modified, so threads can share them)."""
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = parse_user_query(self._parser(snapshot), text)
            if len(self._parsed) >= PARSED_CACHE:
                self._parsed.clear()
            self._parsed[text] = parsed
        return parsed

    # -- search ------------------------------------------------------------------------------
    def search(self, request, view: Snapshot | None = None) -> ResultPage:
        """The results of ``request``; QueryTooExpensive when it is over a limit (self.limits) or
        its work runs past the time budget (checked between steps, never per posting)."""
        deadline = Deadline(self.limits.search_timeout)
        s = view or self.view()
        ranked = self.ranked(request, s, deadline)
        docs, final, counts = ranked.docs, ranked.final, ranked.counts
        total = len(docs)
        page_docs = docs[request.offset : request.offset + request.per_page]
        words = ranked.words
        deadline.check()
        hits = [
            self._hit(s, int(d), float(final[request.offset + i]), int(counts[request.offset + i]) - 1, words)
            for i, d in enumerate(page_docs)
        ]
        suggestion = None
        q = ranked.query
        if q is not None and not ranked.corrections and (total < SUGGEST_BELOW or ranked.relaxed):
            deadline.check()
            matched = ranked.matched_all if ranked.relaxed else total
            suggestion = did_you_mean(s, self._parser(s), request, matched, deadline)
        return ResultPage(
            total=total,
            hits=hits,
            facets=ranked.facets,
            suggestion=suggestion,
            relaxed=ranked.relaxed,
            view=s.name,
            words=sorted({w for _, w in words}),
            folded=ranked.matched - total,
            corrections=ranked.corrections,
        )

    def ranked(self, request, s: Snapshot, deadline: Deadline) -> Ranked:
        """Every result of ``request`` on snapshot ``s`` in result order (collapsed when asked),
        with the facets when asked: what a results page and an export are cut from."""
        check_filter_values(request, self.limits.max_filter_values)
        q = self._parse(s, request.q) if request.q.strip() else None
        evaluator = Evaluator(s, request.q, deadline, self.ranking)
        if q is not None:
            check_query_terms(q, self.limits.max_query_terms)
            evaluator.check_prefixes(q, self.limits.max_prefix_terms)
            if (
                request.typos
                and self.limits.typo_tolerance
                and self.limits.typo_candidates > 0
                and typos_apply(request.q)
            ):
                tolerant = tolerant_words(q, request.q)
                if tolerant and self.limits.typo_candidates > 0:
                    evaluator.typos = TypoMatcher(s, tolerant, self.limits.typo_candidates)
        docs, scores = self._match(s, q, evaluator)
        deadline.check()
        filters = filter_masks(s, request, docs)
        keep = all_of(filters, len(docs))
        relaxed = False
        complete = None  # when a short query is relaxed: which results match every word
        matched_all = int(keep.sum())
        if q is not None and matched_all < min(self.ranking.relax_below, request.per_page):
            parts = evaluator.relaxable_parts(q)
            if parts:
                strict_docs = docs[keep]
                words, required, excluded = parts
                short = len(words) <= self.ranking.and_like_words
                if not short:
                    words = evaluator.content_words(words)
                docs, scores = evaluator.relaxed(words, required, excluded)
                filters = filter_masks(s, request, docs)
                keep = all_of(filters, len(docs))
                relaxed = len(docs[keep]) > matched_all
                if short:
                    complete = np.isin(docs, strict_docs)
                deadline.check()
        facets = count_facets(s, request, docs, filters) if request.facets else {}
        deadline.check()
        docs, scores = docs[keep], scores[keep]
        typos = evaluator.typos
        also = set(typos.also) if typos is not None else set()
        if q is not None and request.sort == "relevance" and not relaxed:
            scores = with_proximity(s, q, docs, scores, evaluator.idfs, self.ranking, also)
        final = final_scores(s, docs, scores, q is not None, self.ranking)
        ahead = complete[keep] if relaxed and complete is not None else None
        edits = typos.edits(docs) if typos is not None and request.sort == "relevance" else None
        order = result_order(s, request.sort, docs, final, q is not None, ahead, edits)
        docs, final = docs[order], final[order]
        counts = np.ones(len(docs), dtype=np.int64)
        matched = len(docs)
        if request.collapse and len(docs) > 1:
            docs, final, counts = collapse(s, docs, final)
        return Ranked(
            query=q,
            docs=docs,
            final=final,
            counts=counts,
            facets=facets,
            relaxed=relaxed,
            matched_all=matched_all,
            matched=matched,
            words=(query_words(q) | {(f, w) for w in also for f in SEARCH_FIELDS}) if q is not None else set(),
            corrections=typos.corrections if typos is not None else [],
        )

    def _match(self, s: Snapshot, q, evaluator: Evaluator) -> tuple[np.ndarray, np.ndarray]:
        if q is None:
            docs = np.flatnonzero(s.live).astype(np.int32)
            return docs, np.zeros(len(docs), dtype=np.float32)
        return evaluator.run(q)

    def _hit(self, s: Snapshot, docnum: int, score: float, duplicates: int, words: set) -> Hit:
        stored = s.stored(docnum)
        wanted = {w for _, w in words if not w.endswith("*")}
        prefixes = tuple(w[:-1] for _, w in words if w.endswith("*"))
        title, excerpt, body = stored.get("title", ""), stored.get("excerpt", ""), stored.get("body", "")
        highlights = {
            "title": highlight(title, wanted, prefixes),
            "excerpt": highlight(excerpt, wanted, prefixes, fragment=300),
        }
        if body:
            highlights["body"] = highlight(body, wanted, prefixes, fragment=200)
        data = stored.get("stored", {})
        return Hit(
            id=stored["id"],
            title=title,
            excerpt=excerpt,
            url=data.get("url", ""),
            provider=data.get("provider", ""),
            domain=data.get("domain", ""),
            published=data.get("published_at"),
            topics=list(data.get("topics", [])),
            image=data.get("image", ""),
            score=shown_score(score),
            highlights=highlights,
            category=data.get("category", ""),
            type=data.get("type", ""),
            quality=data.get("quality"),
            duplicates=duplicates,
            related_to=data.get("related_to", ""),
            related_ids=list(data.get("related_ids", [])),
        )

    # -- suggestions ---------------------------------------------------------------------------
    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Completions of the last word of ``prefix`` from titles, topics and providers."""
        return completions(self.view(), prefix, limit)

    # -- articles ------------------------------------------------------------------------------
    def article(self, doc_id: str, view: Snapshot | None = None) -> Hit | None:
        s = view or self.view()
        docnum = s.docnum_of(doc_id)
        if docnum is None:
            return None
        return self._hit(s, docnum, 0.0, 0, set())

    def more_like_this(self, doc_id: str, limit: int = 5, view: Snapshot | None = None) -> list[Hit]:
        """The article's own related entries first, then articles sharing its distinctive words."""
        return more_like_this(self, view or self.view(), doc_id, limit)

    # -- export --------------------------------------------------------------------------------
    def export(self, request, view: Snapshot | None = None, limit: int | None = None):
        """Every result of ``request`` as a ResultStream (whoosh_engine/export.py)."""
        from searchsvc.engine.whoosh_engine.export import export_results

        return export_results(self, request, view, limit)
