"""Relevance regression (issue 11): on the judged collections (TIME, CISI, MED) searchsvc's
ranking must not fall below SQLite FTS5 measured in the same run.

Both engines come from benchmarks/relevance.py (the only place that calls searchsvc for this),
run on the judged queries only, with ranked lists of the top 100 for both (MAP is average
precision over those 100; the benchmark script uses 1000). Nothing is timed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

# The shared corpora sit beside the checkout (in CI as well), at ../shared.
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPORA = SHARED / "corpora"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
DEPTH = 100

# collection key -> (documents, judged queries)
COLLECTIONS = {"time": (423, 83), "cisi": (1460, 76), "med": (1033, 30)}


def load_relevance() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_relevance", BENCHMARKS / "relevance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


relevance = load_relevance()


@pytest.mark.skipif(
    not CORPORA.is_dir(),
    reason=f"shared corpora not found at {CORPORA} (they sit beside the checkout in CI)",
)
@pytest.mark.parametrize("key", list(COLLECTIONS), ids=[key.upper() for key in COLLECTIONS])
def test_ranking_on_a_judged_collection_is_not_below_sqlite_fts5(key, tmp_path, record_property):
    collection = relevance.judged_only(relevance.load_collection(key, SHARED))
    assert (len(collection.articles), len(collection.queries)) == COLLECTIONS[key]

    ours = relevance.evaluate(relevance.run_searchsvc(collection, tmp_path, depth=DEPTH), collection.relevant)
    fts5 = relevance.evaluate(relevance.run_fts5(collection, depth=DEPTH), collection.relevant)

    summary = (
        f"{collection.name} ({ours['queries']} judged queries, top {DEPTH}): "
        f"searchsvc MAP {ours['MAP']:.4f} nDCG@10 {ours['nDCG@10']:.4f}; "
        f"SQLite FTS5 MAP {fts5['MAP']:.4f} nDCG@10 {fts5['nDCG@10']:.4f}"
    )
    print(summary)
    for metric in ("MAP", "nDCG@10"):
        record_property(f"searchsvc {metric}", round(ours[metric], 4))
        record_property(f"SQLite FTS5 {metric}", round(fts5[metric], 4))
    below = [metric for metric in ("MAP", "nDCG@10") if ours[metric] < fts5[metric]]
    assert ours["queries"] == fts5["queries"] == COLLECTIONS[key][1]
    assert below == [], f"searchsvc ranks below SQLite FTS5 on {', '.join(below)}: {summary}"
