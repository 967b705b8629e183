"""The contract of filters and facets: filter values (any of a facet's values, all of the facets),
inclusive UTC date ranges, facet counts that ignore their own facet's selection (multi-select),
facet_size, selected values always listed, and the date histogram's day/month/year buckets."""

from __future__ import annotations

import pytest
from contract_corpus import TOTAL_DOCUMENTS
from contract_support import date_buckets, facet_counts, found, names, search

from searchsvc.request import FACETS

ALL_TOPICS = [
    ("Space", 6, False),
    ("Energy", 4, False),
    ("Climate", 3, False),
    ("AI", 2, False),
    ("Food", 2, False),
    ("Industry", 2, False),
    ("Politics", 2, False),
    ("Computer Vision", 1, False),
    ("Travel", 1, False),
]

# --- filters -------------------------------------------------------------------------------------


def test_several_providers_mean_any_of_them_matched_case_insensitively(engine):
    page = search(engine, provider=["valley voice", "METRO LEDGER"], per_page="50", collapse="false")

    assert page.total == 9
    assert found(page) == {"e02", "r01", "f02", "g01", "k03", "p02", "f01", "s02", "s03"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # the domain filter is the exact domain: a01 is on labs.orbitobserver.example
        ({"domain": "orbitobserver.example"}, {"e03", "e05", "r02", "p01", "k02", "s01"}),
        (
            {"domain": ["ORBITOBSERVER.EXAMPLE", "labs.orbitobserver.example"]},
            {"e03", "e05", "r02", "p01", "k02", "s01", "a01"},
        ),
        ({"topic": ["food", "Politics"]}, {"f01", "f02", "p02"}),
        ({"topic": "Computer Vision"}, {"p01"}),
        ({"category": "blog"}, {"e04", "e05", "f01", "s03", "a01"}),
        ({"type": "video"}, {"e03"}),
        ({"published": "false"}, {"e03", "p01"}),
        ({"q": "solar", "provider": "valley voice"}, {"e02"}),
        ({"topic": "Energy", "category": "blog"}, {"e04"}),
        ({"topic": "Energy", "provider": "Orbit Observer", "type": "video"}, {"e03"}),
        ({"provider": "Nobody News"}, set()),
    ],
)
def test_a_filter_keeps_only_articles_with_one_of_its_values_and_filters_combine(engine, params, expected):
    page = search(engine, per_page="50", collapse="false", **params)

    assert (page.total, found(page)) == (len(expected), expected)


def test_published_true_excludes_false_and_unknown_flags(engine):
    page = search(engine, published="true", per_page="50", collapse="false")

    assert page.total == TOTAL_DOCUMENTS - 5
    assert not found(page) & {"e03", "p01", "s03", "r01", "r02"}


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        # s01 is published at 23:30 UTC on 2023-06-30, s02 at 00:00 UTC on 2023-07-01; s03 has no date
        ({"to": "2023-06-30"}, ["s01", "k03", "k02", "k01"]),
        ({"to": "2023-06"}, ["s01", "k03", "k02", "k01"]),
        ({"from": "2023-07-01"}, ["s02"]),
        ({"from": "2023-07", "to": "2023-07"}, ["s02"]),
        ({"from": "2023-06-30", "to": "2023-06-30"}, ["s01"]),
        ({"from": "2023-04-02", "to": "2023-04-12"}, ["k03", "k02"]),
        ({"from": "2023", "to": "2023"}, ["s02", "s01", "k03", "k02", "k01"]),
        ({"from": "2024"}, []),
    ],
)
def test_from_and_to_are_inclusive_utc_days_and_exclude_undated_articles(engine, dates, expected):
    params = {"from_" if name == "from" else name: value for name, value in dates.items()}
    page = search(engine, topic="space", collapse="false", **params)

    assert (names(page), page.total) == (expected, len(expected))


# --- facets --------------------------------------------------------------------------------------


