"""A snapshot's facet columns count a set of documents' values exactly as counting each
document's values one by one does, whichever way a column keeps them."""

from __future__ import annotations

import datetime as dt

import numpy as np

from searchsvc.engine.whoosh_engine.columns import MAX_BIT_VALUES, DayColumn, MultiValueColumn


def _counted_one_by_one(raw: list[bytes], docs: list[int], values: list[str]) -> list[int]:
    counts = dict.fromkeys(values, 0)
    for doc in docs:
        for value in raw[doc].split(b"\x1f") if raw[doc] else []:
            counts[value.decode()] += 1
    return [counts[v] for v in values]


def test_a_few_values_are_counted_from_one_byte_per_document():
    raw = [b"sport\x1fworld", b"", b"world", b"tech\x1fsport\x1fworld", b"tech", b""] * 5
    column = MultiValueColumn(raw)
    assert column._bits is not None
    for docs in ([], [1], [0, 3], list(range(len(raw))), [2, 3, 4, 9, 27]):
        picked = np.array(docs, dtype=np.int64)
        assert column.counts(picked).tolist() == _counted_one_by_one(raw, docs, column.values)
        assert column.counts(picked).dtype == np.int64


def test_a_value_a_document_holds_twice_counts_twice_as_before():
    raw = [b"sport\x1fsport", b"world", b"sport"]
    column = MultiValueColumn(raw)
    assert column._bits is None
    assert column.counts(np.arange(3)).tolist() == [3, 1]


def test_more_values_than_fit_in_a_byte_are_counted_from_their_lists():
    names = [f"topic{i:02d}".encode() for i in range(MAX_BIT_VALUES + 1)]
    raw = [b"\x1f".join(names[i : i + 3]) for i in range(len(names))]
    column = MultiValueColumn(raw)
    assert column._bits is None
    docs = list(range(len(raw)))
    assert column.counts(np.array(docs)).tolist() == _counted_one_by_one(raw, docs, column.values)


def test_days_months_and_years_count_each_dated_document_once():
    dates = ["2024-01-31", "2024-02-01", "2024-02-01", None, "2023-12-31", "2024-02-29", None]
    has_date = np.array([d is not None for d in dates])
    day = np.array([(dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days if d else 0 for d in dates], np.int32)
    column = DayColumn(day, has_date)
    assert [str(d) for d in column.days.astype("datetime64[D]")] == [
        "2023-12-31",
        "2024-01-31",
        "2024-02-01",
        "2024-02-29",
    ]
    assert column.counts(np.arange(len(dates))).tolist() == [1, 1, 2, 1]
    assert column.counts(np.array([3, 6])).tolist() == [0, 0, 0, 0]
    assert [str(m) for m in column.months.astype("datetime64[M]")] == ["2023-12", "2024-01", "2024-02", "2024-02"]
    assert column.years.astype("datetime64[Y]").astype(str).tolist() == ["2023", "2024", "2024", "2024"]
