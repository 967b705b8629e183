"""The contract of result order, paging and collapse: every sort (undated and unrated articles
last), the documented relevance orders (a title match above a body mention, articles with every
word before those with some, relaxed matches after complete ones), honest totals across pages,
and syndicated copies folded into one hit.

Where engines may rank near-ties differently (BM25 variants), sets and counts are compared, not
order."""

from __future__ import annotations

import pytest
from contract_support import found, names, request, search

from searchsvc.search import SearchService

# --- sorts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["s02", "s01", "k03", "k02", "k01", "s03"]),
        ("oldest", ["k01", "k02", "k03", "s01", "s02", "s03"]),
        ("quality", ["s01", "s02", "k03", "k02", "k01", "s03"]),
        # without a query, relevance means newest first
        ("relevance", ["s02", "s01", "k03", "k02", "k01", "s03"]),
    ],
)
def test_each_sort_orders_the_articles_and_puts_undated_and_unrated_ones_last(engine, sort, expected):
    page = search(engine, topic="space", sort=sort, collapse="false")

    assert names(page) == expected


@pytest.mark.parametrize(
    ("q", "sort", "expected"),
    [
        ("glacier", "newest", ["g02", "g01"]),
        ("rocket", "oldest", ["k01", "k02", "k03"]),
        ("rocket", "newest", ["k03", "k02", "k01"]),
        ("rocket", "quality", ["k03", "k02", "k01"]),
    ],
)
def test_a_sort_with_a_query_orders_the_matches_by_that_sort_not_by_score(engine, q, sort, expected):
    page = search(engine, q=q, sort=sort, collapse="false")

    assert names(page) == expected


# --- relevance -----------------------------------------------------------------------------------


def test_an_article_with_the_word_in_its_title_ranks_above_a_newer_one_with_it_in_its_body(engine):
    page = search(engine, q="glacier")

    # g01 (2020) has the word in its title, excerpt and body; g02 (the newest article) once in its body
    assert (names(page), page.relaxed) == (["g01", "g02"], False)
    assert page.hits[0].score > page.hits[1].score


def test_an_article_with_the_words_side_by_side_ranks_above_one_with_them_apart(engine):
    page = search(engine, q="heat pumps")

    # e04: "Heat pumps replace gas boilers"; e05: "Pumps move heat out of data centres"
    assert (names(page), page.relaxed) == (["e04", "e05"], False)


def test_a_short_query_keeps_the_article_with_every_word_above_a_stronger_partial_match(engine):
    page = search(engine, q="glacier nearby")

    # only g02 holds both words (deep in a long body); g01 holds "glacier" in its title
    assert (names(page), page.relaxed) == (["g02", "g01"], True)


def test_too_few_complete_matches_are_followed_by_articles_with_some_of_the_words(engine):
    page = search(engine, q="solar battery")

    assert (page.total, page.relaxed) == (3, True)
    assert names(page)[0] == "e01"  # the only article with both words
    assert found(page) == {"e01", "e02", "e03"}


def test_a_query_whose_complete_matches_are_all_there_is_is_not_relaxed(engine):
    page = search(engine, q="rocket storm", collapse="false")

    assert (page.total, found(page), page.relaxed) == (3, {"k01", "k02", "k03"}, False)


def test_a_long_query_without_a_complete_match_finds_articles_with_some_of_its_words(engine):
    page = search(engine, q="solar battery villages telescope rocket", collapse="false")

    assert (page.total, page.relaxed) == (8, True)
    assert found(page) == {"e01", "e02", "e03", "s01", "s03", "k01", "k02", "k03"}
    assert names(page)[0] == "e01"  # three of the five words; every other article has one


@pytest.mark.parametrize(
    "q", ["solar battery villages telescope rocket NOT storm", "solar battery villages telescope rocket -storm"]
)
def test_a_relaxed_query_still_excludes_its_not_words(engine, q):
    page = search(engine, q=q)

    assert (page.total, page.relaxed) == (5, True)
    assert found(page) == {"e01", "e02", "e03", "s01", "s03"}
    assert names(page)[0] == "e01"


