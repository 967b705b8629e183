"""Sizes and modification times of many files, for an update's look at what changed since the last
build: a stat per file is most of a re-index that finds nothing to do (155,000 files: about 0.7 s
of 2), so with a second core a forked child stats the first half while this process stats the
rest (about 0.4 s; second_core.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from searchsvc.second_core import in_halves

PARALLEL_STAT_THRESHOLD = 20_000  # fewer files: not worth a fork
_NUMBER = np.dtype(np.int64)


def file_stats(paths: Sequence[str], parallel_from: int = PARALLEL_STAT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, mtimes in nanoseconds) of ``paths``, -1 in both for a file that cannot be stat'ed
    (gone, unreadable); in two processes from ``parallel_from`` files (second_core.in_halves)."""
    halves = in_halves(_stats, paths, parallel_from)
    return np.concatenate([sizes for sizes, _ in halves]), np.concatenate([mtimes for _, mtimes in halves])


def _stats(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    sizes: list[int] = []
    mtimes: list[int] = []
    stat = os.stat
    for path in paths:
        try:
            info = stat(path)
        except OSError:
            sizes.append(-1)
            mtimes.append(-1)
            continue
        sizes.append(info.st_size)
        mtimes.append(info.st_mtime_ns)
    return np.array(sizes, _NUMBER), np.array(mtimes, _NUMBER)
