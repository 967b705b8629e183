"""A snapshot's facet columns: each document's value (or values) as ordinals into the sorted
distinct values, for filters and counts with numpy; and whole columns read from a segment in one
piece (Whoosh's column readers read, seek and slice once per document)."""

from __future__ import annotations

import numpy as np
from whoosh.columns import FixedBytesColumn, VarBytesColumn

from searchsvc.engine.whoosh_engine.schema import FACET_COLUMNS, SEARCH_FIELDS


def var_bytes_values(leaf, name: str) -> list[bytes]:
    """Every document's value of the bytes column ``name`` (a VarBytesColumn, values stored back
    to back) in segment ``leaf``: its data read at once, then sliced."""
    column = leaf.column_reader(name, translate=False)
    if type(column) is not VarBytesColumn.Reader:  # no such column in the segment: defaults
        return list(leaf.column_reader(name))
    lengths = np.array(column._lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    data = column._dbfile.get(column._basepos, int(ends[-1]) if len(ends) else 0)
    return [data[start:end] for start, end in zip((ends - lengths).tolist(), ends.tolist(), strict=True)]


def fixed_width_bytes(column, doccount: int) -> bytes | None:
    """All ``doccount`` values of a fixed-width column reader (FixedBytesColumn, NumericColumn)
    as one bytes string; None for another kind of reader. A writer leaves the default values
    after the last value out: they are added back."""
    if not isinstance(column, FixedBytesColumn.Reader):
        return None
    stored = min(column._count, doccount)
    data = column._dbfile.get(column._basepos, stored * column._fixedlen)
    return data + column._defaultbytes * (doccount - stored)


def numbers_bytes(leaf) -> bytes:
    """A segment's numbers column (NUMBER_DTYPE records), read in one piece."""
    raw = fixed_width_bytes(leaf.column_reader("numbers", translate=False), leaf.doc_count_all())
    return b"".join(leaf.column_reader("numbers")) if raw is None else raw


def read_facets(leaves) -> dict[str, list[bytes]]:
    """Each string column (FACET_COLUMNS) as a list of every document's value."""
    raw = [value for leaf, _ in leaves for value in var_bytes_values(leaf, "facets")]
    width = len(FACET_COLUMNS)
    if all(value.count(b"\x1e") == width - 1 for value in raw):  # one split of them all
        parts = b"\x1e".join(raw).split(b"\x1e") if raw else []
        return {name: parts[i::width] for i, name in enumerate(FACET_COLUMNS)}
    blank = [b""] * width
    rows = [row if len(row) == width else blank for row in (value.split(b"\x1e") for value in raw)]
    return {name: [row[i] for row in rows] for i, name in enumerate(FACET_COLUMNS)}


def _codes(raw: list[bytes]) -> tuple[np.ndarray, dict[bytes, int]]:
    """Each value's number in order of first appearance, and the distinct values' numbers."""
    first: dict[bytes, int] = {}
    codes = np.fromiter((first.setdefault(v, len(first)) for v in raw), dtype=np.int32, count=len(raw))
    return codes, first


def _ordinals(raw: list[bytes]) -> tuple[np.ndarray, list[bytes]]:
    """Each value's place among the sorted distinct values, and those values."""
    codes, first = _codes(raw)
    distinct = sorted(first)
    rank = np.empty(len(distinct), dtype=np.int32)
    rank[np.fromiter((first[v] for v in distinct), dtype=np.int64, count=len(distinct))] = np.arange(
        len(distinct), dtype=np.int32
    )
    return rank[codes], distinct


class ValueColumn:
    """A string column as ordinals into a sorted list of distinct values; without
    ``keep_values`` (a grouping key, one value per article) the values are not kept and the
    ordinals only tell equal values apart (numbered in order of appearance: no sort)."""

    def __init__(self, raw: list[bytes], keep_values: bool = True) -> None:
        self.values: list[str] = []
        if keep_values:
            self.ords, distinct = _ordinals(raw)
            self.empty = 0 if distinct[:1] == [b""] else -1  # (b"" sorts first)
            self.values = [v.decode("utf-8", "replace") for v in distinct]
        else:
            self.ords, first = _codes(raw)
            self.empty = first.get(b"", -1)
        self._index_values()

    @classmethod
    def from_arrays(cls, ords: np.ndarray, values: list[str] | None, empty: int | None = None) -> ValueColumn:
        """A column from saved ordinals and sorted values (None: a grouping key, ``empty`` its
        empty value's ordinal), as column_cache.py keeps them."""
        column = cls.__new__(cls)
        column.ords = ords
        column.values = values or []
        column.empty = empty if values is None else (0 if values[:1] == [""] else -1)
        column._index_values()
        return column

    def _index_values(self) -> None:
        self._by_lower: dict[str, list[int]] = {}
        for i, value in enumerate(self.values):
            self._by_lower.setdefault(value.casefold(), []).append(i)

    def ords_for(self, wanted: tuple[str, ...]) -> np.ndarray:
        """Ordinals of the values asked for (matched exactly, else case-insensitively)."""
        found: list[int] = []
        for value in wanted:
            found.extend(self._by_lower.get(value.casefold(), []))
        return np.array(sorted(set(found)), dtype=np.int32)


MAX_BIT_VALUES = 8
# row m: which of 8 values a document whose value bits are m carries (1) or not (0)
_BIT_TABLE = (np.arange(1 << MAX_BIT_VALUES)[:, None] >> np.arange(MAX_BIT_VALUES) & 1).astype(np.int64)


class DayColumn:
    """Each document's day (days since 1970) as a number into the sorted distinct days of the
    dated documents (``len(days)`` for an undated one): a result set's days are counted with one
    bincount, and its months and years from those counts."""

    def __init__(self, day: np.ndarray, has_date: np.ndarray) -> None:
        self.days = np.unique(day[has_date])
        self.codes = np.where(has_date, np.searchsorted(self.days, day), len(self.days)).astype(np.int32)
        dates = self.days.astype("datetime64[D]")
        self.months = dates.astype("datetime64[M]").astype(np.int32)
        self.years = dates.astype("datetime64[Y]").astype(np.int32)

    def counts(self, docs: np.ndarray) -> np.ndarray:
        """How many of ``docs`` fall on each of ``days``."""
        return np.bincount(self.codes[docs], minlength=len(self.days) + 1)[:-1]


class MultiValueColumn:
    """A multi-valued string column (values joined by \\x1f) in CSR form."""

    def __init__(self, raw: list[bytes]) -> None:
        lengths = np.fromiter((v.count(b"\x1f") + 1 if v else 0 for v in raw), dtype=np.int64, count=len(raw))
        # every document's values in order, split in one pass over them all
        flat = b"\x1f".join(v for v in raw if v).split(b"\x1f") if lengths.any() else []
        self.ords, distinct = _ordinals(flat)
        self.values = [v.decode("utf-8", "replace") for v in distinct]
        self.indptr = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        self.doc_of = np.repeat(np.arange(len(raw), dtype=np.int32), lengths)
        self._index_values()

    @classmethod
    def from_arrays(
        cls, ords: np.ndarray, values: list[str], indptr: np.ndarray, doc_of: np.ndarray
    ) -> MultiValueColumn:
        """A column from its saved CSR arrays and sorted values (column_cache.py)."""
        column = cls.__new__(cls)
        column.ords, column.values, column.indptr, column.doc_of = ords, values, indptr, doc_of
        column._index_values()
        return column

    def _index_values(self) -> None:
        self._by_lower: dict[str, list[int]] = {}
        for i, value in enumerate(self.values):
            self._by_lower.setdefault(value.casefold(), []).append(i)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self._bits = self._value_bits()

    def _value_bits(self) -> np.ndarray | None:
        """Each document's values as the bits of one byte, when there are few values and no
        document carries one twice (else None: counts reads the CSR arrays)."""
        if not 0 < len(self.values) <= MAX_BIT_VALUES or not len(self.ords):
            return None
        bit = (np.uint8(1) << self.ords.astype(np.uint8)).astype(np.uint8)
        bits = np.zeros(len(self.indptr) - 1, dtype=np.uint8)
        np.bitwise_or.at(bits, self.doc_of, bit)
        if int(np.unpackbits(bits).sum()) != len(self.ords):  # a value twice in a document
            return None
        return bits

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
        bits = self._bits
        if bits is not None:  # one byte per document: count its combinations, then each value's
            combinations = np.bincount(bits[docs], minlength=1 << MAX_BIT_VALUES)
            return combinations @ _BIT_TABLE[:, : len(self.values)]
        starts, ends = self.indptr[docs], self.indptr[docs + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(self.values), dtype=np.int64)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return np.bincount(self.ords[offsets], minlength=len(self.values))


def key_rank_of(title_ords: np.ndarray, published_ts: np.ndarray) -> np.ndarray:
    """Each document's place when all are sorted by (title key, date, number)."""
    everything = np.arange(len(published_ts), dtype=np.int32)
    key_rank = np.empty(len(published_ts), dtype=np.int32)
    key_rank[np.lexsort((everything, published_ts, title_ords))] = everything
    return key_rank


def ts_rank_of(published_ts: np.ndarray) -> np.ndarray:
    """Each document's date as a dense rank (ties share one)."""
    return np.searchsorted(np.unique(published_ts), published_ts).astype(np.uint32)


class PerField(dict):
    """A value per search field, computed on first use (``in`` is true of every search field)."""

    def __init__(self, compute) -> None:
        super().__init__()
        self._compute = compute

    def __contains__(self, field) -> bool:
        return field in SEARCH_FIELDS

    def __missing__(self, field: str):
        if field not in SEARCH_FIELDS:
            raise KeyError(field)
        value = self[field] = self._compute(field)
        return value
