"""A snapshot's facet columns: each document's value (or values) as ordinals into the sorted
distinct values, for filters and counts with numpy."""

from __future__ import annotations

import numpy as np


class ValueColumn:
    """A string column as ordinals into a sorted list of distinct values."""

    def __init__(self, raw: list[bytes], keep_values: bool = True) -> None:
        distinct = sorted(set(raw))
        lookup = {v: i for i, v in enumerate(distinct)}
        self.ords = np.fromiter((lookup[v] for v in raw), dtype=np.int32, count=len(raw))
        self.empty = lookup.get(b"", -1)
        # a grouping key (one value per article) needs its ordinals only
        self.values = [v.decode("utf-8", "replace") for v in distinct] if keep_values else []
        self._by_lower: dict[str, list[int]] = {}
        for i, value in enumerate(self.values):
            self._by_lower.setdefault(value.casefold(), []).append(i)

    def ords_for(self, wanted: tuple[str, ...]) -> np.ndarray:
        """Ordinals of the values asked for (matched exactly, else case-insensitively)."""
        found: list[int] = []
        for value in wanted:
            found.extend(self._by_lower.get(value.casefold(), []))
        return np.array(sorted(set(found)), dtype=np.int32)


class MultiValueColumn:
    """A multi-valued string column (values joined by \\x1f) in CSR form."""

    def __init__(self, raw: list[bytes]) -> None:
        split = [v.split(b"\x1f") if v else [] for v in raw]
        distinct = sorted({t for parts in split for t in parts})
        self.values = [v.decode("utf-8", "replace") for v in distinct]
        lookup = {v: i for i, v in enumerate(distinct)}
        lengths = np.fromiter((len(p) for p in split), dtype=np.int64, count=len(split))
        self.indptr = np.zeros(len(split) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        self.ords = np.fromiter((lookup[t] for parts in split for t in parts), dtype=np.int32)
        self.doc_of = np.repeat(np.arange(len(split), dtype=np.int32), lengths)
        self._by_lower: dict[str, list[int]] = {}
        for i, value in enumerate(self.values):
            self._by_lower.setdefault(value.casefold(), []).append(i)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}

    def ords_for(self, wanted: tuple[str, ...]) -> np.ndarray:
        found: list[int] = []
        for value in wanted:
            found.extend(self._by_lower.get(value.casefold(), []))
        return np.array(sorted(set(found)), dtype=np.int32)

    def doc_mask(self, ords: np.ndarray, size: int) -> np.ndarray:
        key = tuple(int(o) for o in ords)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(size, dtype=bool)
            mask[self.doc_of[np.isin(self.ords, ords)]] = True
            if len(self._masks) < 256:
                self._masks[key] = mask
        return mask

    def counts(self, docs: np.ndarray) -> np.ndarray:
        """How many of ``docs`` carry each value."""
        starts, ends = self.indptr[docs], self.indptr[docs + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(self.values), dtype=np.int64)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return np.bincount(self.ords[offsets], minlength=len(self.values))