def test_facets_count_every_value_over_all_articles_most_frequent_first_then_by_value(engine):
    page = search(engine, collapse="false")

    assert page.total == TOTAL_DOCUMENTS
    assert set(page.facets) == set(FACETS)
    assert facet_counts(page, "provider") == [
        ("Orbit Observer", 7, False),
        ("Valley Voice", 5, False),
        ("Harbour Herald", 4, False),
        ("Metro Ledger", 4, False),
    ]
    assert facet_counts(page, "domain") == [
        ("orbitobserver.example", 6, False),
        ("valleyvoice.example", 5, False),
        ("harbourherald.example", 4, False),
        ("metroledger.example", 4, False),
        ("labs.orbitobserver.example", 1, False),
    ]
    assert facet_counts(page, "topic") == ALL_TOPICS
    # the related entries r01 and r02 have no category or type: empty values are not listed
    assert facet_counts(page, "category") == [("news", 13, False), ("blog", 5, False)]
    assert facet_counts(page, "type") == [("article", 17, False), ("video", 1, False)]
    assert [page.facets[name].more for name in ("provider", "domain", "topic", "category", "type")] == [False] * 5


def test_facets_count_only_the_articles_matching_the_query(engine):
    page = search(engine, q="energy")

    assert found(page) == {"e01", "e02", "e03", "e04"}
    assert facet_counts(page, "provider") == [
        ("Harbour Herald", 2, False),
        ("Orbit Observer", 1, False),
        ("Valley Voice", 1, False),
    ]
    assert facet_counts(page, "topic") == [("Energy", 4, False), ("Climate", 1, False), ("Industry", 1, False)]
    assert facet_counts(page, "type") == [("article", 3, False), ("video", 1, False)]


def test_a_selected_provider_still_lists_the_other_providers_while_other_facets_count_its_articles(engine):
    page = search(engine, q="energy", provider="Harbour Herald")

    assert found(page) == {"e01", "e04"}
    assert facet_counts(page, "provider") == [
        ("Harbour Herald", 2, True),
        ("Orbit Observer", 1, False),
        ("Valley Voice", 1, False),
    ]
    assert facet_counts(page, "topic") == [("Energy", 2, False), ("Climate", 1, False)]
    assert facet_counts(page, "domain") == [("harbourherald.example", 2, False)]
    assert facet_counts(page, "category") == [("blog", 1, False), ("news", 1, False)]
    assert facet_counts(page, "type") == [("article", 2, False)]


@pytest.mark.parametrize(
    ("facet", "value"),
    [
        ("provider", "Valley Voice"),
        ("domain", "metroledger.example"),
        ("topic", "Climate"),
        ("category", "blog"),
        ("type", "video"),
    ],
)
def test_selecting_a_value_leaves_its_own_facets_counts_as_they_were(engine, facet, value):
    unselected = search(engine, q="solar OR battery OR glacier OR telescope OR café", facets=facet)
    selected = search(engine, q="solar OR battery OR glacier OR telescope OR café", facets=facet, **{facet: value})

    assert selected.total < unselected.total
    assert facet_counts(selected, facet) == [
        (name, count, name == value) for name, count, _ in facet_counts(unselected, facet)
    ]


def test_two_selected_values_of_one_facet_are_both_marked_and_widen_the_results(engine):
    page = search(engine, q="energy", provider=["Harbour Herald", "valley voice"])

    assert found(page) == {"e01", "e02", "e04"}
    assert facet_counts(page, "provider") == [
        ("Harbour Herald", 2, True),
        ("Orbit Observer", 1, False),
        ("Valley Voice", 1, True),
    ]


def test_selections_in_two_facets_each_count_under_the_other_facets_selection(engine):
    page = search(engine, topic="Energy", provider="Orbit Observer")

    assert (page.total, names(page)) == (1, ["e03"])
    # topics of Orbit Observer's articles (e03, e05, r02, p01, k02, s01, a01)
    assert facet_counts(page, "topic") == [
        ("AI", 2, False),
        ("Industry", 2, False),
        ("Space", 2, False),
        ("Computer Vision", 1, False),
        ("Energy", 1, True),
    ]
    # providers of the Energy articles (e01, e02, e03, e04)
    assert facet_counts(page, "provider") == [
        ("Harbour Herald", 2, False),
        ("Orbit Observer", 1, True),
        ("Valley Voice", 1, False),
    ]
    assert facet_counts(page, "type") == [("video", 1, False)]


