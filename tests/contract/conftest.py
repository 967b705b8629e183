"""The engine contract's fixtures: every test runs once per engine under test, on a real index of
the hand-written corpus in contract_corpus.py built through that engine's Builder.

Engines: ``whoosh`` always; ``opensearch`` when ``SEARCHSVC_TEST_OPENSEARCH_URL`` names a cluster
(its indexes are named with a prefix unique to the test session). Test ids read ``[whoosh]`` and
``[opensearch]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_corpus import CORPUS, write_corpus
from contract_support import OPENSEARCH_URL, SESSION_PREFIX, Index, new_index

from searchsvc.engine import SearchEngine

ENGINES = [
    pytest.param("whoosh", id="whoosh"),
    pytest.param(
        "opensearch",
        id="opensearch",
        marks=pytest.mark.skipif(
            not OPENSEARCH_URL,
            reason="SEARCHSVC_TEST_OPENSEARCH_URL is not set (the URL of an OpenSearch cluster to test against)",
        ),
    ),
]


@pytest.fixture(scope="session", autouse=True)
def remove_the_sessions_opensearch_indexes() -> Iterator[None]:
    """Leave the cluster as it was: delete every index (and alias) this session created."""
    yield
    if OPENSEARCH_URL:
        import urllib.request

        request = urllib.request.Request(f"{OPENSEARCH_URL}/{SESSION_PREFIX}-*?expand_wildcards=all", method="DELETE")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def corpus_index(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Index:
    """The contract corpus, written and built once per engine."""
    index = new_index(engine_name, tmp_path_factory.mktemp(f"contract-{engine_name}"))
    write_corpus(index.source, CORPUS)
    index.build(full=True)
    return index


@pytest.fixture(scope="session")
def engine(corpus_index: Index) -> Iterator[SearchEngine]:
    opened = corpus_index.open()
    yield opened
    opened.close()


@pytest.fixture
def fresh_index(engine_name: str, tmp_path: Path) -> Index:
    """An empty index of its own with an empty source folder, for tests that change it."""
    return new_index(engine_name, tmp_path)


@pytest.fixture
def known_bug(request: pytest.FixtureRequest, engine_name: str):
    """``known_bug({"whoosh": "BUG: ..."})`` marks the running test as an expected failure on the
    engines named (strict: once the bug is fixed the test passes, fails as XPASS, and the mark goes)."""

    def mark(reasons: dict[str, str]) -> None:
        if engine_name in reasons:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reasons[engine_name]))

    return mark
