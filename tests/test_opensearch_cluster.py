"""The OpenSearch engine on a real cluster while it changes under a search load: a data node
killed with SIGKILL and restarted, and full rebuilds that swap the alias to a new index.

Each test starts its own nodes (tests/opensearch_nodes.py) and builds its index through
searchsvc from a few hundred real articles (/work/shared/bench/make_corpus.py, beside the
checkout). Skipped with the reason without Java and Maven, or without that shared folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from opensearch_nodes import (
    call,
    free_ports,
    launch_node,
    needs_java,
    start_node,
    stop_all,
    wait_for_health,
    wait_until_ready,
)

from searchsvc.config import Settings
from searchsvc.engine import open_builder, open_search
from searchsvc.indexer import build_index
from searchsvc.report import IndexReport
from searchsvc.request import parse_request
from searchsvc.search import SearchService

SHARED = Path(__file__).resolve().parents[2] / "shared"
MAKE_CORPUS = SHARED / "bench" / "make_corpus.py"
ARTICLES = 300
LOAD_SECONDS = 60  # the longest a search load may run (a busy 2-core machine is slow)
KILL_AFTER = 20  # searches done before node-2 is killed
SEARCHES_AFTER_KILL = 60  # searches started after the kill, before the load stops
DATA_ROLES = ["data", "ingest"]  # node-2: never the cluster manager, so killing it keeps a quorum

pytestmark = [
    needs_java,
    pytest.mark.skipif(
        not MAKE_CORPUS.is_file(),
        reason=f"needs {MAKE_CORPUS} (the shared folder beside the checkout) to make a corpus of real articles",
    ),
]

# Varied requests (URL-style parameters), every one with all facets: each matches some of the
# 300 articles.
QUERIES: list[dict[str, list[str]]] = [
    {},
    {"q": ["covid"]},
    {"q": ["ukraine russia"]},
    {"q": ["nasa"]},
    {"q": ["stock*"]},
    {"q": ["climate OR energy"]},
    {"q": ["election"], "sort": ["newest"]},
    {"topic": ["Science"]},
    {"q": ["covid"], "topic": ["Health"]},
    {"q": ["game"], "topic": ["Sports"]},
    {"q": ["-covid world"]},
    {"from": ["2022-03-01"], "to": ["2022-04-30"]},
    {"q": ["apple"]},
    {"q": ["market"], "per_page": ["20"]},
]


def label(params: dict[str, list[str]]) -> str:
    return "&".join(f"{name}={value}" for name, values in params.items() for value in values) or "(all)"


@dataclass
class Outcome:
    """What a search answered: its total and every facet's (value, count) pairs."""

    total: int
    facets: dict[str, list[tuple[str, int]]]


def outcome(service: SearchService, params: dict[str, list[str]]) -> Outcome:
    results = service.search(parse_request(params))
    facets = {name: [(v.value, v.count) for v in facet.values] for name, facet in results.facets.items()}
    return Outcome(results.total, facets)


def outcomes(settings: Settings) -> dict[str, Outcome]:
    """Every query's outcome through a newly opened engine (which sees the alias as it is now)."""
    engine = open_search(settings)
    try:
        service = SearchService(engine, cache_size=0)
        return {label(params): outcome(service, params) for params in QUERIES}
    finally:
        engine.close()