def test_facet_size_lists_the_first_values_of_the_full_ordered_list(engine):
    for size in range(1, len(ALL_TOPICS) + 1):
        page = search(engine, facets="topic", facet_size=str(size), collapse="false")

        assert facet_counts(page, "topic") == ALL_TOPICS[:size], size
        assert page.facets["topic"].more is (size < len(ALL_TOPICS)), size


def test_a_selected_value_outside_the_top_values_is_still_listed(engine):
    page = search(engine, provider="metro ledger", facet_size="1", facets="provider")

    assert list(page.facets) == ["provider"]
    assert facet_counts(page, "provider") == [("Orbit Observer", 7, False), ("Metro Ledger", 4, True)]
    assert page.facets["provider"].more is True


def test_a_selected_value_with_no_matching_article_is_listed_with_count_zero(engine):
    page = search(engine, q="solar", provider="Metro Ledger", facet_size="1")

    assert (page.total, page.hits) == (0, [])
    assert facet_counts(page, "provider") == [("Harbour Herald", 1, False), ("Metro Ledger", 0, True)]


def test_a_selected_value_unknown_to_the_index_is_listed_with_count_zero(engine):
    page = search(engine, q="solar", topic=["Energy", "Underwater Basket Weaving"])

    assert found(page) == {"e01", "e02"}
    assert facet_counts(page, "topic") == [
        ("Energy", 2, True),
        ("Climate", 1, False),
        ("Underwater Basket Weaving", 0, True),
    ]


def test_only_the_facets_asked_for_are_counted(engine):
    two = search(engine, q="solar", facets="provider,date")
    none = search(engine, q="solar", facets="none")

    assert set(two.facets) == {"provider", "date"}
    assert (none.facets, none.total) == ({}, 2)


# --- the date histogram --------------------------------------------------------------------------


def test_date_histogram_uses_years_for_a_span_of_several_years(engine):
    page = search(engine)

    assert page.facets["date"].interval == "year"
    assert date_buckets(page) == [
        ("2020", 1, False, "2020-01-01", "2020-12-31"),
        ("2022", 2, False, "2022-01-01", "2022-12-31"),
        ("2023", 16, False, "2023-01-01", "2023-12-31"),
    ]


def test_date_histogram_uses_months_for_a_span_of_months_and_ignores_the_date_filter(engine):
    page = search(engine, topic="space", from_="2023-04-01", to="2023-04-30", collapse="false")

    assert names(page) == ["k03", "k02", "k01"]
    assert page.facets["date"].interval == "month"
    # s01 (23:30 UTC on June 30) counts in June, s02 (00:00 UTC on July 1) in July
    assert date_buckets(page) == [
        ("2023-04", 3, True, "2023-04-01", "2023-04-30"),
        ("2023-06", 1, False, "2023-06-01", "2023-06-30"),
        ("2023-07", 1, False, "2023-07-01", "2023-07-31"),
    ]


def test_date_histogram_uses_days_for_a_span_of_days_and_marks_the_selected_days(engine):
    page = search(engine, topic="food", from_="2023-05-22")

    assert names(page) == ["f02"]
    assert page.facets["date"].interval == "day"
    assert date_buckets(page) == [
        ("2023-05-20", 1, False, "2023-05-20", "2023-05-20"),
        ("2023-05-22", 1, True, "2023-05-22", "2023-05-22"),
    ]


def test_date_histogram_counts_under_the_other_filters_and_lists_only_months_with_articles(engine):
    page = search(engine, provider="Metro Ledger")

    assert found(page) == {"p02", "f01", "s02", "s03"}
    # from 2022-06-01 to 2023-07-01: more than 62 days, less than three years
    assert page.facets["date"].interval == "month"
    assert date_buckets(page) == [
        ("2022-06", 1, False, "2022-06-01", "2022-06-30"),
        ("2023-05", 1, False, "2023-05-01", "2023-05-31"),
        ("2023-07", 1, False, "2023-07-01", "2023-07-31"),
    ]


def test_date_histogram_of_only_undated_articles_is_empty(engine):
    page = search(engine, q="mirrors")

    assert names(page) == ["s03"]
    assert (page.facets["date"].values, page.facets["date"].interval) == ([], "month")
