"""What each number on the search page counts, on a corpus with syndicated copies: the total folds
copies (and says how many it folded), facet counts count articles, the footer counts documents."""

from __future__ import annotations

import re

import pytest
from test_web_pages import get
from web_fixtures import GREEN, article_file, write_corpus

from searchsvc.indexer import build_index
from searchsvc.web import create_app

# two copies of a01 ("Solar farms power a quiet revolution", Daily Planet, 5 Jan) from Green Wire,
# each within three days of the one before: the three fold into one result
COPIES = [
    ("c1", "Solar farms power a quiet revolution", GREEN, "2022-01-06", ["Energy"], "news", "article", 50),
    ("c2", "Solar farms power a quiet revolution", GREEN, "2022-01-07", ["Energy"], "news", "article", 50),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("copies")
    corpus = write_corpus(folder / "corpus")
    for row in COPIES:
        (corpus / f"{row[0]}.md").write_text(article_file(*row), encoding="utf-8")
    report = build_index([str(corpus)], folder / "index", full=True, lock_timeout=5)
    assert report.failed == 0, report.lines(True)
    return create_app(test_config={"index_dir": str(folder / "index"), "result_cache": 0}).test_client()


def heading(page) -> str:
    return re.sub(r" in (\d+|under 1) ms$", "", page.texts("h1")[0])


def test_the_total_says_how_many_copies_it_folded_which_with_it_make_the_documents_in_the_footer(client):
    page = get(client, "/")

    assert heading(page) == "13 results (2 syndicated copies folded)"
    assert page.texts("footer") == ["Index generation gen-000001 · 15 documents API"]
    assert page.texts("p", class_="count-note") == ["Counts are of articles, syndicated copies included."]


def test_ticking_a_facet_value_shows_its_count_less_the_copies_folded(client):
    before = get(client, "/?q=solar")
    after = get(client, "/?q=solar&provider=Green+Wire")

    assert heading(before) == "3 results for “solar” (2 syndicated copies folded)"
    provider = dict(zip(before.texts("span", class_="facet-name"), before.texts("span", class_="count"), strict=False))
    assert provider["Green Wire"] == "4"
    assert heading(after) == "3 results for “solar” (1 syndicated copy folded)"


def test_without_folded_copies_the_numbers_need_no_note(client):
    page = get(client, "/?q=batteries")
    unfolded = get(client, "/?q=solar&collapse=false")

    assert heading(page) == "1 result for “batteries”"
    assert page.find("p", class_="count-note") == []
    assert heading(unfolded) == "5 results for “solar”"
    assert unfolded.find("p", class_="count-note") == []


def test_the_count_of_articles_is_not_taken_from_the_shown_page(client):
    page = get(client, "/?q=solar&per_page=1&page=3")

    assert heading(page) == "3 results for “solar” (2 syndicated copies folded)"
