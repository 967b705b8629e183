"""Term proximity: documents where the query's words stand close together rank higher.

Büttcher, Clarke and Lushman, "Term proximity scoring for ad-hoc retrieval on very large text
collections" (SIGIR 2006): walk each document's occurrences of query words in order; each pair
of neighbouring occurrences of two different words adds to both words' accumulators the other
word's idf divided by the squared distance. The accumulators are then saturated like BM25 term
frequencies and added to the text score. Words next to each other ("interest rates") count
most; a word far from the others adds almost nothing.

It rescores the best ``proximity_window`` matches (ranking.py) only (as Elasticsearch's rescore does): the
bonus is never negative, so those stay above every other match and pages stay consistent.
"""

from __future__ import annotations

import numpy as np

from searchsvc.engine.ranking import RankingModel
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

PROXIMITY_FIELDS = ("title", "excerpt", "body")


def proximity_scores(
    s: Snapshot, docs: np.ndarray, words: list[str], idfs: list[float], ranking: RankingModel
) -> np.ndarray:
    """The proximity bonus of each of ``docs`` (sorted) for the distinct query ``words``."""
    bonus = np.zeros(len(docs), dtype=np.float64)
    if len(words) < 2 or not len(docs):
        return bonus
    idf = np.asarray(idfs, dtype=np.float64)
    weight = np.minimum(idf, 1.0)
    for field in PROXIMITY_FIELDS:
        keys, which = [], []
        for number, word in enumerate(words):
            found = s.position_keys(field, word, docs)
            keys.append(found)
            which.append(np.full(len(found), number, dtype=np.int64))
        keys_all = np.concatenate(keys)
        if len(keys_all) < 2:
            continue
        order = np.argsort(keys_all, kind="stable")
        keys_all, word_of = keys_all[order], np.concatenate(which)[order]
        doc_of, position = keys_all >> 32, keys_all & 0xFFFFFFFF
        # neighbouring occurrences in one document, of two different words
        pair = (doc_of[1:] == doc_of[:-1]) & (word_of[1:] != word_of[:-1])
        if not pair.any():
            continue
        left, right = np.flatnonzero(pair), np.flatnonzero(pair) + 1
        closeness = 1.0 / np.maximum(position[right] - position[left], 1).astype(np.float64) ** 2
        row = np.searchsorted(docs, doc_of[left])
        acc = np.zeros((len(docs), len(words)), dtype=np.float64)
        np.add.at(acc, (row, word_of[left]), idf[word_of[right]] * closeness)
        np.add.at(acc, (row, word_of[right]), idf[word_of[left]] * closeness)
        lengths = s.lengths[field][docs].astype(np.float64)
        k1, b = ranking.proximity_k1, ranking.proximity_b
        norm = k1 * ((1.0 - b) + b * lengths / s.average_length[field])
        saturated = acc * (k1 + 1.0) / (acc + norm[:, None])
        bonus += ranking.field_weights.get(field, 1.0) * (saturated * weight).sum(axis=1)
    return bonus
