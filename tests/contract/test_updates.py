"""The contract of updates: an incremental build's added, changed and deleted articles are visible
once it publishes and not before; an aborted build changes nothing; a view taken before a build
keeps answering with the articles it had (a search in progress never mixes two views); a full
rebuild answers as the incremental one did.

Each test has an index of its own (``fresh_index``), built from the small corpus below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_corpus import Doc, write_article_file
from contract_support import Index, facet_counts, found, names, request, search, wait_for_new_view

from searchsvc.documents import parse_article
from searchsvc.engine import SearchEngine, Suggestion, open_builder

SKYLINE = ("Skyline Daily", "skyline.example")
COAST = ("Coast Courier", "coast.example")

DAY = "2022-01-0{}T00:00:00Z"
# fmt: off
ZEPPELINS = Doc("u01", "Zeppelins return to the sky", "Airships carry cargo again.", DAY.format(1), SKYLINE,
                ["Transport"])
TRAINS = Doc("u02", "Trains beat planes on short trips", "Rail wins.", DAY.format(2), SKYLINE, ["Transport"])
FERRIES = Doc("u03", "Ferries cross the strait at night", "Crews work late.", DAY.format(3), COAST, ["Transport"])
# the changes: u02 rewritten, u04 added, u03 deleted
HOVERCRAFT = Doc("u02", "Hovercraft beat planes on short trips", "Air cushions win.", DAY.format(2), SKYLINE,
                 ["Transport", "Hovercraft"])
BERLIN = Doc("u04", "Zeppelins land in Berlin", "Crowds cheer the airship.", DAY.format(4), SKYLINE,
             ["Transport", "Travel"])
# fmt: on


@pytest.fixture
def small(fresh_index: Index) -> Iterator[tuple[Index, SearchEngine]]:
    """Three articles built in a fresh index, and the engine serving them."""
    for doc in (ZEPPELINS, TRAINS, FERRIES):
        write_article_file(fresh_index.source, doc)
    fresh_index.build(full=True)
    engine = fresh_index.open()
    yield fresh_index, engine
    engine.close()


def change_files(index: Index) -> None:
    """Rewrite u02, add u04 and delete u03 in the source folder (not built yet)."""
    write_article_file(index.source, HOVERCRAFT, mtime=60)
    write_article_file(index.source, BERLIN, mtime=60)
    (index.source / "u03.md").unlink()


def assert_old_articles(engine: SearchEngine, view) -> None:
    everything = search(engine, view)
    assert (everything.total, found(everything)) == (3, {"u01", "u02", "u03"})
    assert names(search(engine, view, q="trains")) == ["u02"]
    assert names(search(engine, view, q="ferries")) == ["u03"]
    assert search(engine, view, q="berlin").total == 0
    assert search(engine, view, q="hovercraft").total == 0
    assert facet_counts(everything, "provider") == [("Skyline Daily", 2, False), ("Coast Courier", 1, False)]
    assert facet_counts(everything, "topic") == [("Transport", 3, False)]


def assert_new_articles(engine: SearchEngine, view) -> None:
    everything = search(engine, view)
    assert (everything.total, found(everything)) == (3, {"u01", "u02", "u04"})
    assert names(search(engine, view, q="berlin")) == ["u04"]
    assert [hit.title for hit in search(engine, view, q="hovercraft").hits] == [HOVERCRAFT.title]
    assert search(engine, view, q="trains").total == 0
    assert search(engine, view, q="ferries").total == 0
    assert facet_counts(everything, "provider") == [("Skyline Daily", 3, False)]
    assert facet_counts(everything, "topic") == [
        ("Transport", 3, False),
        ("Hovercraft", 1, False),
        ("Travel", 1, False),
    ]


def test_an_incremental_build_adds_changes_and_deletes_articles_once_it_publishes(small):
    index, engine = small
    before = engine.view()
    assert_old_articles(engine, before)

    change_files(index)
    report = index.build()
    after = wait_for_new_view(engine, before.name)

    assert (report.full, report.added, report.updated, report.deleted) == (False, 1, 1, 1)
    assert after.name != before.name
    assert_new_articles(engine, after)
    assert engine.article(FERRIES.url, after) is None
    assert engine.article(TRAINS.url, after).title == HOVERCRAFT.title
    assert (engine.summary(after).view, engine.summary(after).documents, after.documents) == (after.name, 3, 3)


def test_suggestions_and_did_you_mean_follow_the_published_view(small):
    index, engine = small
    before = engine.view()
    assert engine.suggest("hover") == []

    change_files(index)
    index.build()
    after = wait_for_new_view(engine, before.name)

    assert after.name != before.name
    assert engine.suggest("hover") == [
        Suggestion("Hovercraft", "topic", {"topic": ["Hovercraft"]}, ""),
        Suggestion("Hovercraft beat", "word"),
    ]
    assert search(engine, after, q="hovercaft", typos="false").suggestion == "hovercraft"
    assert [c.matched for c in search(engine, after, q="hovercaft").corrections] == [("hovercraft",)]


def test_suggest_forgets_the_words_only_a_deleted_article_held(small):
    index, engine = small
    before = engine.view()
    assert engine.suggest("ferr") == [Suggestion("Ferries", "word"), Suggestion("Ferries cross", "word")]

    change_files(index)
    index.build()
    after = wait_for_new_view(engine, before.name)

    assert (after.name != before.name, search(engine, after, q="ferries").total) == (True, 0)
    assert engine.suggest("ferr") == []


def test_a_view_taken_before_a_build_keeps_answering_with_the_articles_it_had(small):
    index, engine = small
    before = engine.view()

    change_files(index)
    index.build()
    after = wait_for_new_view(engine, before.name)

    # one request holds ``before`` throughout: everything it asks is answered from the old view
    assert after.name != before.name
    assert_old_articles(engine, before)
    assert engine.article(FERRIES.url, before).title == FERRIES.title
    assert engine.article(TRAINS.url, before).title == TRAINS.title
    assert engine.article(BERLIN.url, before) is None
    assert (engine.summary(before).view, engine.summary(before).documents, before.documents) == (before.name, 3, 3)
    assert search(engine, before, q="trains").view == before.name
    # while a request on the new view sees the new articles
    assert_new_articles(engine, after)


def test_nothing_a_build_writes_is_visible_before_it_publishes(small):
    index, engine = small
    before = engine.view()
    seen_while_building: list[tuple[str, int, int]] = []

    def progress(done: int, total: int) -> None:
        view = engine.view()
        seen_while_building.append((view.name, search(engine, view).total, search(engine, view, q="berlin").total))

    change_files(index)
    index.build(progress=progress)

    assert seen_while_building == [(before.name, 3, 0)]
    assert_new_articles(engine, wait_for_new_view(engine, before.name))


def test_an_aborted_build_changes_nothing_and_the_next_build_publishes(small):
    index, engine = small
    before = engine.view()
    write_article_file(index.source, BERLIN, mtime=60)
    builder = open_builder(index.settings)

    with pytest.raises(RuntimeError, match="^abandoned$"):
        with builder.begin(False, 10) as build:
            build.upsert(parse_article(index.source / "u04.md").articles)
            assert (engine.view().name, search(engine, q="berlin").total) == (before.name, 0)
            raise RuntimeError("abandoned")

    assert builder.current() == before.name
    assert (engine.view().name, search(engine, q="berlin").total, search(engine).total) == (before.name, 0, 3)
    report = index.build()
    after = wait_for_new_view(engine, before.name)
    assert (report.added, after.name != before.name, names(search(engine, after, q="berlin"))) == (1, True, ["u04"])


def test_an_incremental_build_with_nothing_changed_keeps_the_published_view(small):
    index, engine = small
    before = engine.view()

    report = index.build()

    assert (report.full, report.unchanged, report.added, report.deleted) == (False, 3, 0, 0)
    assert open_builder(index.settings).current() == before.name
    assert_old_articles(engine, engine.view())


def test_a_full_rebuild_answers_as_the_incremental_build_did(small):
    index, engine = small
    before = engine.view()
    change_files(index)
    index.build()
    incremental = wait_for_new_view(engine, before.name)
    assert_new_articles(engine, incremental)

    report = index.build(full=True)
    rebuilt = wait_for_new_view(engine, incremental.name)

    assert (report.full, report.added, rebuilt.name != incremental.name) == (True, 3, True)
    assert_new_articles(engine, rebuilt)


def test_an_empty_folder_builds_an_index_that_answers_with_nothing_until_articles_arrive(fresh_index):
    report = fresh_index.build(full=True)
    engine = fresh_index.open()
    try:
        empty = engine.view()
        page = search(engine, empty, q="zeppelins")
        everything = search(engine, empty)

        assert (report.added, empty.documents) == (0, 0)
        assert (page.total, page.hits, everything.total, everything.hits) == (0, [], 0, [])
        assert engine.suggest("zep") == []
        assert engine.summary(empty).documents == 0
        stream = engine.export(request(q="zeppelins"), empty)
        assert (stream.total, list(stream.hits)) == (0, [])

        write_article_file(fresh_index.source, ZEPPELINS)
        assert fresh_index.build().added == 1
        filled = wait_for_new_view(engine, empty.name)
        assert names(search(engine, filled, q="zeppelins")) == ["u01"]
    finally:
        engine.close()
