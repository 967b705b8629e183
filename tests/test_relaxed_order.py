"""Relaxed matches: a short query (up to four words) keeps the articles with every word first;
a longer one is ranked by score alone, so a long article that happens to hold every word does
not jump ahead of a short one about most of them, and its function words ("what", "does") are
not searched for."""

from __future__ import annotations

import pytest

from searchsvc.config import Settings
from searchsvc.engine import open_search
from searchsvc.engine.ranking import DEFAULT_RANKING
from searchsvc.indexer import build_index
from searchsvc.search import SearchService, parse_request

FILLER = " ".join(f"word{n} sentence{n} paragraph{n}" for n in range(150))
LONG = f"{FILLER} glacier turbine harbour copper lantern {FILLER}"


@pytest.fixture
def service(write_article, corpus, index_dir) -> SearchService:
    write_article("long.md", "A long report", "https://news.example/long", body=LONG)
    write_article("short.md", "Glacier turbine harbour copper", "https://news.example/short", body="Glacier turbine.")
    write_article(
        "chatter.md", "Questions", "https://news.example/chatter", body="What does it have? What would they do?"
    )
    for n in range(8):  # articles without the words, so that the words are rare (positive idf)
        write_article(f"other{n}.md", f"Weather note {n}", f"https://news.example/other{n}", body=f"Rain {n}.")
    build_index([corpus], index_dir, full=True)
    return SearchService(open_search(Settings(index_dir=str(index_dir))), cache_size=0)


def _ranked(service: SearchService, q: str) -> list[tuple[str, float]]:
    results = service.search(parse_request({"q": [q]}))
    assert results.relaxed is True
    return [(hit.id.rsplit("/", 1)[1], hit.score) for hit in results.hits]


def test_a_long_relaxed_query_is_ranked_by_score(service):
    ranked = _ranked(service, "glacier turbine harbour copper lantern")

    assert len("glacier turbine harbour copper lantern".split()) > DEFAULT_RANKING.and_like_words
    assert [name for name, _ in ranked] == ["short", "long"]


def test_a_short_relaxed_query_keeps_the_article_with_every_word_first(service):
    ranked = _ranked(service, "glacier lantern")

    assert [name for name, _ in ranked] == ["long", "short"]
    assert ranked[0][1] < ranked[1][1]  # first although it scores lower


def test_a_long_relaxed_query_does_not_search_its_function_words(service):
    ranked = _ranked(service, "what does glacier turbine harbour copper have")

    assert [name for name, _ in ranked] == ["short", "long"]


def test_a_short_relaxed_query_keeps_its_function_words(service):
    ranked = _ranked(service, "what glacier")

    assert sorted(name for name, _ in ranked) == ["chatter", "long", "short"]
