"""Sorted keys with a count each, answering "the most counted keys that start with this prefix" at a
bounded cost: a binary search, then at most SCAN_CAP counts; a prefix with more keys under it than
that (a letter or two: "c" has tens of thousands of phrases) has its answer computed when the table
is built. Keys are UTF-8 bytes packed in one buffer (a Python string per key costs about 50 bytes
more than its text). Both go to and come from plain arrays (``arrays``, ``from_arrays``), which
may be views of a mapped file (completion_file.py)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

# counts looked at per question at most; prefixes with more keys under them are answered ahead
SCAN_CAP = 4096


class PackedBytes(Sequence):
    """A sorted list of byte strings in one buffer."""

    def __init__(self, items: list[bytes]) -> None:
        self._data: bytes | np.ndarray = b"".join(items)
        self._ends = np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)))
        self._starts = self._ends - np.fromiter(map(len, items), dtype=np.int64, count=len(items))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> PackedBytes:
        """The byte strings ``arrays`` (of ``arrays(name)``) hold, without copying them."""
        packed = cls.__new__(cls)
        packed._data, packed._ends = arrays[f"{name}.data"], arrays[f"{name}.ends"]
        if packed._data.dtype != np.uint8 or packed._ends.dtype != np.int64 or packed._ends.ndim != 1:
            raise ValueError(f"{name}: not packed byte strings")
        packed._starts = np.concatenate([[0], packed._ends[:-1]]).astype(np.int64)
        if len(packed._ends) and (np.any(packed._ends < packed._starts) or packed._ends[-1] > len(packed._data)):
            raise ValueError(f"{name}: byte strings end outside their data")
        return packed

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}.data": np.frombuffer(self._data, dtype=np.uint8), f"{name}.ends": self._ends}

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i):  # type: ignore[override] - ints only
        item = self._data[self._starts[i] : self._ends[i]]
        return item if type(item) is bytes else item.tobytes()  # (an array's, when mapped)

    def nbytes(self) -> int:
        return len(self._data) + self._ends.nbytes + self._starts.nbytes


def top_in(counts: np.ndarray, lo: int, hi: int, n: int) -> np.ndarray:
    """The places in [lo, hi) of the ``n`` highest counts, highest first, ties in place order."""
    part = counts[lo:hi]
    if len(part) > n:
        kth = np.partition(part, len(part) - n)[len(part) - n]
        above = np.flatnonzero(part > kth)
        chosen = np.concatenate([above, np.flatnonzero(part == kth)[: n - len(above)]])
    else:
        chosen = np.arange(len(part))
    return lo + chosen[np.lexsort((chosen, -part[chosen]))]


class PrefixTable:
    """``keys`` (sorted, distinct UTF-8) and their ``counts``; ``top(prefix, n)`` for n <= ``most``."""

    def __init__(self, keys: list[bytes], counts: np.ndarray, most: int) -> None:
        self.keys = PackedBytes(keys)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.most = most
        self._answered = _answer_crowded_prefixes(keys, self.counts, most)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> PrefixTable:
        """The table ``arrays`` (of ``arrays(name)``) hold: its keys and counts not copied."""
        table = cls.__new__(cls)
        table.keys = PackedBytes.from_arrays(arrays, f"{name}.keys")
        table.counts = arrays[f"{name}.counts"]
        table.most = int(arrays[f"{name}.most"][0])
        if table.counts.dtype != np.int64 or table.counts.shape != (len(table.keys),):
            raise ValueError(f"{name}: one count per key expected")
        prefixes = PackedBytes.from_arrays(arrays, f"{name}.crowded")
        places, ends = arrays[f"{name}.answers"], arrays[f"{name}.answer_ends"].tolist()
        outside = len(places) and (places.min() < 0 or places.max() >= len(table.keys))
        if len(ends) != len(prefixes) or (ends and ends[-1] > len(places)) or outside:
            raise ValueError(f"{name}: answers do not match the keys")
        starts = [0, *ends[:-1]]
        table._answered = {prefixes[i]: places[starts[i] : ends[i]] for i in range(len(prefixes))}
        return table

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        crowded = sorted(self._answered)
        answers = [self._answered[prefix] for prefix in crowded]
        return {
            **self.keys.arrays(f"{name}.keys"),
            f"{name}.counts": self.counts,
            f"{name}.most": np.array([self.most], dtype=np.int64),
            **PackedBytes(crowded).arrays(f"{name}.crowded"),
            f"{name}.answers": np.concatenate(answers).astype(np.int64) if answers else np.zeros(0, np.int64),
            f"{name}.answer_ends": np.cumsum([len(a) for a in answers], dtype=np.int64),
        }

    def __len__(self) -> int:
        return len(self.keys)

    def top(self, prefix: bytes, n: int) -> np.ndarray:
        """The places of the ``n`` most counted keys starting with ``prefix``, most counted first."""
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + b"\xff", lo)  # (no UTF-8 byte is 0xff)
        if hi - lo > SCAN_CAP:
            answered = self._answered.get(prefix)  # (every crowded prefix is, but the empty one)
            return answered[:n] if answered is not None else top_in(self.counts, lo, lo + SCAN_CAP, n)
        return top_in(self.counts, lo, hi, min(n, self.most))

    def nbytes(self) -> int:
        return self.keys.nbytes() + self.counts.nbytes + sum(a.nbytes + len(p) for p, a in self._answered.items())


def _answer_crowded_prefixes(keys: list[bytes], counts: np.ndarray, most: int) -> dict[bytes, np.ndarray]:
    """The ``most`` best places for every prefix with more than SCAN_CAP keys under it. Level by
    level (prefix length), only inside the previous level's crowded ranges: the work is the keys
    times the depth of crowding, a few passes over them."""
    answered: dict[bytes, np.ndarray] = {}
    ranges = [(0, len(keys))] if len(keys) > SCAN_CAP else []
    width = 0
    while ranges:
        width += 1
        crowded = []
        for lo, hi in ranges:
            heads = np.array(keys[lo:hi], dtype=f"S{width}")  # each key cut to its first bytes
            bounds = np.concatenate([[0], np.flatnonzero(heads[1:] != heads[:-1]) + 1, [hi - lo]])
            for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                if end - start > SCAN_CAP:
                    answered[bytes(heads[start])] = top_in(counts, lo + start, lo + end, most)
                    crowded.append((lo + start, lo + end))
        ranges = crowded
    return answered
