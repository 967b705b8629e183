"""The contract suite's corpus: hand-written articles, each there for the assertions that name it,
written as front-matter files in the seeds' shape (tests/contract/conftest.py builds them).

Every article's id is its webUrl, ``https://<domain>/<name>``: ``ID[name]`` spells it out and
``name_of(id)`` reads the name back. Dates are UTC.

What the articles are for:

- e01-e05 and their related entries r01, r02: the query language (solar, battery, heat pumps),
  more-like-this (e01 lists r01 and r02), the date histogram's months.
- p01, p02: stemming (police / policing); more-like-this by a shared distinctive word.
- f01, f02: accent folding (café / cafe).
- g01, g02: a title match above a newer body mention (glacier), did-you-mean (glacer), a body
  fragment highlight (g01's long body), a complete match kept above a stronger partial one.
- k01-k03: collapse (k01 and k02 are syndicated copies 36 hours apart; k03, same title, ten days
  later, is not).
- s01-s03: date filters at day edges (23:30 on June 30 against 00:00 on July 1), an undated and
  unrated article (s03) sorted last.
- a01: a title holding literal HTML, and a second domain for the Orbit Observer provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import search_fixtures
from search_fixtures import BASE_MTIME, Doc, name_of  # noqa: F401 - the corpus' shape, shared with the other tests

# A fixed mtime, so an incremental build never depends on the clock's resolution.

HARBOUR = ("Harbour Herald", "harbourherald.example")
VALLEY = ("Valley Voice", "valleyvoice.example")
ORBIT = ("Orbit Observer", "orbitobserver.example")
ORBIT_LABS = ("Orbit Observer", "labs.orbitobserver.example")
METRO = ("Metro Ledger", "metroledger.example")

GLACIER_BODY = (
    "Measurements span forty years. Teams climbed to the same stakes every summer, drilled new "
    "holes, read the old markers and compared photographs taken by their predecessors on the "
    "ridge above the valley, where the snow line has crept higher with each decade of records. "
    "The survey crews now carry radar that maps the bedrock below the ice, and drones that "
    "photograph the crevasses from above. By the last survey the glacier had lost a third of its ice."
)

SKI_BODY = (
    "Lift operators spent the autumn testing snow cannons on the lower runs, and the hotels in the "
    "resort hired fewer seasonal staff than last year. Instructors expect short queues in January "
    "and crowded weekends in February, when the school holidays begin. One guide mentioned a glacier "
    "nearby, but most of the slopes lie far lower, and the resort's own forecast promises rain "
    "before snow for the first fortnight of the season."
)


CORPUS: list[Doc] = [
    Doc(
        "e01",
        "Solar panels and batteries power island villages",
        "Cheap solar panels paired with battery storage bring electricity to island homes.",
        "2023-03-01T10:00:00Z",
        HARBOUR,
        ["Energy", "Climate"],
        "news",
        "article",
        70,
        True,
        "Engineers installed the arrays last spring.",
        related=[
            Doc(
                "r01",
                "Island microgrids spread along the coast",
                "Microgrids bring power to rural homes.",
                "2023-02-20T09:00:00Z",
                VALLEY,
            ),
            Doc(
                "r02", "Lithium prices tumble", "Cell materials for storage get cheaper.", "2023-02-25T09:00:00Z", ORBIT
            ),
        ],
    ),
    Doc(
        "e02",
        "Solar farm opens on a former coal mine",
        "A new solar farm replaces the coal mine above the valley.",
        "2023-03-05T10:00:00Z",
        VALLEY,
        ["Energy"],
        "news",
        "article",
        60,
        True,
        "The mine closed ten years ago.",
    ),
    Doc(
        "e03",
        "Battery recycling plant breaks ground",
        "Old lithium cells get a second life.",
        "2023-03-10T10:00:00Z",
        ORBIT,
        ["Energy", "Industry"],
        "news",
        "video",
        50,
        False,
        "The plant will employ two hundred workers.",
    ),
    Doc(
        "e04",
        "Heat pumps replace gas boilers in old houses",
        "Installers say heat pumps cut winter bills.",
        "2023-03-15T10:00:00Z",
        HARBOUR,
        ["Energy"],
        "blog",
        "article",
        80,
        True,
        "Grants cover part of the cost.",
    ),
    Doc(
        "e05",
        "Pumps move heat out of data centres",
        "Liquid cooling pumps carry warmth away from servers, and heat leaves the building.",
        "2023-03-20T10:00:00Z",
        ORBIT,
        ["Industry"],
        "blog",
        "article",
        52,
        True,
        "Servers run cooler.",
    ),
    Doc(
        "p01",
        "Police adopt facial recognition downtown",
        "Officers will deploy facial recognition software.",
        "2022-02-16T03:47:00Z",
        ORBIT,
        ["AI", "Computer Vision"],
        "news",
        "article",
        39,
        False,
        "Critics worry about mistakes.",
    ),
    Doc(
        "p02",
        "City council debates policing budget",
        "The council voted on reforms after a long night.",
        "2022-06-01T12:00:00Z",
        METRO,
        ["Politics"],
        "news",
        "article",
        45,
        True,
        "Residents spoke for hours.",
    ),
    Doc(
        "f01",
        "Best café in town serves cold brew",
        "The café roasts its own beans.",
        "2023-05-20T08:00:00Z",
        METRO,
        ["Food"],
        "blog",
        "article",
        30,
        True,
        "Queues form every morning.",
    ),
    Doc(
        "f02",
        "Cafe owners fight rent increases",
        "Owners protest outside city hall.",
        "2023-05-22T08:00:00Z",
        VALLEY,
        ["Food", "Politics"],
        "news",
        "article",
        55,
        True,
        "Landlords declined to comment.",
    ),
    Doc(
        "g01",
        "Glacier melt accelerates in the Alps",
        "Glacier melt doubled in a decade, scientists say.",
        "2020-01-10T09:00:00Z",
        VALLEY,
        ["Climate"],
        "news",
        "article",
        65,
        True,
        GLACIER_BODY,
    ),
    Doc(
        "g02",
        "Ski resorts prepare for a short season",
        "Resorts make artificial snow as winters warm.",
        "2023-12-30T09:00:00Z",
        HARBOUR,
        ["Travel"],
        "news",
        "article",
        50,
        True,
        SKI_BODY,
    ),
    Doc(
        "k01",
        "Rocket Launch Delayed By Storm - Harbour Herald",
        "High winds kept the rocket on the pad.",
        "2023-04-01T08:00:00Z",
        HARBOUR,
        ["Space"],
        "news",
        "article",
        61,
        True,
        "A new window opens next week.",
    ),
    Doc(
        "k02",
        "rocket launch delayed by storm",
        "High winds kept the rocket on the pad, officials said.",
        "2023-04-02T20:00:00Z",
        ORBIT,
        ["Space"],
        "news",
        "article",
        62,
        True,
        "A new window opens next week.",
    ),
    Doc(
        "k03",
        "Rocket launch delayed by storm",
        "The launch slipped again after another storm.",
        "2023-04-12T08:00:00Z",
        VALLEY,
        ["Space"],
        "news",
        "article",
        63,
        True,
        "Engineers remain hopeful.",
    ),
    Doc(
        "s01",
        "Telescope spots water vapour",
        "Astronomers found water vapour around a distant planet.",
        "2023-06-30T23:30:00Z",
        ORBIT,
        ["Space"],
        "news",
        "article",
        75,
        True,
        "The signal was faint.",
    ),
    Doc(
        "s02",
        "Satellite maps sea ice",
        "A new satellite maps sea ice every day.",
        "2023-07-01T00:00:00Z",
        METRO,
        ["Space", "Climate"],
        "news",
        "article",
        72,
        True,
        "Data are free to download.",
    ),
    Doc(
        "s03",
        "Undated notes on telescope maintenance",
        "Mirrors need cleaning.",
        None,
        METRO,
        ["Space"],
        "blog",
        "article",
        None,
        None,
        "Dust is the enemy.",
    ),
    # the YAML holds the title HTML-escaped; the indexer keeps it as the literal text "<b>...</b>"
    Doc(
        "a01",
        "&lt;b&gt;Robots&lt;/b&gt; draft reports in busy newsrooms",
        "Newsrooms test robots that write drafts.",
        "2023-02-01T09:00:00Z",
        ORBIT_LABS,
        ["AI"],
        "blog",
        "article",
        40,
        True,
        "Editors still check every story.",
    ),
]
# fmt: on

ALL_DOCS = search_fixtures.by_name(CORPUS)
ID = {name: doc.url for name, doc in ALL_DOCS.items()}
TOTAL_DOCUMENTS = len(ALL_DOCS)  # 18 files + 2 related entries = 20


def write_article_file(folder: Path, doc: Doc, mtime: int = 0) -> Path:
    """Write ``doc`` as ``folder/<name>.md`` (the folder made if missing), mtime BASE_MTIME + ``mtime``."""
    folder.mkdir(parents=True, exist_ok=True)
    return search_fixtures.write_article_file(folder, doc, mtime)


def write_corpus(folder: Path, docs: Iterable[Doc] = CORPUS) -> Path:
    return search_fixtures.write_corpus(folder, docs)
