"""Switching to a new index generation: opened in the background while requests keep being
answered from the current one, switched to when ready, never mixed within a request, and a
generation that fails to open is logged and retried (real indexes on disk, real snapshots)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from web_fixtures import wait_for, write_corpus

from searchsvc.config import Settings
from searchsvc.engine import open_search
from searchsvc.engine.whoosh_engine import generation_switch as switching
from searchsvc.engine.whoosh_engine import search as whoosh_search
from searchsvc.engine.whoosh_engine.generation_switch import GenerationSwitch, open_snapshot
from searchsvc.engine.whoosh_engine.generations import CURRENT, current_generation
from searchsvc.indexer import build_index
from searchsvc.search import SearchService, parse_request

BERLIN = "---\ntitle: Zeppelins land in Berlin\nwebUrl: https://news.example/berlin\n---\nCrowds cheer.\n"
INTERVAL = 0.02  # how often these engines look for a new generation


@pytest.fixture(name="index")
def index_fixture(tmp_path: Path) -> Path:
    corpus = write_corpus(tmp_path / "corpus")
    build_index([str(corpus)], tmp_path / "index", full=True, lock_timeout=5)
    return tmp_path / "index"


def publish_berlin(index: Path) -> None:
    """A new generation with one more article (the only one matching 'berlin')."""
    corpus = index.parent / "corpus"
    (corpus / "berlin.md").write_text(BERLIN, encoding="utf-8")
    build_index([str(corpus)], index, lock_timeout=5)


def search(service: SearchService, q: str):
    return service.search(parse_request({"q": [q]}))


def test_searches_right_after_a_new_generation_answer_from_the_old_one_until_it_is_open(index):
    gate = threading.Event()
    opened: list[str] = []

    def open_when_allowed(generation):
        if opened:  # every open after the first waits for the test (a large index takes seconds)
            assert gate.wait(30)
        opened.append(generation.name)
        return open_snapshot(generation)

    switch = GenerationSwitch(index, open_when_allowed)
    assert switch.current(INTERVAL).name == "gen-000001"
    publish_berlin(index)
    time.sleep(INTERVAL * 2)

    started = time.monotonic()
    answered = []
    for _ in range(20):
        answered.append(switch.current(INTERVAL).name)
        time.sleep(INTERVAL / 2)
    waited = time.monotonic() - started

    assert answered == ["gen-000001"] * 20  # while gen-000002 cannot finish opening
    assert waited < 10  # the open is held for up to 30 s: no call waited for it
    assert switch.opening == "gen-000002"
    gate.set()
    wait_for(lambda: switch.current(INTERVAL).name == "gen-000002", what="the switch to gen-000002")
    assert opened == ["gen-000001", "gen-000002"]  # one open per generation, however many calls
    assert switch.opening is None


def test_a_caller_that_saw_the_old_generation_just_before_the_switch_does_not_open_the_new_one_again(index):
    opened: list[str] = []

    def open_counted(generation):
        opened.append(generation.name)
        return open_snapshot(generation)

    switch = GenerationSwitch(index, open_counted)
    switch.current(INTERVAL)
    publish_berlin(index)
    new = current_generation(index)
    switch._open_in_background(new, time.monotonic())
    wait_for(lambda: switch.opening is None and switch.current(INTERVAL).name == new.name, what="the switch")

    # a request that read the snapshot (still gen-000001) before the switch, and asks only now
    switch._open_in_background(new, time.monotonic())

    assert (opened, switch.opening) == (["gen-000001", "gen-000002"], None)
    switch.close()


def test_a_service_switches_to_the_new_generation_and_a_search_in_progress_keeps_its_own(index, monkeypatch):
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", INTERVAL)
    engine = open_search(Settings(index_dir=str(index)))
    service = SearchService(engine, cache_size=0)
    before = search(service, "berlin")
    in_progress = engine.view()  # what a request that started now holds

    publish_berlin(index)
    after = wait_for(
        lambda: (r := search(service, "berlin")).generation == "gen-000002" and r, what="the switch to gen-000002"
    )
    old = engine.search(parse_request({"q": ["berlin"]}), in_progress)
    old_all = engine.search(parse_request({}), in_progress)

    assert (before.generation, before.total) == ("gen-000001", 0)
    assert (after.generation, after.total, [h.title for h in after.hits]) == (
        "gen-000002",
        1,
        ["Zeppelins land in Berlin"],
    )
    # the snapshot a request started with answers from its generation only
    assert (old.view, old.total, old_all.view, old_all.total) == ("gen-000001", 0, "gen-000001", 13)
    assert engine.article("https://news.example/berlin", in_progress) is None
    assert engine.article("https://news.example/berlin").title == "Zeppelins land in Berlin"


def test_a_generation_that_fails_to_open_is_logged_and_retried_while_the_old_one_serves(index, monkeypatch, caplog):
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", INTERVAL)
    monkeypatch.setattr(switching, "RETRY_SECONDS", 0.2)
    service = SearchService(open_search(Settings(index_dir=str(index))), cache_size=0)
    assert search(service, "solar").generation == "gen-000001"

    broken = index / "gen-000002"
    broken.mkdir()  # named by CURRENT, but holds no index (yet)
    (index / CURRENT).write_text("gen-000002\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="searchsvc.engine"):
        wait_for(
            lambda: search(service, "solar") and "Cannot open index generation gen-000002" in caplog.text,
            what="the failure to be logged",
        )
        served = [search(service, "solar") for _ in range(5)]
        assert [(r.generation, r.total) for r in served] == [("gen-000001", 3)] * 5

        shutil.copytree(index / "gen-000001", broken, dirs_exist_ok=True)  # the generation is complete now
        switched = wait_for(
            lambda: (r := search(service, "solar")).generation == "gen-000002" and r, what="the retry to succeed"
        )

    assert switched.total == 3
    message = caplog.records[0].getMessage()
    assert message.startswith("Cannot open index generation gen-000002 (")
    assert message.endswith("); still serving gen-000001, trying again in 0.2 s.")


def test_the_first_open_is_waited_for_and_no_index_is_an_error(tmp_path):
    from searchsvc.errors import IndexNotFoundError

    switch = GenerationSwitch(tmp_path / "none", open_snapshot)

    with pytest.raises(IndexNotFoundError):
        switch.current(INTERVAL)


def test_when_the_served_generation_was_removed_the_next_search_waits_for_the_newest(index, monkeypatch):
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", INTERVAL)
    service = SearchService(open_search(Settings(index_dir=str(index))), cache_size=0)
    assert search(service, "berlin").generation == "gen-000001"

    publish_berlin(index)  # gen-000002
    build_index([str(index.parent / "corpus")], index, full=True, lock_timeout=5)  # gen-000003; gen-000001 goes
    assert not (index / "gen-000001").exists()
    time.sleep(INTERVAL * 2)
    # a new thread needs a reader of its own: gen-000001's files are gone, so it cannot answer
    results = []
    thread = threading.Thread(target=lambda: results.append(search(service, "berlin")))
    thread.start()
    thread.join(30)

    assert [(r.generation, r.total) for r in results] == [("gen-000003", 1)]
