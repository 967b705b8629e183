"""Opening a generation for one search (a ``searchsvc search`` run) builds only what the search
needs; opening one to serve builds everything first. Real indexes on disk, real snapshots; the
assertions are on what each snapshot holds, never on time."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_fixtures import request, search_index_fixture  # noqa: F401 - fixtures register by being imported

from searchsvc.engine.whoosh_engine.generation_switch import open_snapshot
from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.search import WhooshEngine
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.engine.whoosh_engine.spelling import Vocabulary

COLUMNS = ("provider", "domain", "category", "type", "topics", "title_key", "key_rank", "ts_rank")


@pytest.fixture
def one_shot(search_index: Path):
    snapshot = open_snapshot(current_generation(search_index), warm=False)
    yield snapshot
    snapshot.close()


@pytest.fixture
def served(search_index: Path):
    snapshot = open_snapshot(current_generation(search_index))
    yield snapshot
    snapshot.close()


def built(snapshot: Snapshot) -> list[str]:
    return [name for name in COLUMNS if name in snapshot.__dict__]


def test_an_open_for_one_search_builds_the_columns_but_not_the_vocabulary(one_shot):
    assert (built(one_shot), one_shot._vocabulary) == (list(COLUMNS), None)
    assert "_facet_values" not in one_shot.__dict__  # dropped once every column is built


def test_an_open_to_serve_builds_the_columns_and_the_vocabulary_with_its_corrections(served):
    assert built(served) == list(COLUMNS)
    assert {"_deletes", "sorted_words"} <= set(served.vocabulary().__dict__)


def test_a_search_with_results_on_a_one_shot_snapshot_does_not_build_the_vocabulary(search_index, one_shot, served):
    engine = WhooshEngine(search_index)

    page = engine.search(request(q="space"), one_shot)

    assert (page.total, page.suggestion, one_shot._vocabulary) == (5, None, None)
    assert page == engine.search(request(q="space"), served)


def test_a_misspelt_search_on_a_one_shot_snapshot_builds_the_vocabulary_and_suggests_as_a_served_one(
    search_index, one_shot, served
):
    engine = WhooshEngine(search_index)

    page = engine.search(request(q="glacer", typos="false"), one_shot)

    assert (page.total, page.suggestion) == (0, "glacier")
    assert "_deletes" in one_shot.vocabulary().__dict__
    assert page == engine.search(request(q="glacer", typos="false"), served)


def test_a_misspelt_search_on_a_one_shot_snapshot_corrects_it_as_a_served_one(search_index, one_shot, served):
    engine = WhooshEngine(search_index)

    page = engine.search(request(q="glacer"), one_shot)

    assert (page.total, [c.matched for c in page.corrections]) == (2, [("glacier",)])
    assert page == engine.search(request(q="glacer"), served)


def test_a_snapshot_opened_directly_reads_each_column_and_field_length_on_first_use(search_index):
    generation = current_generation(search_index)
    snapshot = Snapshot(generation.path, generation.name)

    assert (built(snapshot), dict(snapshot.lengths), "title" in snapshot.lengths) == ([], {}, True)
    snapshot.provider  # noqa: B018 - read on first use
    assert (built(snapshot), list(snapshot.lengths)) == (["provider"], [])
    assert len(snapshot.lengths["title"]) == snapshot.size
    assert (list(snapshot.lengths), "nope" in snapshot.lengths) == (["title"], False)
    snapshot.close()


def test_a_completion_builds_the_sorted_words_but_not_the_corrections():
    vocabulary = Vocabulary([("solar", 3), ("solstice", 1), ("wind", 2)])

    assert vocabulary.complete("sol") == [("solar", 3), ("solstice", 1)]
    assert ("sorted_words" in vocabulary.__dict__, "_deletes" in vocabulary.__dict__) == (True, False)
    assert vocabulary.correct("solra") == "solar"
    assert "_deletes" in vocabulary.__dict__


def test_a_published_generation_has_its_columns_saved_and_an_open_loads_the_same_values(search_index):
    from searchsvc.engine.whoosh_engine import column_cache

    generation = current_generation(search_index)
    loaded = Snapshot(generation.path, generation.name)
    assert (generation.path / column_cache.CACHE_FILE).is_file()
    assert loaded._saved  # the saved columns fit this generation

    (generation.path / column_cache.CACHE_FILE).rename(generation.path / "aside.npz")
    decoded = Snapshot(generation.path, generation.name)
    assert decoded._saved == {}
    for name in ("provider", "domain", "category", "type", "topics"):
        assert (getattr(loaded, name).values, getattr(loaded, name).ords.tolist()) == (
            getattr(decoded, name).values,
            getattr(decoded, name).ords.tolist(),
        )
    assert loaded.topics.indptr.tolist() == decoded.topics.indptr.tolist()
    assert (loaded.title_key.ords.tolist(), loaded.title_key.empty) == (
        decoded.title_key.ords.tolist(),
        decoded.title_key.empty,
    )
    assert (loaded.key_rank.tolist(), loaded.ts_rank.tolist()) == (decoded.key_rank.tolist(), decoded.ts_rank.tolist())
    (generation.path / "aside.npz").rename(generation.path / column_cache.CACHE_FILE)


def test_saved_columns_made_from_other_segments_are_ignored(search_index, tmp_path):
    from searchsvc.engine.whoosh_engine import column_cache

    generation = current_generation(search_index)
    snapshot = Snapshot(generation.path, generation.name)
    snapshot.live[0] = False  # as if a document had been deleted since the columns were saved

    assert column_cache.load(snapshot) is None