class Load:
    """Threads searching QUERIES in turn through one SearchService until ``finish()`` (and for
    LOAD_SECONDS at most), recording every outcome, and every failure with its traceback. ``mark()``
    splits the searches into those started before it and those started after it."""

    def __init__(self, service: SearchService, threads: int = 2) -> None:
        self.service = service
        self.done: list[tuple[str, Outcome, bool]] = []  # (query, outcome, started after mark())
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._marked = threading.Event()
        self._stop = threading.Event()
        self.started = time.monotonic()
        self.seconds = 0.0
        self._threads = [threading.Thread(target=self._work, args=(k * 5,), daemon=True) for k in range(threads)]
        for thread in self._threads:
            thread.start()

    def _work(self, offset: int) -> None:
        i = offset
        while not self._stop.is_set() and time.monotonic() - self.started < LOAD_SECONDS:
            params = QUERIES[i % len(QUERIES)]
            i += 1
            after = self._marked.is_set()
            try:
                result = outcome(self.service, params)
            except Exception:
                with self._lock:
                    self.failures.append(f"{label(params)}:\n{traceback.format_exc()}")
            else:
                with self._lock:
                    self.done.append((label(params), result, after))

    def count(self, after_mark: bool = False) -> int:
        with self._lock:
            return sum(1 for entry in self.done if entry[2] or not after_mark) + len(self.failures)

    def wait_for(self, searches: int, after_mark: bool = False) -> None:
        """Until ``searches`` searches have ended (since mark() with ``after_mark``), or the load's time is up."""
        while self.count(after_mark) < searches and time.monotonic() - self.started < LOAD_SECONDS:
            time.sleep(0.02)

    def mark(self) -> None:
        self._marked.set()

    def finish(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(LOAD_SECONDS + 60)
        self.seconds = time.monotonic() - self.started
        return self


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """ARTICLES real news articles written by make_corpus.py: (file, its path below the corpus), in path order."""
    folder = tmp_path_factory.mktemp("news") / "corpus"
    subprocess.run(
        [sys.executable, str(MAKE_CORPUS), "--n", str(ARTICLES), "--out", str(folder)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    files = sorted(folder.rglob("*.md"))
    assert len(files) == ARTICLES
    return [(path, path.relative_to(folder)) for path in files]


def copy_articles(articles: list[tuple[Path, Path]], source: Path) -> None:
    for path, relative in articles:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, source / relative)


def build(settings: Settings, source: Path, full: bool = True) -> IndexReport:
    report = build_index([str(source)], settings.index_dir, full=full, lock_timeout=30, builder=open_builder(settings))
    assert report.failed == 0, report.lines(True)
    return report


def differences(seen: list[tuple[str, Outcome, bool]], expected: dict[str, list[Outcome]]) -> list[str]:
    """The searches whose outcome is none of the expected outcomes of their query."""
    return [
        f"{query}: total {result.total}, expected one of {[e.total for e in expected[query]]}"
        + ("" if result.total not in [e.total for e in expected[query]] else f"; facets {result.facets}")
        for query, result, _ in seen
        if result not in expected[query]
    ]


@pytest.mark.timeout(170)
def test_a_two_node_cluster_with_one_replica_keeps_answering_searches_while_a_node_is_killed(articles, tmp_path):
    source = tmp_path / "corpus"
    copy_articles(articles, source)
    http_1, http_2, transport_1, transport_2 = free_ports(4)
    seeds = [transport_1, transport_2]
    nodes = tmp_path / "nodes"
    manager = launch_node(nodes, "node-1", seeds, http_1, transport_1, initial_managers=["node-1"])
    data = launch_node(nodes, "node-2", seeds, http_2, transport_2, roles=DATA_ROLES)
    started = [manager, data]
    try:
        wait_until_ready(manager)
        wait_until_ready(data)
        settings = Settings(
            engine="opensearch",
            index_dir=str(tmp_path / "index"),
            opensearch_url=(manager.url, data.url),
            opensearch_index_prefix=f"searchsvc-cluster-{uuid.uuid4().hex[:8]}",
            opensearch_shards=2,
            opensearch_replicas="1",
        )
        report = build(settings, source)
        assert (report.added, report.articles) == (ARTICLES, ARTICLES)
        health = wait_for_health(manager.url, "green", 60, nodes=2)
        assert health["unassigned_shards"] == 0
        before = outcomes(settings)
        assert before["(all)"].total == ARTICLES
        assert [query for query, result in before.items() if result.total == 0] == []

        engine = open_search(settings)
        load = Load(SearchService(engine, cache_size=0))
        load.wait_for(KILL_AFTER)
        data.kill()
        load.mark()
        load.wait_for(SEARCHES_AFTER_KILL, after_mark=True)
        load.finish()
        engine.close()

        assert load.failures == [], "\n".join(load.failures)
        after_kill = sum(1 for _, _, after in load.done if after)
        assert after_kill >= SEARCHES_AFTER_KILL, (
            f"{len(load.done)} searches in {load.seconds:.0f} s, {after_kill} after the kill"
        )
        assert differences(load.done, {query: [result] for query, result in before.items()}) == []

        data = start_node(nodes, "node-2", seeds, http_2, transport_2, roles=DATA_ROLES)
        started.append(data)
        health = wait_for_health(manager.url, "green", 60, nodes=2)
        assert (health["number_of_data_nodes"], health["unassigned_shards"]) == (2, 0)
        assert outcomes(settings) == before
    finally:
        stop_all(started)


def aliases_and_indexes(url: str, prefix: str) -> tuple[dict[str, str], list[str]]:
    """The prefix's aliases (alias -> index) and its indexes, read with plain HTTP."""
    indexes = call(f"{url}/_cat/indices?format=json")
    aliases = call(f"{url}/_cat/aliases?format=json")
    return (
        {row["alias"]: row["index"] for row in aliases if row["alias"].startswith(prefix)},
        sorted(row["index"] for row in indexes if row["index"].startswith(prefix)),
    )


@pytest.mark.timeout(120)
def test_an_alias_swap_during_a_search_load_fails_no_search(articles, tmp_path):
    source = tmp_path / "corpus"
    # 150 articles, then 50 more before each of the three rebuilds: every version has its own totals
    versions = [articles[:150], articles[150:200], articles[200:250], articles[250:]]
    copy_articles(versions[0], source)
    node = start_node(tmp_path / "nodes")
    prefix = f"searchsvc-swap-{uuid.uuid4().hex[:8]}"
    try:
        settings = Settings(
            engine="opensearch",
            index_dir=str(tmp_path / "index"),
            opensearch_url=(node.url,),
            opensearch_index_prefix=prefix,
        )
        assert build(settings, source).articles == 150
        expected = {query: [result] for query, result in outcomes(settings).items()}

        engine = open_search(settings)
        load = Load(SearchService(engine, cache_size=0))
        counts = []
        for version in versions[1:]:
            copy_articles(version, source)
            counts.append(build(settings, source).articles)
            for query, result in outcomes(settings).items():
                expected[query].append(result)
        load.finish()

        assert load.failures == [], "\n".join(load.failures)
        assert load.seconds < LOAD_SECONDS, "the rebuilds outlasted the search load"
        assert counts == [200, 250, 300]
        assert [e.total for e in expected["(all)"]] == [150, 200, 250, 300]
        assert differences(load.done, expected) == []
        # the load ran across the swaps: it saw more than one of the four versions
        assert len({result.total for query, result, _ in load.done if query == "(all)"}) > 1
        # the serving engine moves to the last index (it looks the alias up twice a second)
        deadline = time.monotonic() + 10
        while outcome(load.service, {}).total != ARTICLES and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outcome(load.service, {}).total == ARTICLES
        engine.close()

        aliases, indexes = aliases_and_indexes(node.url, prefix)
        views = [index for index in indexes if index != f"{prefix}-state"]
        # the alias names the newest index; the one it replaced is kept for the searches still
        # reading it, and the two before it (the first build's and the second's) are deleted
        assert (aliases, len(views), f"{prefix}-state" in indexes) == ({prefix: views[-1]}, 2, True), indexes
    finally:
        node.stop()
