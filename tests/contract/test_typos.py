"""The contract for typo tolerance: a rare or unknown word of 5+ letters also matches known words
1 edit away (2 edits from 9 letters), below the articles holding it as typed; phrases, prefixes,
field:value and excluded words stay exact; ``typos=false`` (and the setting) turn it off.

The articles are an index of their own (``typo_index``), built from the corpus below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_corpus import Doc, write_article_file
from contract_support import Index, names, search

from searchsvc.engine import SearchEngine
from searchsvc.engine.interface import Correction

WIRE = ("Wire Desk", "wire.example")
DAY = "2022-03-{:02d}T00:00:00Z"
# fmt: off
TYPO_CORPUS = [
    Doc("t01", "Ukraine talks resume in Geneva", "Delegations meet again.", DAY.format(1), WIRE),
    Doc("t02", "Ukraine grain deal extended", "Ships leave Odesa.", DAY.format(2), WIRE),
    Doc("t03", "Farmers in Ukraine plant early", "A mild spring.", DAY.format(3), WIRE),
    Doc("t13", "Ukraine exports rebound", "Ports reopen.", DAY.format(13), WIRE),
    Doc("t14", "Ukraine rail link restored", "Trains run again.", DAY.format(14), WIRE),
    # holds the misspelling itself, only in its body: as typed, it still ranks first
    Doc("t04", "A reader writes about the war", "Letters.", DAY.format(4), WIRE,
        body="My cousin writes from ukriane every week."),
    # 10 letters: two edits allowed; Strasbourg is one edit from "strasbourk", Strasburg two
    Doc("t05", "Strasbourg council session opens in the old hall by the river", "Members arrive.",
        DAY.format(5), WIRE),
    Doc("t06", "Strasburg museum opens", "Strasburg, Virginia, celebrates its new museum.", DAY.format(6), WIRE),
    # a word three articles hold is not rare: never corrected, even one letter from a known word
    Doc("t07", "Sedan sales rise", "A sedan for every family.", DAY.format(7), WIRE),
    Doc("t08", "Sedan prices fall", "Cheaper sedan models.", DAY.format(8), WIRE),
    Doc("t09", "Sedan of the year", "The sedan that won.", DAY.format(9), WIRE),
    Doc("t10", "Sudan talks stall", "Mediators leave Khartoum.", DAY.format(10), WIRE),
    Doc("t11", "Sudan floods", "Rivers rise.", DAY.format(11), WIRE),
    Doc("t12", "Vaccine trial begins", "Volunteers sought.", DAY.format(12), WIRE),
]
# fmt: on


@pytest.fixture(scope="module")
def typo_engine(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchEngine]:
    from contract_support import new_index

    index: Index = new_index(engine_name, tmp_path_factory.mktemp(f"typos-{engine_name}"))
    for doc in TYPO_CORPUS:
        write_article_file(index.source, doc)
    index.build(full=True)
    engine = index.open()
    yield engine
    engine.close()


def test_an_unknown_word_also_matches_the_known_word_one_edit_away(typo_engine):
    page = search(typo_engine, q="ukriane")

    assert (page.total, sorted(names(page)[1:])) == (6, ["t01", "t02", "t03", "t13", "t14"])
    assert page.corrections == [Correction("ukriane", ("ukraine",))]
    assert page.suggestion is None


def test_the_article_holding_the_word_as_typed_ranks_above_the_corrections(typo_engine):
    assert names(search(typo_engine, q="ukriane"))[0] == "t04"


def test_the_corrected_word_is_highlighted_in_the_hits(typo_engine):
    page = search(typo_engine, q="ukriane")
    grain = next(hit for hit in page.hits if hit.id.endswith("/t02"))

    assert grain.highlights["title"].render() == "<mark>Ukraine</mark> grain deal extended"


def test_a_misspelt_word_beside_a_correct_one_ranks_the_article_holding_both_first(typo_engine):
    page = search(typo_engine, q="ukriane grain")

    # one article holds both: the search is relaxed to some of the words, complete matches first
    assert (names(page)[0], page.relaxed) == ("t02", True)
    assert page.corrections == [Correction("ukriane", ("ukraine",))]


def test_a_word_of_nine_letters_or_more_matches_two_edits_away_with_fewer_edits_first(typo_engine):
    page = search(typo_engine, q="strasbourk")

    # t06 holds its word in the title and would score higher; one edit ranks above two
    assert names(page) == ["t05", "t06"]
    assert page.corrections == [Correction("strasbourk", ("strasbourg", "strasburg"))]


def test_a_word_of_five_to_eight_letters_matches_only_one_edit_away(typo_engine):
    # "vacccinne" is 9 letters: two edits reach "vaccine"; "vaccne" (6) is one edit away
    assert names(search(typo_engine, q="vaccne")) == ["t12"]
    assert search(typo_engine, q="vacine").corrections == [Correction("vacine", ("vaccine",))]
    assert search(typo_engine, q="vaxcne").total == 0  # two edits, 6 letters


def test_a_word_under_five_letters_is_never_corrected(typo_engine):
    page = search(typo_engine, q="ukrane")  # 6 letters: corrected
    short = search(typo_engine, q="sudn")  # 4 letters: not

    assert page.total == 5
    assert (short.total, short.corrections) == (0, [])


def test_a_word_many_articles_hold_is_not_corrected(typo_engine):
    page = search(typo_engine, q="sedan")

    assert (page.total, page.corrections) == (3, [])
    assert set(names(page)) == {"t07", "t08", "t09"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"ukriane grain"', []),  # a phrase's words stay exact
        ("ukrian*", ["t04"]),  # so does a prefix: only the body that holds "ukriane"
        ("title:ukriane", []),  # and a field:value
    ],
)
def test_phrases_prefixes_and_field_values_stay_exact(typo_engine, q, expected):
    page = search(typo_engine, q=q)

    assert (names(page), page.corrections) == (expected, [])


def test_an_excluded_word_is_not_corrected(typo_engine):
    page = search(typo_engine, q="ukraine -ukriane")

    assert (sorted(names(page)), page.corrections) == (["t01", "t02", "t03", "t13", "t14"], [])


def test_typos_false_searches_the_words_only_as_typed_and_suggests_the_respelling(typo_engine):
    page = search(typo_engine, q="ukriane", typos="false")

    assert (names(page), page.corrections, page.suggestion) == (["t04"], [], "ukraine")


def test_a_correction_counts_in_facets_and_filters_like_any_match(typo_engine):
    page = search(typo_engine, q="ukrane", provider="Wire Desk")

    assert page.total == 5
    assert {v.value: v.count for v in page.facets["provider"].values} == {"Wire Desk": 5}


@pytest.mark.parametrize("q", ["ukriane", "strasbourk", "ukriane grain"])
def test_an_export_holds_the_results_of_the_search_in_its_order(typo_engine, q):
    from contract_support import request

    page = search(typo_engine, q=q, per_page="100")
    exported = typo_engine.export(request(q=q))

    assert (exported.total, names(list(exported.hits))) == (page.total, names(page))
