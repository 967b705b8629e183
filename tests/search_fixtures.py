"""Fixtures for the search-layer tests: a small hand-made corpus written as front-matter files,
its real index on disk, and SearchService objects over it. Test modules import what they use from
here (tests/conftest.py belongs to the other modules' tests).

Every article's id is its webUrl, ``https://<domain>/<name>``; ``ID[name]`` spells it out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from searchsvc.config import Settings
from searchsvc.engine import open_search
from searchsvc.indexer import build_index
from searchsvc.search import SearchRequest, SearchResults, SearchService, parse_request

# A fixed mtime, so an incremental build never depends on the clock's resolution.
BASE_MTIME = 1_650_000_000

DAILY = ("Daily Planet", "dailyplanet.example")
TECH = ("Tech Times", "techtimes.example")
GREEN = ("Green Wire", "greenwire.example")
POLAR = ("Polar Press", "polarpress.example")


@dataclass
class Doc:
    """One article file (or one related entry inside a file)."""

    name: str
    title: str
    excerpt: str = ""
    date: str | None = None
    provider: tuple[str, str] | None = None
    topics: list[str] = field(default_factory=list)
    category: str | None = None
    type: str | None = None
    quality: int | None = None
    published: bool | None = None
    body: str = ""
    related: list[Doc] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.provider[1] if self.provider else "nowhere.example"

    @property
    def url(self) -> str:
        return f"https://{self.domain}/{self.name}"


# name -> the article. Dates are UTC. s17 has no date and no quality; s18's title holds an
# HTML-escaped <script> tag (which the indexer keeps as the literal text "<script>").
CORPUS: list[Doc] = [
    Doc(
        "s01",
        "Solar panels and batteries power remote villages",
        "Cheap solar panels paired with battery storage bring electricity to villages.",
        "2022-03-01T10:00:00Z",
        DAILY,
        ["Energy", "Climate"],
        "news",
        "article",
        70,
        True,
        "Engineers installed the arrays last spring.",
        related=[
            Doc(
                "r01",
                "Village microgrids spread across Kenya",
                "Microgrids bring power to rural homes.",
                "2022-02-20T09:00:00Z",
                GREEN,
            ),
            Doc(
                "r02",
                "Lithium prices fall",
                "Cell materials for storage get cheaper.",
                "2022-02-25T09:00:00Z",
                TECH,
            ),
        ],
    ),
    Doc(
        "s02",
        "Solar farm opens on former coal mine",
        "A new solar farm replaces a coal mine in the valley.",
        "2022-03-05T10:00:00Z",
        GREEN,
        ["Energy"],
        "news",
        "article",
        60,
        True,
        "The mine closed ten years ago.",
    ),
    Doc(
        "s03",
        "Battery recycling plant breaks ground",
        "Old lithium cells get a second life.",
        "2022-03-10T10:00:00Z",
        TECH,
        ["Energy", "Industry"],
        "news",
        "video",
        50,
        False,
        "The plant will employ two hundred workers.",
    ),
    Doc(
        "s04",
        "Heat pumps replace gas boilers in old houses",
        "Installers say heat pumps cut bills.",
        "2022-03-15T10:00:00Z",
        DAILY,
        ["Energy"],
        "blog",
        "article",
        80,
        True,
        "Grants cover part of the cost.",
    ),
    Doc(
        "s05",
        "Pumps move heat out of data centres",
        "Liquid cooling pumps carry the warmth away from servers, and heat leaves the building.",
        "2022-03-20T10:00:00Z",
        TECH,
        ["Industry"],
        "blog",
        "article",
        52,
        True,
        "Servers run cooler.",
    ),
    Doc(
        "s06",
        "Police adopt facial recognition in Minneapolis",
        "Minneapolis officers will use facial recognition software.",
        "2021-02-16T03:47:00Z",
        TECH,
        ["AI", "Computer Vision"],
        "news",
        "article",
        39,
        False,
        "Critics worry about mistakes.",
    ),
    Doc(
        "s07",
        "City council debates policing budget",
        "The council voted on reforms after a long night.",
        "2021-06-01T12:00:00Z",
        POLAR,
        ["Politics"],
        "news",
        "article",
        45,
        True,
        "Residents spoke for hours.",
    ),
    Doc(
        "s08",
        "Best café in town serves cold brew",
        "The café roasts its own beans.",
        "2022-05-20T08:00:00Z",
        POLAR,
        ["Food"],
        "blog",
        "article",
        30,
        True,
        "Lines form every morning.",
    ),
    Doc(
        "s09",
        "Cafe owners fight rent increases",
        "Owners protest outside city hall.",
        "2022-05-22T08:00:00Z",
        GREEN,
        ["Food", "Politics"],
        "news",
        "article",
        55,
        True,
        "Landlords declined to comment.",
    ),
    Doc(
        "s10",
        "Glacier melt accelerates in the Alps",
        "Glacier melt doubled in a decade, scientists say.",
        "2019-01-10T09:00:00Z",
        GREEN,
        ["Climate"],
        "news",
        "article",
        65,
        True,
        "Measurements span forty years. Teams climbed to the same stakes every summer, drilled "
        "new holes, read the old markers and compared photographs taken by their predecessors. "
        "By the last survey the glacier had lost a third of its ice.",
    ),
    Doc(
        "s11",
        "Ski resorts prepare for a short season",
        "Resorts make artificial snow as winters warm.",
        "2022-12-30T09:00:00Z",
        DAILY,
        ["Travel"],
        "news",
        "article",
        50,
        True,
        "One guide mentioned a glacier nearby, but most slopes are lower.",
    ),
    Doc(
        "s12",
        "Rocket Launch Delayed By Storm - Daily Planet",
        "High winds kept the rocket on the pad.",
        "2022-04-01T08:00:00Z",
        DAILY,
        ["Space"],
        "news",
        "article",
        61,
        True,
        "A new window opens next week.",
    ),
    Doc(
        "s13",
        "rocket launch delayed by storm",
        "High winds kept the rocket on the pad, officials said.",
        "2022-04-02T20:00:00Z",
        TECH,
        ["Space"],
        "news",
        "article",
        62,
        True,
        "A new window opens next week.",
    ),
    Doc(
        "s14",
        "Rocket launch delayed by storm",
        "The launch slipped again after another storm.",
        "2022-04-12T08:00:00Z",
        GREEN,
        ["Space"],
        "news",
        "article",
        63,
        True,
        "Engineers remain hopeful.",
    ),
    Doc(
        "s15",
        "Telescope spots water vapour",
        "Astronomers found water vapour around a distant planet.",
        "2022-06-30T23:30:00Z",
        POLAR,
        ["Space"],
        "news",
        "article",
        75,
        True,
        "The signal was faint.",
    ),
    Doc(
        "s16",
        "Satellite maps sea ice",
        "A new satellite maps sea ice every day.",
        "2022-07-01T00:00:00Z",
        POLAR,
        ["Space", "Climate"],
        "news",
        "article",
        72,
        True,
        "Data are free to download.",
    ),
    Doc(
        "s17",
        "Undated notes on telescope maintenance",
        "Mirrors need cleaning.",
        None,
        POLAR,
        ["Space"],
        "blog",
        "article",
        None,
        None,
        "Dust is the enemy.",
    ),
    Doc(
        "s18",
        "&lt;script&gt;alert(1)&lt;/script&gt; Robots write the news",
        "Newsrooms test robots that draft reports.",
        "2022-02-01T09:00:00Z",
        TECH,
        ["AI"],
        "blog",
        "article",
        40,
        True,
        "Editors still check every story.",
    ),
]


def by_name(docs: Iterable[Doc]) -> dict[str, Doc]:
    """Every article of ``docs`` (related entries too) by name."""
    found: dict[str, Doc] = {}
    for doc in docs:
        found[doc.name] = doc
        for related in doc.related:
            found[related.name] = related
    return found


ALL_DOCS = by_name(CORPUS)
# name -> id (the webUrl)
ID = {name: doc.url for name, doc in ALL_DOCS.items()}
TOTAL_DOCUMENTS = len(ALL_DOCS)  # 18 files + 2 related entries = 20


def _yaml_lines(doc: Doc, indent: str) -> list[str]:
    lines = [f"title: {json.dumps(doc.title)}"]
    if doc.excerpt:
        lines.append(f"excerpt: {json.dumps(doc.excerpt)}")
    if doc.date:
        lines.append(f"publishedDateTime: {doc.date}")
    lines.append(f"webUrl: {json.dumps(doc.url)}")
    if doc.category:
        lines.append(f"category: {doc.category}")
    if doc.type:
        lines.append(f"type: {doc.type}")
    if doc.quality is not None:
        lines.append(f"quality: {doc.quality}")
    if doc.published is not None:
        lines.append(f"published: {'true' if doc.published else 'false'}")
    if doc.provider:
        lines += ["provider:", f"  name: {json.dumps(doc.provider[0])}", f"  domain: {doc.provider[1]}"]
    if doc.topics:
        lines.append("topics:")
        lines += [f"  - {json.dumps(topic)}" for topic in doc.topics]
    return [indent + line for line in lines]


def article_file_text(doc: Doc) -> str:
    """The file for one article, in the seeds' front-matter shape, related entries included."""
    lines = ["---", *_yaml_lines(doc, "")]
    if doc.related:
        lines.append("related:")
        for rel in doc.related:
            entry = _yaml_lines(rel, "    ")
            entry[0] = "  - " + entry[0].lstrip()
            lines += entry
    lines += ["---", doc.body, ""]
    return "\n".join(lines)


