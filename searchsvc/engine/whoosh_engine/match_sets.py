"""Sets of matching documents with their scores, as (sorted document numbers, scores) pairs,
combined in numpy: union, intersection, difference. The evaluator's query nodes are built of
these; the names are the engine package's own (not its interface)."""

from __future__ import annotations

import numpy as np

Matches = tuple[np.ndarray, np.ndarray]  # sorted document numbers, scores
_NONE: Matches = (np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32))


def _sum_by_doc(docs: np.ndarray, values: np.ndarray, size: int = 0) -> Matches:
    """Distinct documents (ascending) and the sum of each one's values. Given the index size,
    many postings are summed into a dense array instead of being sorted."""
    if size and len(docs) * 8 > size:
        sums = np.bincount(docs, weights=values, minlength=size)
        present = np.zeros(size, dtype=bool)
        present[docs] = True
        unique = np.flatnonzero(present).astype(np.int32)
        return unique, sums[unique].astype(np.float32)
    unique, inverse = np.unique(docs, return_inverse=True)
    return unique.astype(np.int32), np.bincount(inverse, weights=values).astype(np.float32)


def _union(parts: list[Matches], boost: float = 1.0) -> Matches:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _NONE
    if len(parts) == 1:
        docs, scores = parts[0]
    else:
        docs, scores = _sum_by_doc(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return docs, scores * boost if boost != 1.0 else scores


def _intersect(parts: list[Matches]) -> Matches:
    if not parts:
        return _NONE
    parts = sorted(parts, key=lambda p: len(p[0]))
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        if not len(docs):
            return _NONE
        common, left, right = np.intersect1d(docs, other_docs, assume_unique=True, return_indices=True)
        docs, scores = common.astype(np.int32), scores[left] + other_scores[right]
    return docs, scores


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if len(values) < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _restrict(matches: Matches, allowed: np.ndarray) -> Matches:
    """The matches whose documents are in ``allowed`` (sorted), with their own scores."""
    if not len(matches[0]) or not len(allowed):
        return _NONE
    keep = np.isin(matches[0], allowed, assume_unique=True)
    return matches[0][keep], matches[1][keep]


def _subtract(matches: Matches, excluded: np.ndarray) -> Matches:
    if not len(excluded) or not len(matches[0]):
        return matches
    keep = ~np.isin(matches[0], excluded, assume_unique=True)
    return matches[0][keep], matches[1][keep]


def _add_optional(required: Matches, optional: Matches) -> Matches:
    if not len(required[0]) or not len(optional[0]):
        return required
    common, left, right = np.intersect1d(required[0], optional[0], assume_unique=True, return_indices=True)
    scores = required[1].copy()
    scores[left] += optional[1][right]
    return required[0], scores
