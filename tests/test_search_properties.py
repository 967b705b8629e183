"""Property tests of the search layer: whatever a user sends, parse_request either raises
QueryError or gives a SearchRequest that SearchService.search runs, with honest totals and pages.
Runs on a real index of the corpus in search_fixtures."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st
from search_fixtures import search_index_fixture, service_fixture  # noqa: F401 - fixtures register by being imported

from searchsvc.engine.whoosh_engine.query_parser import _plain_words_query, make_parser
from searchsvc.engine.whoosh_engine.schema import make_schema
from searchsvc.errors import QueryError
from searchsvc.search import FILTER_PARAMS, MAX_QUERY_LENGTH, PARAMETERS, parse_request

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
SCHEMA = make_schema()
PARSER = make_parser(SCHEMA)

SYNTAX = [
    "solar",
    "rocket",
    "café",
    "police*",
    "batter*",
    "s?lar",
    "glacer",
    "title:",
    "title:solar",
    "topic:space",
    "provider:polar",
    "domain:",
    "foo:bar",
    '"',
    '"heat pumps"',
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    "+",
    "NOT",
    "OR",
    "AND",
    "ANDNOT",
    "ANDMAYBE",
    "TO",
    "*",
    "?",
    "~",
    "~2",
    "^",
    "^2",
    ":",
    "\\",
    "'",
    "/",
    "&",
    "<b>",
    "\x00",
    "\u200b",
    "İ",
    "ß",
    "ﬁ",
    "日本語",
    "𝔰𝔬𝔩𝔞𝔯",
    "",
]

query_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(SYNTAX), st.text(max_size=8)), max_size=8).map(" ".join),
)
LONG_QUERY = " ".join(["solar", "rocket", "café", "title:police*", '"heat', "(", "-"] * 600)[:MAX_QUERY_LENGTH]

PLAUSIBLE = {
    "provider": ["Polar Press", "polar press", "Daily Planet", "Nobody", " Tech Times "],
    "domain": ["greenwire.example", "GREENWIRE.EXAMPLE", "nowhere"],
    "topic": ["Space", "food", "Computer Vision", "Nothing"],
    "category": ["news", "blog", "BLOG"],
    "type": ["article", "video"],
    "published": ["true", "false", "yes", "0", "maybe"],
    "from": ["2022-06-30", "2022-07", "2021", "2022-13", "2022-02-30", "0000", "9999-12", "yesterday"],
    "to": ["2022-06-30", "2022-06", "2022", "2019-01-01", "10000", "2022-1-1"],
    "sort": ["relevance", "newest", "oldest", "quality", "best"],
    "page": ["1", "2", "3", "1000", "1001", "0", "-1", "x", "1.5"],
    "per_page": ["1", "3", "10", "100", "101", "0", " 5 "],
    "facets": ["none", "provider", "provider,topic,date", "date", "colour", ","],
    "facet_size": ["1", "2", "1000", "1001", "0"],
    "collapse": ["true", "false", "off", "nope"],
}


def parameter_values(name: str):
    plausible = PLAUSIBLE.get(name, [])
    single = st.one_of(st.sampled_from(plausible), st.text(max_size=12)) if plausible else st.text(max_size=12)
    return st.lists(single, max_size=3)


parameters = st.fixed_dictionaries(
    {},
    optional={
        "q": st.lists(query_text, min_size=1, max_size=2),
        **{name: parameter_values(name) for name in PARAMETERS if name != "q"},
        "colour": st.lists(st.text(max_size=5), max_size=1),
    },
)


def check_results(service, request) -> None:
    results = service.search(request)

    assert results.total >= len(results.hits)
    assert len(results.hits) <= request.per_page
    assert len(results.hits) == max(0, min(request.per_page, results.total - request.offset))
    assert len({hit.id for hit in results.hits}) == len(results.hits)
    assert set(results.facets) == set(request.facets)
    for param, selected in request.filters().items():
        if param in results.facets:
            listed = {v.value.casefold() for v in results.facets[param].values if v.selected}
            assert {value.casefold() for value in selected} <= listed
    json.dumps(results.to_dict())  # the JSON API can always render it


@PROPERTY_SETTINGS
@given(q=query_text)
@example(q="x" * MAX_QUERY_LENGTH)
@example(q="x" * (MAX_QUERY_LENGTH + 1))
@example(q=LONG_QUERY)
@example(q=LONG_QUERY + " solar")
def test_any_query_text_searches_without_error(service, q):
    try:
        request = parse_request({"q": [q]})
    except QueryError as exc:
        assert exc.parameter == "q"
        assert len(q.strip()) > MAX_QUERY_LENGTH
        return
    check_results(service, request)


@PROPERTY_SETTINGS
@given(params=parameters, page_size_max=st.integers(10, 100))
def test_any_parameters_are_a_query_error_or_a_search_that_runs(service, params, page_size_max):
    try:
        request = parse_request(params, page_size_max=page_size_max)
    except QueryError as exc:
        assert exc.parameter in (*PARAMETERS, "colour")
        assert repr(exc.parameter) in str(exc)
        return
    assert "colour" not in params
    assert request.per_page <= page_size_max
    for attr in FILTER_PARAMS.values():
        assert all(value == value.strip() and value for value in getattr(request, attr))
    check_results(service, request)


@PROPERTY_SETTINGS
@given(params=parameters)
def test_lenient_parsing_ignores_unknown_parameters(params):
    try:
        strict = parse_request(params, strict=True)
    except QueryError as exc:
        if exc.parameter != "colour":
            return
        strict = None
    try:
        lenient = parse_request(params, strict=False)
    except QueryError:
        assert strict is None
        return
    if strict is not None:
        assert lenient == strict


@PROPERTY_SETTINGS
@given(prefix=st.text(max_size=40), limit=st.integers(1, 20))
def test_any_autocomplete_prefix_gives_at_most_limit_suggestions(service, prefix, limit):
    suggestions = service.suggest(prefix, limit)

    assert len(suggestions) <= limit
    assert all(item.kind in ("topic", "provider", "word") and item.text for item in suggestions)
    if not prefix.strip():
        assert suggestions == []


@PROPERTY_SETTINGS
@given(doc_id=st.one_of(st.text(max_size=40), st.sampled_from(["https://greenwire.example/s02", ""])))
def test_any_article_id_is_an_article_or_none(service, doc_id):
    found = service.article(doc_id)

    if found is not None:
        hit, similar = found
        assert hit.id == doc_id
        assert doc_id not in [h.id for h in similar]


def test_default_page_size_never_exceeds_page_size_max():
    assert parse_request({}, page_size_max=5).per_page == 5


PLAIN_WORDS = [
    "solar",
    "Solar",
    "the",
    "a",
    "café",
    "CAFÉ",
    "İstanbul",
    "naïve",
    "ﬁle",
    "２０２２",
    "19",
    "and",
    "And",
    "AND",
    "OR",
    "NOT",
    "TO",
    "ANDMAYBE",
    "REQUIRE",
    "news",
    "running",
    "x2",
]


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(PLAIN_WORDS) | st.text(st.characters(categories=["L", "N"]), min_size=1), max_size=6),
    st.sampled_from([" ", "  ", "\u00a0", "\t"]),
)
@example(["bollyinside", "bollyinside"], " ")
@example(["b", "a", "b"], " ")
def test_plain_words_are_built_into_exactly_the_query_the_parser_makes(words, separator):
    text = separator.join(words)
    plain = _plain_words_query(SCHEMA, text)

    if plain is not None:
        assert plain == PARSER.parse(text)


def test_plain_word_queries_take_the_direct_path_and_operators_do_not():
    assert _plain_words_query(SCHEMA, "Solar  café 2022") == PARSER.parse("Solar  café 2022")
    assert _plain_words_query(SCHEMA, "the a") == PARSER.parse("the a")
    assert [
        _plain_words_query(SCHEMA, t)
        for t in ("solar AND wind", "solar REQUIRE wind", '"solar"', "title:solar", "sol*", "-x")
    ] == [None] * 6
