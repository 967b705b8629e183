"""Indexes written by earlier versions open and update with this one: an index built before the
Whoosh engine moved into engine/whoosh_engine/ (tests/data/index-before-engine-move: the two seed
articles, built by commit 36deba4) pickled its schema under the old module names."""

from __future__ import annotations

import shutil
from pathlib import Path

from searchsvc.config import Settings
from searchsvc.engine import open_builder, open_search
from searchsvc.indexer import build_index
from searchsvc.search import SearchService, parse_request

OLD_INDEX = Path(__file__).parent / "data" / "index-before-engine-move"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_an_index_built_before_the_engine_moved_is_searched(tmp_path):
    index = shutil.copytree(OLD_INDEX, tmp_path / "index")
    service = SearchService(open_search(Settings(index_dir=str(index))), cache_size=0)

    results = service.search(parse_request({"q": ["facial recognition"]}))

    assert (results.generation, results.total) == ("gen-000001", 2)
    assert {hit.provider for hit in results.hits} == {"ThePrint", "tech"}
    assert service.engine.summary().documents == 2


def test_an_index_built_before_the_engine_moved_takes_an_incremental_build(tmp_path):
    index = shutil.copytree(OLD_INDEX, tmp_path / "index")
    (tmp_path / "src").mkdir()
    shutil.copy(next(SEEDS.glob("*.txt")), tmp_path / "src" / "seed.txt")
    builder = open_builder(Settings(index_dir=str(index)))

    report = build_index([tmp_path / "src"], index, builder=builder)

    # the old index's file was at another path: it is deleted and the copy here added
    assert (report.added, report.deleted, report.generation, report.documents) == (1, 1, "gen-000002", 2)
    results = SearchService(open_search(Settings(index_dir=str(index))), cache_size=0).search(
        parse_request({"q": ["minneapolis"]})
    )
    assert results.total == 1
