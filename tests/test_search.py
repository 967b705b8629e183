"""search: SearchRequest -> SearchResults on a real index of the hand-made corpus in
search_fixtures (query syntax, filters, facets, sorting, paging, collapse, relaxed matching,
more-like-this, autocomplete, ranking blend, generation switches and the result cache).

Unless a test says otherwise the service ranks by text relevance only (recency_weight and
quality_weight 0) and has no result cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_fixtures import (  # noqa: F401 - fixtures register by being imported
    CORPUS,
    ID,
    TOTAL_DOCUMENTS,
    Doc,
    build_corpus_index,
    default_service,
    exact_service,
    facet_counts,
    name_of,
    names,
    request,
    search_index_fixture,
    service_fixture,
    write_article_file,
)

from searchsvc.engine.whoosh_engine import search as whoosh_search
from searchsvc.errors import QueryError
from searchsvc.indexer import build_index
from searchsvc.search import MAX_QUERY_LENGTH, SearchRequest, parse_request


def found(results) -> set[str]:
    return set(names(results))


# --- query syntax ------------------------------------------------------------------------------


def test_two_words_match_only_articles_containing_both_when_they_fill_the_page(service):
    results = service.search(request(q="solar battery", per_page="1"))

    assert (results.total, names(results)) == (1, ["s01"])
    assert results.relaxed is False


def test_minus_word_alone_matches_the_same_articles_as_not_word(service):
    minus = service.search(request(q="-rocket", collapse="false"))
    negated = service.search(request(q="NOT rocket", collapse="false"))

    assert minus.total == negated.total == TOTAL_DOCUMENTS - 3


def test_query_longer_than_the_limit_is_a_query_error():
    assert request(q="x" * MAX_QUERY_LENGTH).q == "x" * MAX_QUERY_LENGTH
    with pytest.raises(QueryError) as info:
        request(q="x" * (MAX_QUERY_LENGTH + 1))

    assert str(info.value) == f"Parameter 'q' is longer than {MAX_QUERY_LENGTH} characters; shorten the query."
    assert info.value.parameter == "q"


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"domain": "techtimes.example"}, {"r02", "s03", "s05", "s06", "s13", "s18"}),
        (
            {"domain": ["TECHTIMES.EXAMPLE", "polarpress.example"]},
            {"r02", "s03", "s05", "s06", "s13", "s18"} | {"s07", "s08", "s15", "s16", "s17"},
        ),
        ({"topic": ["food", "Politics"]}, {"s07", "s08", "s09"}),
        ({"topic": "Computer Vision"}, {"s06"}),
        ({"category": "blog"}, {"s04", "s05", "s08", "s17", "s18"}),
        ({"type": "video"}, {"s03"}),
        ({"published": "false"}, {"s03", "s06"}),
        ({"q": "solar", "provider": "green wire"}, {"s02"}),
        ({"provider": "Nobody News"}, set()),
    ],
)
def test_filter_keeps_only_articles_with_the_value(service, params, expected):
    results = service.search(request(per_page="50", collapse="false", **params))

    assert found(results) == expected
    assert results.total == len(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"from": ["yesterday"]}, "Parameter 'from' must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got 'yesterday'."),
        ({"to": ["2022-13"]}, "Parameter 'to' must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got '2022-13'."),
        (
            {"from": ["2022-07-01"], "to": ["2022-06-30"]},
            "Parameter 'from' (2022-07-01) is after 'to' (2022-06-30); swap them.",
        ),
        (
            {"provider": ["A"], "colour": ["red"]},
            "Unknown parameter 'colour'. Valid parameters: q, provider, domain, "
            "topic, category, type, published, from, to, sort, page, per_page, facets, facet_size, collapse, typos.",
        ),
        ({"published": ["maybe"]}, "Parameter 'published' must be true or false; got 'maybe'."),
        ({"sort": ["best"]}, "Parameter 'sort' must be one of relevance, newest, oldest, quality; got 'best'."),
        (
            {"facets": ["provider,colour"]},
            "Parameter 'facets' has unknown facet 'colour'; valid: provider, domain, "
            "topic, category, type, date, or none.",
        ),
        ({"q": ["a", "b"]}, "Parameter 'q' was given 2 times; give it once."),
    ],
)
def test_bad_parameters_raise_query_error_naming_the_parameter(raw, message):
    with pytest.raises(QueryError) as info:
        parse_request(raw)

    assert str(info.value) == message


def test_year_month_dates_mean_the_first_and_last_day_of_the_month():
    parsed = parse_request({"from": ["2024-02"], "to": ["2024-02"]})

    assert (parsed.date_from.isoformat(), parsed.date_to.isoformat()) == ("2024-02-01", "2024-02-29")
    december = parse_request({"to": ["2022-12"]})
    assert december.date_to.isoformat() == "2022-12-31"


# --- facets ------------------------------------------------------------------------------------


def test_facets_none_returns_no_facets(service):
    results = service.search(request(q="solar", facets="none"))

    assert results.facets == {}
    assert results.total == 2


def test_date_histogram_uses_months_for_a_span_of_months_and_marks_selected_buckets(service):
    results = service.search(request(topic="space", from_="2022-04-01", to="2022-04-30"))

    assert names(results) == ["s14", "s13"]
    date = results.facets["date"]
    assert date.interval == "month"
    # the date facet ignores the date filter itself, so the other months stay listed
    assert [(v.value, v.count, v.selected, v.start, v.end) for v in date.values] == [
        ("2022-04", 3, True, "2022-04-01", "2022-04-30"),
        ("2022-06", 1, False, "2022-06-01", "2022-06-30"),
        ("2022-07", 1, False, "2022-07-01", "2022-07-31"),
    ]


def test_to_dict_renders_query_totals_and_facets(service):
    data = service.search(request(q="vapour", topic="space", to="2022-06")).to_dict()

    assert data["ok"] is True
    assert data["query"] == {
        "q": "vapour",
        "filters": {"topic": ["space"]},
        "published": None,
        "from": None,
        "to": "2022-06-30",
        "sort": "relevance",
        "collapse": True,
        "typos": True,
    }
    assert (data["total"], data["page"], data["per_page"], data["pages"]) == (1, 1, 10, 1)
    assert [hit["id"] for hit in data["hits"]] == [ID["s15"]]
    assert data["hits"][0]["published"] == "2022-06-30T23:30:00Z"
    assert data["facets"]["topic"]["values"] == [{"value": "Space", "count": 1, "selected": True}]
    assert data["facets"]["date"] == {
        "interval": "day",
        "more": False,
        "values": [{"value": "2022-06-30", "count": 1, "selected": True, "start": "2022-06-30", "end": "2022-06-30"}],
    }
    assert (data["suggestion"], data["relaxed"]) == (None, False)


# --- sorting and paging --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "page_size_max", "message"),
    [
        ({"per_page": ["101"]}, 100, "Parameter 'per_page' must be from 1 to 100; got 101."),
        ({"per_page": ["21"]}, 20, "Parameter 'per_page' must be from 1 to 20; got 21."),
        ({"per_page": ["0"]}, 100, "Parameter 'per_page' must be from 1 to 100; got 0."),
        ({"per_page": ["ten"]}, 100, "Parameter 'per_page' must be a whole number from 1 to 100; got 'ten'."),
        ({"page": ["1001"]}, 100, "Parameter 'page' must be from 1 to 1000; got 1001."),
        ({"page": ["-1"]}, 100, "Parameter 'page' must be from 1 to 1000; got -1."),
    ],
)
def test_page_and_per_page_are_capped(raw, page_size_max, message):
    with pytest.raises(QueryError) as info:
        parse_request(raw, page_size_max=page_size_max)

    assert str(info.value) == message
    assert info.value.parameter == next(iter(raw))


def test_per_page_at_the_cap_is_accepted():
    assert parse_request({"per_page": ["20"]}, page_size_max=20).per_page == 20


# --- collapse ----------------------------------------------------------------------------------


# --- relaxed matching --------------------------------------------------------------------------


def test_relaxed_query_treats_minus_words_like_not_words(service):
    minus = service.search(request(q="solar battery villages telescope rocket -storm"))

    assert minus.relaxed is True
    assert found(minus) == {"s01", "s02", "s03", "s15", "s17", "r01"}


# --- more like this ----------------------------------------------------------------------------


def test_article_returns_the_hit_and_its_related_entries_first(service):
    hit, similar = service.article(ID["s01"])

    assert hit.id == ID["s01"]
    assert hit.title == "Solar panels and batteries power remote villages"
    assert hit.related_ids == [ID["r01"], ID["r02"]]
    assert [name_of(h.id) for h in similar] == ["r01", "r02", "s02", "s03"]


def test_similar_articles_share_distinctive_words(service):
    _, similar = service.article(ID["s06"])

    assert [name_of(h.id) for h in similar] == ["s07"]  # police / policing


# --- autocomplete -----------------------------------------------------------------------------


# --- ranking blend -----------------------------------------------------------------------------


def test_recency_and_quality_never_outweigh_a_strong_text_match(search_index):
    blended = default_service(search_index).search(request(q="glacier"))
    plain = exact_service(search_index).search(request(q="glacier"))

    # s10 (2019) has the word in its title, excerpt and body; s11 (the newest article)
    # mentions it once in its body
    assert names(blended) == ["s10", "s11"]
    # the boost is in effect: the newest article scores higher than on text alone
    assert blended.hits[1].score > plain.hits[1].score


# --- generations and the cache -----------------------------------------------------------------

SMALL = [
    Doc("g01", "Zeppelins return to the sky", "Airships carry cargo again.", "2022-01-01T00:00:00Z"),
    Doc("g02", "Trains beat planes on short trips", "Rail wins.", "2022-01-02T00:00:00Z"),
]


@pytest.fixture
def small_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-article index of its own (these tests change it); generations checked on every search."""
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", 0)
    return build_corpus_index(tmp_path, SMALL)


