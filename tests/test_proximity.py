"""Term proximity: of two articles with the same words, the one where the query's words stand
together ranks first; a single word, a date sort or a relaxed (some-of-the-words) match is left
as BM25 ranks it."""

from __future__ import annotations

from searchsvc.config import Settings
from searchsvc.engine import open_search
from searchsvc.indexer import build_index
from searchsvc.search import SearchService, parse_request

APART = "Rates went up in the city while interest in government bonds fell sharply today."
TOGETHER = "Interest rates went up in the city while government bonds fell sharply today."


def _service(write_article, corpus, index_dir) -> SearchService:
    # the same words, the same length, the same date: only their order differs
    # (different titles without the query's words: copies with one title would be collapsed)
    write_article("a.md", "Markets on Monday", "https://news.example/apart", body=APART, mtime=0)
    write_article("b.md", "Bond markets", "https://news.example/together", body=TOGETHER, mtime=0)
    write_article("c.md", "Weather", "https://news.example/weather", body="Rain in the city today.", mtime=0)
    build_index([corpus], index_dir, full=True)
    return SearchService(open_search(Settings(index_dir=str(index_dir))), cache_size=0)


def _ids(service: SearchService, **params) -> list[str]:
    request = parse_request({key: [value] for key, value in params.items()})
    return [hit.id for hit in service.search(request).hits]


def test_the_article_with_the_words_side_by_side_ranks_first(write_article, corpus, index_dir):
    service = _service(write_article, corpus, index_dir)

    assert _ids(service, q="interest rates") == ["https://news.example/together", "https://news.example/apart"]
    assert _ids(service, q="rates interest") == ["https://news.example/together", "https://news.example/apart"]


def test_one_word_and_date_sorts_are_ranked_without_proximity(write_article, corpus, index_dir):
    service = _service(write_article, corpus, index_dir)
    request = parse_request({"q": ["interest"]})
    scores = {hit.id: hit.score for hit in service.search(request).hits}

    assert scores["https://news.example/together"] == scores["https://news.example/apart"]
    assert _ids(service, q="interest rates", sort="oldest") == [
        "https://news.example/apart",
        "https://news.example/together",
    ]


def test_a_relaxed_match_is_ranked_without_proximity(write_article, corpus, index_dir):
    service = _service(write_article, corpus, index_dir)
    request = parse_request({"q": ["interest rates zeppelin"]})
    results = service.search(request)
    scores = {hit.id: hit.score for hit in results.hits}

    assert results.relaxed is True
    assert scores["https://news.example/together"] == scores["https://news.example/apart"]
