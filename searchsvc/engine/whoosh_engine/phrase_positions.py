"""Where a phrase's words stand in order: its documents, found from the words' positions
(``doc << 32 | position`` keys, Snapshot.position_keys) in numpy, one pass per word."""

from __future__ import annotations

import numpy as np

from searchsvc.engine.limits import Deadline
from searchsvc.engine.whoosh_engine.match_sets import _distinct_sorted
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

# The largest phrase slop ("a b"~N) looked at: farther than any two positions of one document
MAX_SLOP = 2**30


def adjacent(s: Snapshot, field: str, words: list[str], docs: np.ndarray, deadline: Deadline) -> np.ndarray:
    """The documents of ``docs`` where ``words`` stand next to each other, in order."""
    # each word's (document, position) pairs, shifted back by its place in the phrase: a
    # document holds the phrase where all the words' shifted pairs meet
    keys = None
    for place, word in enumerate(words):
        deadline.check()
        shifted = s.position_keys(field, word, docs) - place
        keys = shifted if keys is None else np.intersect1d(keys, shifted)
        if not len(keys):
            return keys
    return np.unique(keys >> 32)


def near(s: Snapshot, field: str, words: list[str], docs: np.ndarray, slop: int, deadline: Deadline) -> np.ndarray:
    """The documents of ``docs`` holding ``words`` in order, each 1 to ``slop`` positions after
    the one before it (Whoosh's phrase with slop: an ordered SpanNear2 with mindist 1)."""
    # Positions are far below 2**31, and a key holds the document above bit 32: a gap of at
    # most MAX_SLOP never reaches from one document into the next.
    slop = min(int(slop), MAX_SLOP)
    ends = None  # doc << 32 | position of the last word of each chain so far (sorted)
    for word in words:
        deadline.check()
        keys = s.position_keys(field, word, docs)
        if ends is not None:
            # the nearest chain end before each position: a chain reaches the position when
            # that end is at most slop before it (a farther end cannot be nearer)
            before = np.searchsorted(ends, keys, side="left") - 1
            reached = before >= 0
            reached[reached] = keys[reached] - ends[before[reached]] <= slop
            keys = keys[reached]
        if not len(keys):
            return np.empty(0, dtype=np.int32)
        ends = keys
        docs = _distinct_sorted(ends >> 32).astype(np.int32)  # later words: these documents only
    return docs
