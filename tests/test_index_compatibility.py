"""Indexes written by earlier versions open and update with this one: an index built before the
Whoosh engine moved into engine/whoosh_engine/ (tests/data/index-before-engine-move: the two seed
articles, built by commit 36deba4) pickled its schema under the old module names, and its words
were split at apostrophes (analysis version 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

from search_fixtures import Doc, write_corpus
from whoosh import index as whoosh_index

from searchsvc.analysis import ANALYSIS_VERSION
from searchsvc.config import Settings
from searchsvc.engine import open_builder, open_search
from searchsvc.engine.whoosh_engine.builder import OUTDATED_ANALYSIS
from searchsvc.engine.whoosh_engine.schema import analysis_version
from searchsvc.engine.whoosh_engine.writer import INDEX_NAME
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


def test_an_index_built_before_the_engine_moved_is_rebuilt_in_full_by_the_next_build_saying_why(tmp_path):
    index = shutil.copytree(OLD_INDEX, tmp_path / "index")
    (tmp_path / "src").mkdir()
    shutil.copy(next(SEEDS.glob("*.txt")), tmp_path / "src" / "seed.txt")
    builder = open_builder(Settings(index_dir=str(index)))

    report = build_index([tmp_path / "src"], index, builder=builder)

    # its words were split at apostrophes (analysis version 1): an update would keep them
    assert (report.full, report.added, report.deleted, report.generation, report.documents) == (
        True,
        1,
        0,
        "gen-000002",
        2,
    )
    assert report.warnings == [OUTDATED_ANALYSIS]
    assert _analysis_version(index, "gen-000001") == 1
    assert _analysis_version(index, "gen-000002") == ANALYSIS_VERSION
    results = SearchService(open_search(Settings(index_dir=str(index))), cache_size=0).search(
        parse_request({"q": ["minneapolis"]})
    )
    assert results.total == 1


def _analysis_version(index: Path, generation: str) -> int:
    return analysis_version(whoosh_index.open_dir(str(index / generation), indexname=INDEX_NAME).schema)


def test_after_the_rebuild_words_joined_by_apostrophes_are_found_and_updates_stay_updates(tmp_path):
    index = shutil.copytree(OLD_INDEX, tmp_path / "index")
    write_corpus(
        tmp_path / "src",
        [Doc("b01", "Benzema wins the Ballon d'Or", "The striker won it in Paris.", "2022-10-17T20:00:00Z")],
    )
    settings = Settings(index_dir=str(index))

    rebuild = build_index([tmp_path / "src"], index, builder=open_builder(settings))
    write_corpus(tmp_path / "src", [Doc("b02", "O'Brien joins the Jaguars", "A new coach.", "2022-10-18T20:00:00Z")])
    update = build_index([tmp_path / "src"], index, builder=open_builder(settings))
    service = SearchService(open_search(settings), cache_size=0)

    assert (rebuild.full, update.full, update.added, update.warnings) == (True, False, 1, [])
    assert [service.search(parse_request({"q": [q]})).total for q in ("d'or", "dor", "obrien")] == [1, 1, 1]