def rebuild_with(index: Path, doc: Doc) -> None:
    """Write (or rewrite) ``doc`` in the small index's corpus and update the index incrementally."""
    write_article_file(index.parent / "corpus", doc, mtime=60)
    report = build_index([str(index.parent / "corpus")], index, lock_timeout=5)
    assert report.full is False


NEW = Doc("g03", "Zeppelins land in Berlin", "Crowds cheer the airship.", "2022-01-03T00:00:00Z")
DELETIONS_BUG = (
    "BUG: whoosh_snapshot.py line 108 calls leaf.deleted_docs_set(), a cached_property (a frozenset) "
    "in whoosh-reloaded 2.7.5, so every search after an incremental build that changed or deleted "
    "a file raises TypeError: 'frozenset' object is not callable"
)


def test_same_service_sees_a_new_generation_after_an_incremental_build(small_index):
    service = exact_service(small_index)
    before = service.search(request(q="berlin"))
    assert (before.total, before.generation) == (0, "gen-000001")

    rebuild_with(small_index, NEW)
    after = service.search(request(q="berlin"))

    assert (after.total, after.generation, service.generation) == (1, "gen-000002", "gen-000002")
    assert after.hits[0].title == "Zeppelins land in Berlin"
    assert service.search(request()).total == 3


