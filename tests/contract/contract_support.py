"""Helpers of the engine contract: one engine's index in a folder of its own (settings, source
folder, builds through the engine's Builder), and short ways to ask for results and read them."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from contract_corpus import name_of

from searchsvc.config import Settings
from searchsvc.engine import SearchEngine, View, open_builder, open_search
from searchsvc.engine.interface import ResultPage
from searchsvc.indexer import build_index
from searchsvc.parsing import Progress
from searchsvc.report import IndexReport
from searchsvc.request import SearchRequest, parse_request

OPENSEARCH_URL = os.environ.get("SEARCHSVC_TEST_OPENSEARCH_URL", "")
# OpenSearch indexes of one test session share this prefix (each index adds a number to it)
SESSION_PREFIX = f"searchsvc-contract-{uuid.uuid4().hex[:8]}"
_index_numbers = itertools.count(1)


@dataclass
class Index:
    """One engine's index: its settings and the folder of article files it is built from."""

    engine_name: str
    settings: Settings
    source: Path

    def build(self, full: bool = False, progress: Progress | None = None) -> IndexReport:
        report = build_index(
            [str(self.source)],
            self.settings.index_dir,
            full=full,
            lock_timeout=10,
            progress=progress,
            builder=open_builder(self.settings),
        )
        assert report.failed == 0, report.lines(True)
        return report

    def open(self, **changes) -> SearchEngine:
        """The engine's search side, with ``changes`` to the settings (limits, say)."""
        return open_search(self.settings.replace(**changes) if changes else self.settings)


def new_index(engine_name: str, root: Path) -> Index:
    """An empty index of ``engine_name`` below ``root``, built from ``root/corpus``."""
    index_dir = str(root / "index")
    if engine_name == "whoosh":
        settings = Settings(engine="whoosh", index_dir=index_dir)
    else:
        settings = Settings(
            engine="opensearch",
            index_dir=index_dir,
            opensearch_url=OPENSEARCH_URL,
            opensearch_index_prefix=f"{SESSION_PREFIX}-{next(_index_numbers)}",
        )
    source = root / "corpus"
    source.mkdir(parents=True, exist_ok=True)
    return Index(engine_name, settings, source)


def request(**params: str | list[str]) -> SearchRequest:
    """A SearchRequest from URL-style parameters: ``request(q="solar", provider=["A", "B"])``.

    A trailing underscore is dropped, for names that are Python keywords (``from_``)."""
    values = {name.rstrip("_"): value if isinstance(value, list) else [value] for name, value in params.items()}
    return parse_request(values)


def search(engine: SearchEngine, view: View | None = None, **params: str | list[str]) -> ResultPage:
    return engine.search(request(**params), view)


def names(page) -> list[str]:
    """The names of a result page's hits (or of a list of hits), in order."""
    hits = page if isinstance(page, list) else page.hits
    return [name_of(hit.id) for hit in hits]


def found(page) -> set[str]:
    return set(names(page))


def facet_counts(page, facet: str) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in page.facets[facet].values]


def date_buckets(page) -> list[tuple[str, int, bool, str | None, str | None]]:
    return [(v.value, v.count, v.selected, v.start, v.end) for v in page.facets["date"].values]


def wait_for_new_view(engine: SearchEngine, old_name: str, seconds: float = 10.0) -> View:
    """The engine's view once it is no longer ``old_name``, or after ``seconds`` the one it has (an
    engine may open a newly published view in the background; the README promises a second)."""
    deadline = time.monotonic() + seconds
    while True:
        view = engine.view()
        if view.name != old_name or time.monotonic() > deadline:
            return view
        time.sleep(0.05)
