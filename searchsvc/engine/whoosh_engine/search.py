"""The Whoosh search engine: SearchRequest -> hits, facets and suggestions for one generation."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import query

from searchsvc.engine.limits import NO_DEADLINE, Deadline, QueryLimits
from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.facets import all_of, count_facets, filter_masks
from searchsvc.engine.whoosh_engine.generation_switch import GenerationSwitch, open_snapshot, retire
from searchsvc.engine.whoosh_engine.highlight import highlight
from searchsvc.engine.whoosh_engine.proximity import RESCORE_WINDOW, proximity_scores
from searchsvc.engine.whoosh_engine.query_limits import check_query_terms
from searchsvc.engine.whoosh_engine.query_parser import make_parser, parse_user_query, query_words
from searchsvc.engine.whoosh_engine.schema import SEARCH_FIELDS
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.request import check_filter_values

COLLAPSE_SECONDS = 3 * 86400
RECENCY_HALF_LIFE_DAYS = 30.0
PARSED_CACHE = 2048
SUGGEST_BELOW = 3
SUGGEST_MAX_WORDS = 6
# When fewer documents than fill the first page (at most RELAX_BELOW) match every word of a
# query, documents matching some of its words follow them ("relaxed"): long natural-language
# queries rarely match in full, and a short one with few full matches still finds something.
RELAX_BELOW = 10
# A relaxed query of at most this many words still ranks the articles with every word first: a
# short query means all of its words (issue 6: "1-4 words, where people expect every word to
# count"). A longer one is prose, and the articles that happen to hold all of its words are
# mostly the longest ones, so its matches are ranked by score alone (TIME MAP 0.688 -> 0.696).
AND_LIKE_WORDS = 4
CHECK_INTERVAL = 0.5
DAY = 86400


@dataclass
class Ranking:
    recency_weight: float = 0.3
    quality_weight: float = 0.1


@dataclass
class EngineHit:
    docnum: int
    score: float
    duplicates: int
    stored: dict
    title: str
    excerpt: str
    highlights: dict


@dataclass
class EngineResult:
    total: int
    hits: list[EngineHit]
    facets: dict  # name -> (list of (value, count, selected, start, end), interval, more)
    suggestion: str | None
    relaxed: bool
    generation: str
    words: list[str]


class WhooshEngine:
    """Opens the current generation and reopens when ``CURRENT`` names another one."""

    def __init__(
        self, index_dir: str | os.PathLike[str], ranking: Ranking | None = None, limits: QueryLimits | None = None
    ) -> None:
        self.index_dir = Path(index_dir)
        self.ranking = ranking or Ranking()
        self.limits = limits or QueryLimits()
        self._switch = GenerationSwitch(self.index_dir, open_snapshot, retire)
        self._parsers = threading.local()
        self._parsed: dict[str, object] = {}

    # -- generations -------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The snapshot of the generation being served (checked for a newer one twice a second).

        A newer generation is opened in a background thread (see generation_switch); requests
        meanwhile keep getting the current snapshot. Only the very first open is waited for."""
        return self._switch.current(CHECK_INTERVAL)

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
    def search(self, request, snapshot: Snapshot | None = None) -> EngineResult:
        """The results of ``request``; QueryTooExpensive when it is over a limit (self.limits) or
        its work runs past the time budget (checked between steps, never per posting)."""
        deadline = Deadline(self.limits.search_timeout)
        check_filter_values(request, self.limits.max_filter_values)
        s = snapshot or self.snapshot()
        q = self._parse(s, request.q) if request.q.strip() else None
        evaluator = Evaluator(s, request.q, deadline)
        if q is not None:
            check_query_terms(q, self.limits.max_query_terms)
            evaluator.check_prefixes(q, self.limits.max_prefix_terms)
        docs, scores = self._match(s, q, evaluator)
        deadline.check()
        filters = filter_masks(s, request, docs)
        keep = all_of(filters, len(docs))
        relaxed = False
        complete = None  # when a short query is relaxed: which results match every word
        matched_all = int(keep.sum())
        if q is not None and matched_all < min(RELAX_BELOW, request.per_page):
            parts = evaluator.relaxable_parts(q)
            if parts:
                strict_docs = docs[keep]
                words, required, excluded = parts
                short = len(words) <= AND_LIKE_WORDS
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
        if q is not None and request.sort == "relevance" and not relaxed:
            scores = self._with_proximity(s, q, docs, scores, evaluator.idfs)
        final = self._final_scores(s, docs, scores, q is not None)
        ahead = complete[keep] if relaxed and complete is not None else None
        order = self._order(s, request.sort, docs, final, q is not None, ahead)
        docs, final = docs[order], final[order]
        counts = np.ones(len(docs), dtype=np.int64)
        if request.collapse and len(docs) > 1:
            docs, final, counts = self._collapse(s, docs, final)
        total = len(docs)
        page_docs = docs[request.offset : request.offset + request.per_page]
        words = query_words(q) if q is not None else set()
        deadline.check()
        hits = [
            self._hit(s, int(d), float(final[request.offset + i]), int(counts[request.offset + i]) - 1, words)
            for i, d in enumerate(page_docs)
        ]
        suggestion = None
        if q is not None and (total < SUGGEST_BELOW or relaxed):
            deadline.check()
            suggestion = self._did_you_mean(s, request, matched_all if relaxed else total, deadline)
        return EngineResult(
            total=total,
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            relaxed=relaxed,
            generation=s.name,
            words=sorted({w for _, w in words}),
        )

    def _match(self, s: Snapshot, q, evaluator: Evaluator) -> tuple[np.ndarray, np.ndarray]:
        if q is None:
            docs = np.flatnonzero(s.live).astype(np.int32)
            return docs, np.zeros(len(docs), dtype=np.float32)
        return evaluator.run(q)

    def _with_proximity(
        self, s: Snapshot, q, docs: np.ndarray, scores: np.ndarray, idfs: dict[str, float]
    ) -> np.ndarray:
        """The text scores with a term-proximity bonus on the best RESCORE_WINDOW matches
        (``idfs``: each query word's idf, as matching scored it)."""
        words = sorted({w for field, w in query_words(q) if field in SEARCH_FIELDS and w in idfs})
        if len(words) < 2 or not len(docs):
            return scores
        if len(docs) > RESCORE_WINDOW:
            best = np.sort(np.argpartition(-scores, RESCORE_WINDOW - 1)[:RESCORE_WINDOW])
        else:
            best = np.arange(len(docs))
        bonus = proximity_scores(s, docs[best], words, [idfs[w] for w in words])
        if not bonus.any():
            return scores
        scores = scores.copy()
        scores[best] += bonus.astype(np.float32)
        return scores

    def _final_scores(self, s: Snapshot, docs: np.ndarray, scores: np.ndarray, has_query: bool) -> np.ndarray:
        """Text score times a bounded boost for recency and quality (never more than the weights)."""
        if not has_query or not len(docs):
            return scores
        boost = np.ones(len(docs), dtype=np.float32)
        if self.ranking.recency_weight and s.newest_ts:
            ts = s.published_ts[docs]
            age_days = np.maximum(s.newest_ts - ts, 0) / DAY
            recency = np.where(s.has_date[docs], np.exp2(-age_days / RECENCY_HALF_LIFE_DAYS), 0.0)
            boost += self.ranking.recency_weight * recency.astype(np.float32)
        if self.ranking.quality_weight and s.quality_scale > 0:
            quality = np.clip(s.quality[docs] / s.quality_scale, 0.0, 1.0)
            boost += self.ranking.quality_weight * quality.astype(np.float32)
        return scores * boost

    def _order(
        self, s: Snapshot, sort: str, docs: np.ndarray, final: np.ndarray, has_query: bool, complete=None
    ) -> np.ndarray:
        """Positions of ``docs`` in result order; articles without a date last when sorting by date;
        by relevance, articles that match every word before those that match only some."""
        if not len(docs):
            return np.empty(0, dtype=np.int64)
        ts = s.published_ts[docs]
        undated = ~s.has_date[docs]
        if sort == "newest" or (sort == "relevance" and not has_query):
            return np.lexsort((-final, -ts, undated))
        if sort == "oldest":
            return np.lexsort((-final, ts, undated))
        if sort == "quality":
            return np.lexsort((-ts, -final, -s.quality[docs]))
        if len(docs) > 1 and final.dtype == np.float32 and bool((final >= 0).all()):
            # the same order from one stable sort: a non-negative float32's bits sort as the
            # float does, so (complete, score, date rank) fit one uint64; docs are ascending,
            # and the stable sort keeps them so among equal keys
            bits = (final + np.float32(0.0)).view(np.uint32).astype(np.uint64)  # -0.0 -> 0.0
            key = bits << np.uint64(32) | s.ts_rank[docs].astype(np.uint64)
            if complete is not None:
                key |= complete.astype(np.uint64) << np.uint64(63)
            return np.argsort(~key, kind="stable")
        if complete is not None:
            return np.lexsort((docs, -ts, -final, ~complete))
        return np.lexsort((docs, -ts, -final))

    def _collapse(self, s: Snapshot, docs: np.ndarray, final: np.ndarray):
        """Fold syndicated copies: same normalised title, published within three days of the
        previous copy. The first copy in result order stands for the group. No sort of the
        whole result set: the snapshot's (title key, date) ranks are marked in a bitmap."""
        n = len(docs)
        ranks = s.key_rank[docs]
        if n * 16 < s.size:
            by_key = np.argsort(ranks)
        else:
            position_of = np.empty(s.size, dtype=np.int64)
            position_of[ranks] = np.arange(n)
            marked = np.zeros(s.size, dtype=bool)
            marked[ranks] = True
            by_key = position_of[np.flatnonzero(marked)]
        k, t = s.title_key.ords[docs[by_key]], s.published_ts[docs[by_key]]
        same = np.zeros(n, dtype=bool)
        same[1:] = (k[1:] == k[:-1]) & (k[1:] != s.title_key.empty) & (t[1:] - t[:-1] <= COLLAPSE_SECONDS)
        starts = np.flatnonzero(~same)
        # each group's first member in result order (docs are in result order)
        firsts = np.minimum.reduceat(by_key, starts)
        sizes = np.diff(np.append(starts, n))
        is_first = np.zeros(n, dtype=bool)
        is_first[firsts] = True
        size_at = np.zeros(n, dtype=np.int64)
        size_at[firsts] = sizes
        first = np.flatnonzero(is_first)
        return docs[first], final[first], size_at[first]

    def _hit(self, s: Snapshot, docnum: int, score: float, duplicates: int, words: set) -> EngineHit:
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
        return EngineHit(
            docnum,
            score,
            duplicates,
            stored.get("stored", {}) | {"id": stored["id"]},
            title,
            excerpt,
            highlights,
        )

    # -- suggestions ---------------------------------------------------------------------------
    def _did_you_mean(self, s: Snapshot, request, total: int, deadline: Deadline = NO_DEADLINE) -> str | None:
        """A respelling of the query's words that matches more documents (every word, under the
        same filters). Only for queries of a few words: long ones are prose, and get relaxed."""
        words = request.q.split()
        if len(words) > SUGGEST_MAX_WORDS:
            return None
        vocabulary = s.vocabulary()
        changed = False
        corrected = []
        for word in words:
            bare = word.strip(".,;!?\"'()").lower()
            if ":" in word or not bare.isalpha() or bare in ("and", "or", "not"):
                corrected.append(word)
                continue
            replacement = vocabulary.correct(bare)
            if replacement:
                corrected.append(replacement)
                changed = True
            else:
                corrected.append(word)
        if not changed:
            return None
        suggestion = " ".join(corrected)
        docs, _ = Evaluator(s, deadline=deadline).run(parse_user_query(self._parser(s), suggestion))
        matching = int(all_of(filter_masks(s, request, docs), len(docs)).sum())
        return suggestion if matching > total else None

    def suggest(self, prefix: str, limit: int = 10) -> list[dict]:
        """Completions of the last word of ``prefix`` from titles, topics and providers."""
        s = self.snapshot()
        text = prefix.strip()
        if not text:
            return []
        head, _, last = text.rpartition(" ")
        lead = (head + " ") if head else ""
        out: list[dict] = []
        seen: set[str] = set()
        needle = text.casefold()
        for kind, column in (("topic", s.topics), ("provider", s.provider)):
            for value in column.values:
                folded = value.casefold()
                if folded.startswith(needle) or any(part.startswith(needle) for part in folded.split()):
                    if folded not in seen:
                        seen.add(folded)
                        out.append({"text": value, "kind": kind})
        for word, _ in s.vocabulary().complete(last, limit):
            completion = lead + word
            if completion.casefold() not in seen:
                seen.add(completion.casefold())
                out.append({"text": completion, "kind": "word"})
        return out[:limit]

    # -- articles ------------------------------------------------------------------------------
    def article(self, doc_id: str, snapshot: Snapshot | None = None) -> EngineHit | None:
        s = snapshot or self.snapshot()
        docnum = s.docnum_of(doc_id)
        if docnum is None:
            return None
        return self._hit(s, docnum, 0.0, 0, set())

    def more_like_this(self, doc_id: str, limit: int = 5, snapshot: Snapshot | None = None) -> list[EngineHit]:
        """The article's own related entries first, then articles sharing its distinctive words."""
        s = snapshot or self.snapshot()
        docnum = s.docnum_of(doc_id)
        if docnum is None:
            return []
        stored = s.stored(docnum)
        out: list[EngineHit] = []
        seen = {docnum}
        related = list(stored.get("stored", {}).get("related_ids", []))
        parent = stored.get("stored", {}).get("related_to")
        if parent:
            related.insert(0, parent)
        for other in related:
            other_doc = s.docnum_of(other)
            if other_doc is not None and other_doc not in seen:
                seen.add(other_doc)
                out.append(self._hit(s, other_doc, 0.0, 0, set()))
        if len(out) >= limit:
            return out[:limit]
        from searchsvc.engine.whoosh_engine.schema import text_analyzer

        text = stored.get("title", "") + " " + stored.get("excerpt", "")
        terms = {t.text for t in text_analyzer()(text)}
        ranked = sorted(terms, key=lambda w: s.doc_frequency("title", w) + s.doc_frequency("excerpt", w) or 10**9)
        chosen = [w for w in ranked if s.doc_frequency("title", w) + s.doc_frequency("excerpt", w) > 1][:12]
        if not chosen:
            return out
        q = query.Or(
            [query.Or([query.Term(f, w) for f in ("title", "excerpt", "topics_text", "body")]) for w in chosen]
        )
        docs, scores = Evaluator(s).run(q)
        order = np.argsort(-scores, kind="stable")
        own_key = s.title_key.ords[docnum]
        for position in order:
            candidate = int(docs[position])
            if candidate in seen or s.title_key.ords[candidate] == own_key:
                continue
            seen.add(candidate)
            out.append(self._hit(s, candidate, float(scores[position]), 0, set()))
            if len(out) >= limit:
                break
        return out