def write_article_file(folder: Path, doc: Doc, mtime: int = 0) -> Path:
    path = folder / f"{doc.name}.md"
    path.write_text(article_file_text(doc), encoding="utf-8")
    stamp = BASE_MTIME + mtime
    os.utime(path, (stamp, stamp))
    return path


def write_corpus(folder: Path, docs: Iterable[Doc] = CORPUS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        write_article_file(folder, doc)
    return folder


def build_corpus_index(root: Path, docs: Iterable[Doc] = CORPUS) -> Path:
    """Write ``docs`` below ``root/corpus`` and build ``root/index`` from them; the index folder."""
    corpus = write_corpus(root / "corpus", docs)
    index = root / "index"
    report = build_index([str(corpus)], index, full=True, lock_timeout=5)
    assert report.failed == 0, report.lines(True)
    return index


def exact_service(index: Path, cache_size: int = 0) -> SearchService:
    """A service whose ranking is text relevance only (no recency or quality boost)."""
    settings = Settings(index_dir=str(index), recency_weight=0, quality_weight=0)
    return SearchService(open_search(settings), cache_size=cache_size)


def default_service(index: Path) -> SearchService:
    """A service with the default recency and quality weights."""
    return SearchService(open_search(Settings(index_dir=str(index))), cache_size=0)


def request(**params: str | list[str]) -> SearchRequest:
    """A SearchRequest from URL-style parameters: ``request(q="solar", provider=["A", "B"])``.

    A trailing underscore is dropped, for names that are Python keywords (``from_``)."""
    values = {name.rstrip("_"): value if isinstance(value, list) else [value] for name, value in params.items()}
    return parse_request(values)


def name_of(doc_id: str) -> str:
    """The name of the article with this id (the last part of its URL)."""
    return doc_id.rsplit("/", 1)[-1]


def names(results: SearchResults) -> list[str]:
    """The names of the hits, in order."""
    return [name_of(hit.id) for hit in results.hits]


def facet_counts(results: SearchResults, facet: str) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in results.facets[facet].values]


@pytest.fixture(scope="module", name="search_index")
def search_index_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus' index, built once per test module."""
    return build_corpus_index(tmp_path_factory.mktemp("search"))


@pytest.fixture(scope="module", name="service")
def service_fixture(search_index: Path) -> SearchService:
    return exact_service(search_index)