@pytest.mark.parametrize(
    ("q", "expected", "relaxed"),
    [
        # nothing holds every part: e04 holds the phrase (or "pumps" in its title) and "winter"
        ('"heat pumps" solar winter', ["e04"], True),
        ("title:pumps solar winter", ["e04"], True),
        # Industry articles (e03, e05) hold neither word; no Orbit Observer article either
        ("topic:industry solar winter", [], False),
        ("provider:orbit solar winter", [], False),
    ],
)
def test_a_relaxed_query_keeps_its_phrases_and_field_values_required(engine, q, expected, relaxed):
    page = search(engine, q=q, collapse="false")

    assert (names(page), page.total, page.relaxed) == (expected, len(expected), relaxed)


# --- paging and totals ---------------------------------------------------------------------------


def test_pages_split_the_results_and_the_total_stays_honest(engine):
    every = search(engine, per_page="100")
    pages = [search(engine, per_page="7", page=str(number)) for number in (1, 2, 3)]

    assert every.total == 19  # 20 articles, two of them syndicated copies folded into one hit
    assert [page.total for page in pages] == [19, 19, 19]
    assert [len(page.hits) for page in pages] == [7, 7, 5]
    assert [hit.id for page in pages for hit in page.hits] == [hit.id for hit in every.hits]


def test_pages_of_a_query_concatenate_to_its_full_result_list(engine):
    every = search(engine, q="solar OR battery OR rocket OR glacier", collapse="false", per_page="50")
    pages = [
        search(engine, q="solar OR battery OR rocket OR glacier", collapse="false", per_page="3", page=str(n))
        for n in (1, 2, 3)
    ]

    assert every.total == 8
    assert [page.total for page in pages] == [8, 8, 8]
    assert [len(page.hits) for page in pages] == [3, 3, 2]
    assert [hit.id for page in pages for hit in page.hits] == [hit.id for hit in every.hits]


def test_a_page_beyond_the_end_is_empty_not_an_error(engine):
    results = SearchService(engine, cache_size=0).search(request(per_page="7", page="4"))

    assert (results.total, results.hits, results.page, results.pages) == (19, [], 4, 3)


# --- collapse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("oldest", [("k01", 1), ("k03", 0)]), ("newest", [("k03", 0), ("k02", 1)])],
)
def test_syndicated_copies_fold_into_the_first_copy_in_result_order(engine, sort, expected):
    page = search(engine, q="rocket", sort=sort)

    # k01 and k02 share a title (less k01's " - Harbour Herald") 36 hours apart; k03 comes 10 days later
    assert page.total == 2
    assert [(name, hit.duplicates) for name, hit in zip(names(page), page.hits, strict=True)] == expected


def test_syndicated_copies_fold_by_relevance_too(engine):
    page = search(engine, q="rocket")

    assert (page.total, page.folded) == (2, 1)
    folded = {name: hit.duplicates for name, hit in zip(names(page), page.hits, strict=True)}
    assert folded.pop("k03") == 0
    assert list(folded.values()) == [1] and set(folded) <= {"k01", "k02"}


def test_collapse_false_shows_every_copy(engine):
    page = search(engine, q="rocket", collapse="false")

    assert (page.total, page.folded, found(page)) == (3, 0, {"k01", "k02", "k03"})
    assert [hit.duplicates for hit in page.hits] == [0, 0, 0]


def test_collapse_applies_after_filters(engine):
    # with only Orbit Observer's copy left, there is nothing to fold
    page = search(engine, q="rocket", provider="Orbit Observer")

    assert [(name, hit.duplicates) for name, hit in zip(names(page), page.hits, strict=True)] == [("k02", 0)]


def test_on_a_small_index_a_word_in_every_article_still_scores_positive_and_ordered(fresh_index):
    from contract_corpus import Doc, write_article_file

    day = "2022-01-0{}T00:00:00Z"
    desk = ("News Desk", "desk.example")
    for doc in (
        Doc("w01", "Report on harbour traffic", "Ships queue.", day.format(1), desk),
        Doc("w02", "Harbour traffic eases", "A report says ships move.", day.format(1), desk),
        Doc("w03", "Ships move again", "Crews cheer.", day.format(1), desk, body="The report came late."),
    ):
        write_article_file(fresh_index.source, doc)
    fresh_index.build(full=True)
    engine = fresh_index.open()
    try:
        page = search(engine, q="report")
    finally:
        engine.close()

    # "report" is in all three articles (idf at its floor): the title match first, the body last
    assert names(page) == ["w01", "w02", "w03"]
    scores = [hit.score for hit in page.hits]
    assert scores[2] > 0 and scores == sorted(scores, reverse=True) and len(set(scores)) == 3
