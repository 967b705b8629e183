"""The contract of the query language (README "Query syntax"): every word required by default, OR,
NOT and -word, phrases and their slop, field:value, prefixes, stemming and accent folding,
unreadable syntax searched as words, and the limits a query is refused over."""

from __future__ import annotations

import pytest
from contract_corpus import TOTAL_DOCUMENTS
from contract_support import found, names, search

from searchsvc.errors import QueryTooExpensive

ORBIT_DOCS = {"e03", "e05", "r02", "p01", "k02", "s01", "a01"}
VALLEY_DOCS = {"e02", "r01", "f02", "g01", "k03"}


def test_every_word_is_required_when_enough_articles_hold_them_all(engine):
    both = search(engine, q="solar battery", per_page="1")
    pumps = search(engine, q="heat pumps", per_page="2")

    assert (both.total, names(both), both.relaxed) == (1, ["e01"], False)
    assert (pumps.total, found(pumps), pumps.relaxed) == (2, {"e04", "e05"}, False)


def test_or_matches_articles_holding_either_word(engine):
    page = search(engine, q="solar OR battery")

    assert (page.total, found(page), page.relaxed) == (3, {"e01", "e02", "e03"}, False)


@pytest.mark.parametrize("q", ["solar NOT battery", "solar -battery"])
def test_not_and_minus_exclude_articles_holding_the_word(engine, q):
    page = search(engine, q=q)

    assert (page.total, names(page)) == (1, ["e02"])


@pytest.mark.parametrize("q", ["NOT rocket", "-rocket"])
def test_an_exclusion_alone_matches_every_article_without_the_word(engine, q):
    page = search(engine, q=q, collapse="false", per_page="50")

    assert page.total == TOTAL_DOCUMENTS - 3
    assert not found(page) & {"k01", "k02", "k03"}


def test_quoted_phrase_needs_its_words_adjacent_and_in_order(engine):
    phrase = search(engine, q='"heat pumps"')
    reversed_phrase = search(engine, q='"pumps heat"')

    # e05 holds "Pumps move heat" and "pumps carry warmth ... and heat": the words, not the phrase
    assert (phrase.total, names(phrase)) == (1, ["e04"])
    assert (reversed_phrase.total, reversed_phrase.hits) == (0, [])


def test_a_phrase_matches_across_the_stop_words_between_its_words(engine):
    page = search(engine, q='"panels batteries"')

    # e01's title: "Solar panels and batteries power island villages" ("and" is a stop word)
    assert (page.total, names(page)) == (1, ["e01"])
    assert [hit.highlights["title"].render() for hit in page.hits] == [
        "Solar <mark>panels</mark> and <mark>batteries</mark> power island villages"
    ]


def test_phrase_with_slop_matches_its_words_in_order_a_few_positions_apart(engine):
    exact = search(engine, q='"cooling warmth"')
    near = search(engine, q='"cooling warmth"~3')
    far = search(engine, q='"cooling servers"~3')

    # e05's excerpt: "Liquid cooling pumps carry warmth away from servers" (within 3 positions in
    # either reading of slop: Whoosh's "each word at most 3 after the one before", Lucene's edits)
    assert exact.total == 0
    assert (near.total, names(near)) == (1, ["e05"])
    assert far.total == 0


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lithium", {"r02", "e03"}),
        ("title:lithium", {"r02"}),
        ("excerpt:lithium", {"e03"}),
        ("body:arrays", {"e01"}),
        ("topic:politics", {"p02", "f02"}),
        ("topics:politics", {"p02", "f02"}),
        ('topic:"computer vision"', {"p01"}),
        ("provider:orbit", ORBIT_DOCS),
        ('provider:"Valley Voice"', VALLEY_DOCS),
        ("domain:valleyvoice.example", VALLEY_DOCS),
        ("domain:labs.orbitobserver.example", {"a01"}),
        ("title:(solar OR battery)", {"e01", "e02", "e03"}),
    ],
)
def test_field_value_searches_only_that_field(engine, q, expected):
    page = search(engine, q=q, per_page="50", collapse="false")

    assert (page.total, found(page)) == (len(expected), expected)


def test_a_word_only_in_a_body_is_found(engine):
    page = search(engine, q="landlords")

    assert (page.total, names(page)) == (1, ["f02"])


