"""Result order: text scores with proximity and bounded recency/quality boosts, the sorts, and
collapsing syndicated copies; all per-document arrays of a snapshot, no per-hit Python."""

from __future__ import annotations

import numpy as np

from searchsvc.engine.ranking import RankingModel
from searchsvc.engine.whoosh_engine.proximity import proximity_scores
from searchsvc.engine.whoosh_engine.query_parser import query_words
from searchsvc.engine.whoosh_engine.schema import SEARCH_FIELDS
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

COLLAPSE_SECONDS = 3 * 86400
DAY = 86400


def with_proximity(
    s: Snapshot,
    q,
    docs: np.ndarray,
    scores: np.ndarray,
    idfs: dict[str, float],
    ranking: RankingModel,
    also: set[str] = frozenset(),
) -> np.ndarray:
    """The text scores with a term-proximity bonus on the best ranking.proximity_window matches
    (``idfs``: each query word's idf, as matching scored it; ``also``: the known words misspelt
    query words matched, which count as query words here)."""
    words = sorted({w for field, w in query_words(q) if field in SEARCH_FIELDS and w in idfs} | (also & set(idfs)))
    if len(words) < 2 or not len(docs):
        return scores
    if len(docs) > ranking.proximity_window:
        best = np.sort(np.argpartition(-scores, ranking.proximity_window - 1)[: ranking.proximity_window])
    else:
        best = np.arange(len(docs))
    bonus = proximity_scores(s, docs[best], words, [idfs[w] for w in words], ranking)
    if not bonus.any():
        return scores
    scores = scores.copy()
    scores[best] += bonus.astype(np.float32)
    return scores


def final_scores(
    s: Snapshot, docs: np.ndarray, scores: np.ndarray, has_query: bool, ranking: RankingModel
) -> np.ndarray:
    """Text score times a bounded boost for recency and quality (never more than the weights)."""
    if not has_query or not len(docs):
        return scores
    boost = np.ones(len(docs), dtype=np.float32)
    if ranking.recency_weight and s.newest_ts:
        ts = s.published_ts[docs]
        age_days = np.maximum(s.newest_ts - ts, 0) / DAY
        recency = np.where(s.has_date[docs], np.exp2(-age_days / ranking.recency_half_life_days), 0.0)
        boost += ranking.recency_weight * recency.astype(np.float32)
    if ranking.quality_weight and s.quality_scale > 0:
        quality = np.clip(s.quality[docs] / s.quality_scale, 0.0, 1.0)
        boost += ranking.quality_weight * quality.astype(np.float32)
    return scores * boost


def result_order(
    s: Snapshot, sort: str, docs: np.ndarray, final: np.ndarray, has_query: bool, complete=None, edits=None
) -> np.ndarray:
    """Positions of ``docs`` in result order; articles without a date last when sorting by date;
    by relevance, articles that match every word before those that match only some, then
    (``edits``: the edits each one's matches of misspelt words took) fewer edits first."""
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
    if edits is not None:
        keys = (docs, -ts, -final, edits) + ((~complete,) if complete is not None else ())
        return np.lexsort(keys)
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


def collapse(s: Snapshot, docs: np.ndarray, final: np.ndarray):
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