def test_same_service_sees_a_changed_file_after_an_incremental_build(small_index):
    service = exact_service(small_index)
    assert service.search(request(q="hovercraft")).total == 0

    rebuild_with(
        small_index, Doc("g02", "Hovercraft beat planes on short trips", "Rail loses.", "2022-01-02T00:00:00Z")
    )
    after = service.search(request(q="hovercraft"))

    assert (after.total, after.generation) == (1, "gen-000002")
    assert after.hits[0].title == "Hovercraft beat planes on short trips"
    assert service.search(request(q="trains")).total == 0
    assert service.search(request()).total == 2


def test_same_service_stops_finding_a_deleted_file_after_an_incremental_build(small_index):
    service = exact_service(small_index)
    assert service.search(request(q="trains")).total == 1

    (small_index.parent / "corpus" / "g02.md").unlink()
    report = build_index([str(small_index.parent / "corpus")], small_index, lock_timeout=5)

    assert (report.full, report.deleted) == (False, 1)
    assert service.search(request(q="trains")).total == 0
    assert names(service.search(request())) == ["g01"]


def test_engine_checks_for_a_new_generation_at_most_every_check_interval(small_index, monkeypatch):
    service = exact_service(small_index)
    assert service.search(request(q="berlin")).total == 0
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", 3600)

    rebuild_with(small_index, NEW)

    assert service.search(request(q="berlin")).total == 0  # still the generation it last checked
    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", 0)
    assert service.search(request(q="berlin")).total == 1


def test_cache_returns_the_same_results_for_the_same_request(small_index):
    service = exact_service(small_index, cache_size=8)
    first = service.search(request(q="zeppelins"))
    second = service.search(request(q="zeppelins"))

    assert second.hits is first.hits  # served from the cache
    assert (second.total, second.facets, second.generation) == (first.total, first.facets, first.generation)
    assert names(second) == ["g01"]


def test_cache_keeps_at_most_cache_size_results(small_index):
    service = exact_service(small_index, cache_size=1)
    first = service.search(request(q="zeppelins"))
    service.search(request(q="trains"))

    assert service.search(request(q="zeppelins")).hits is not first.hits


def test_new_generation_invalidates_the_cache(small_index):
    service = exact_service(small_index, cache_size=8)
    before = service.search(request(q="zeppelins"))
    assert [h.title for h in before.hits] == ["Zeppelins return to the sky"]

    rebuild_with(small_index, NEW)
    after = service.search(request(q="zeppelins"))

    assert (after.total, after.generation) == (2, "gen-000002")
    assert sorted(h.title for h in after.hits) == ["Zeppelins land in Berlin", "Zeppelins return to the sky"]


# --- dates before 1970 -------------------------------------------------------------------------


def test_article_published_before_1970_keeps_its_date(tmp_path):
    docs = [
        Doc("m01", "Moon landing broadcast live", "Crowds watch the moon landing.", "1969-07-20T20:17:00Z"),
        Doc("m02", "Moon base plans", "Agencies plan a moon base.", "2022-07-20T20:17:00Z"),
    ]
    service = exact_service(build_corpus_index(tmp_path, docs))

    oldest = service.search(request(q="moon", sort="oldest"))
    in_range = service.search(request(q="moon", from_="1969", to="1969"))

    assert [(name_of(h.id), h.published) for h in oldest.hits] == [
        ("m01", "1969-07-20T20:17:00Z"),
        ("m02", "2022-07-20T20:17:00Z"),
    ]
    assert names(in_range) == ["m01"]


def test_request_defaults_match_an_empty_parameter_mapping():
    assert parse_request({}) == SearchRequest()
    assert len(CORPUS) == 18