def test_prefix_star_matches_every_word_starting_with_the_prefix(engine):
    page = search(engine, q="batter*")

    assert (page.total, found(page)) == (2, {"e01", "e03"})


def test_a_prefix_is_stemmed_as_a_whole_word_so_policing_star_finds_police(engine):
    page = search(engine, q="policing*")

    # the index holds "polic" for police and policing; the prefix "policing" is stemmed the same way
    assert (page.total, found(page)) == (2, {"p01", "p02"})


@pytest.mark.parametrize("q", ["police", "policing", "polices"])
def test_words_are_stemmed_so_police_finds_policing(engine, q):
    page = search(engine, q=q)

    assert (page.total, found(page)) == (2, {"p01", "p02"})


@pytest.mark.parametrize("q", ["café", "cafe", "CAFÉ"])
def test_accents_and_case_are_folded(engine, q):
    page = search(engine, q=q)

    assert (page.total, found(page)) == (2, {"f01", "f02"})


@pytest.mark.parametrize("q", ["villages:solar", "Villages:solar"])
def test_an_unknown_field_is_searched_as_words(engine, q):
    page = search(engine, q=q)

    # e01 holds both words; e02 only "solar" (relaxed: one complete match cannot fill the page)
    assert (names(page), page.relaxed) == (["e01", "e02"], True)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("((((", set()),
        ('"unclosed', set()),
        ("AND", set()),
        ("OR", set()),
        ("NOT", set()),
        ("title:", set()),
        (":", set()),
        ("\\", set()),
        ('""', set()),
        ("()", set()),
        ("\x00", set()),
        ("(solar", {"e01", "e02"}),
        ("solar)", {"e01", "e02"}),
        ("solar AND", {"e01", "e02"}),
        ("OR solar", {"e01", "e02"}),
        ('"solar battery', {"e01", "e02", "e03"}),
        ('title:"solar', {"e01", "e02"}),
    ],
)
def test_unreadable_syntax_never_fails_and_is_searched_as_words(engine, q, expected):
    page = search(engine, q=q)

    assert (page.total, found(page)) == (len(expected), expected)


@pytest.mark.parametrize("q", ["*", "*:*", "title:*", "?", "s?lar", "~", "^", "solar^2", "solar~2", "a:b:c", "::"])
def test_wildcard_and_operator_characters_never_fail(engine, q):
    page = search(engine, q=q, per_page="50", collapse="false")

    assert 0 <= page.total <= TOTAL_DOCUMENTS
    assert len(page.hits) == page.total


def test_a_query_with_more_words_than_max_query_terms_is_refused(corpus_index):
    engine = corpus_index.open(max_query_terms=3)
    try:
        assert search(engine, q="solar battery rocket", collapse="false").total == 6  # three: allowed
        with pytest.raises(QueryTooExpensive) as info:
            search(engine, q="solar battery rocket storm")
    finally:
        engine.close()

    assert str(info.value) == (
        "The query holds 4 different words, phrases and prefixes; at most 3 are allowed (max_query_terms). "
        "Use fewer words."
    )
    assert info.value.parameter == "q"


def test_a_prefix_matching_more_words_than_max_prefix_terms_is_refused(corpus_index):
    engine = corpus_index.open(max_prefix_terms=2)
    try:
        assert search(engine, q="batter*").total == 2  # one indexed word: allowed
        with pytest.raises(QueryTooExpensive) as info:
            search(engine, q="s*")
    finally:
        engine.close()

    assert str(info.value) == (
        "The prefix s* matches more than 2 indexed words (max_prefix_terms); "
        "make it longer (more letters before the *)."
    )
    assert info.value.parameter == "q"


def test_more_filter_values_than_max_filter_values_are_refused(corpus_index):
    engine = corpus_index.open(max_filter_values=2)
    try:
        assert search(engine, provider=["Valley Voice", "Metro Ledger"]).total == 9
        with pytest.raises(QueryTooExpensive) as info:
            search(engine, provider=["Valley Voice", "Metro Ledger", "Orbit Observer"])
    finally:
        engine.close()

    assert str(info.value) == (
        "The filters of this search hold 3 values (provider= 3); at most 2 are allowed (max_filter_values). "
        "Select fewer values."
    )
    assert info.value.parameter == "provider"
