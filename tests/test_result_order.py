"""The fast result order and collapse give exactly what the plain definitions give: lexsort
by (score desc, date desc, number) and collapse by (title key, date) chains, on random result
sets with many ties, small (sorted) and large (bitmap) alike."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from searchsvc.engine.whoosh_engine.evaluator import _sum_by_doc
from searchsvc.engine.whoosh_engine.ordering import COLLAPSE_SECONDS, collapse, result_order
from searchsvc.engine.whoosh_engine.schema import NO_DATE

SIZE = 5_000


def _snapshot(rng: np.random.Generator) -> SimpleNamespace:
    """The per-generation arrays the ordering reads, as Snapshot builds them."""
    ts = rng.choice([NO_DATE, 0, 86_400, 2 * 86_400, 5 * 86_400, 9 * 86_400], size=SIZE).astype(np.int64)
    ts[ts != NO_DATE] += 1_650_000_000
    ords = rng.integers(0, 40, size=SIZE).astype(np.int32)
    everything = np.arange(SIZE, dtype=np.int32)
    key_rank = np.empty(SIZE, dtype=np.int32)
    key_rank[np.lexsort((everything, ts, ords))] = everything
    ts_rank = np.searchsorted(np.unique(ts), ts).astype(np.uint32)
    return SimpleNamespace(
        size=SIZE,
        published_ts=ts,
        has_date=ts != NO_DATE,
        quality=np.zeros(SIZE, dtype=np.int32),
        title_key=SimpleNamespace(ords=ords, empty=0),
        key_rank=key_rank,
        ts_rank=ts_rank,
    )


def _plain_collapse(s, docs, final):
    keys, ts = s.title_key.ords[docs], s.published_ts[docs]
    by_key = np.lexsort((ts, keys))
    k, t = keys[by_key], ts[by_key]
    same = np.zeros(len(docs), dtype=bool)
    same[1:] = (k[1:] == k[:-1]) & (k[1:] != s.title_key.empty) & (t[1:] - t[:-1] <= COLLAPSE_SECONDS)
    group = np.empty(len(docs), dtype=np.int64)
    group[by_key] = np.cumsum(~same) - 1
    _, first = np.unique(group, return_index=True)
    first.sort()
    return docs[first], final[first], np.bincount(group)[group[first]]


@pytest.mark.parametrize("count", [2, 50, 200, 1_000, 4_000, SIZE])
@pytest.mark.parametrize("relaxed", [False, True])
def test_relevance_order_and_collapse_equal_their_plain_definitions(count, relaxed):
    rng = np.random.default_rng(count + relaxed)
    s = _snapshot(rng)
    docs = np.sort(rng.choice(SIZE, size=count, replace=False)).astype(np.int32)
    final = rng.choice([0.0, 0.5, 1.25, 3.0, 7.5], size=count).astype(np.float32)
    complete = rng.random(count) < 0.5 if relaxed else None

    order = result_order(s, "relevance", docs, final, True, complete)
    ts = s.published_ts[docs]
    if relaxed:
        expected = np.lexsort((docs, -ts, -final, ~complete))
    else:
        expected = np.lexsort((docs, -ts, -final))
    assert order.tolist() == expected.tolist()

    collapsed = collapse(s, docs[order], final[order])
    plain = _plain_collapse(s, docs[order], final[order])
    assert [c.tolist() for c in collapsed] == [p.tolist() for p in plain]
    assert int(collapsed[2].sum()) == count


def test_summing_by_document_densely_equals_summing_after_sorting():
    rng = np.random.default_rng(7)
    docs = rng.integers(0, 300, size=2_000).astype(np.int32)
    values = rng.random(2_000).astype(np.float32)

    dense = _sum_by_doc(docs, values, size=300)
    sorted_ = _sum_by_doc(docs, values)
    assert dense[0].tolist() == sorted_[0].tolist() == sorted(set(docs.tolist()))
    assert dense[1].tolist() == sorted_[1].tolist()
