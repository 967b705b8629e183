"""The contract of apostrophes (issues 13 and 14): an apostrophe between letters joins a word, in
each of its forms (' ’ ‘ ʼ ＇) and without one ("d'or", "d’or" and "dor" are one word), and a
possessive or contraction ending is cut ("Trump's" is "Trump", "she'll" is not "shell"). Both
engines, on a corpus of their own (the shared one has no such words)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_corpus import write_corpus
from contract_support import found, names, new_index, search
from search_fixtures import Doc

from searchsvc.engine import SearchEngine

SPORT = ("Sport Daily", "sportdaily.example")
L_EXPRESS = ("L'Express", "lexpress.example")

DOCS = [
    Doc("b01", "Ballon d'Or goes to Benzema", "The striker won it in Paris.", "2022-10-17T20:00:00Z", SPORT),
    Doc("b02", "Messi lifts a seventh Ballon d’Or", "A record for the forward.", "2021-11-29T20:00:00Z", SPORT),
    Doc("b03", "Ballon festival opens", "Visitors from Mont dʼOr watched the launch.", "2022-06-01T09:00:00Z", SPORT),
    Doc("o01", "Conan O'Brien returns to television", "The host signs a new deal.", "2022-03-01T10:00:00Z"),
    Doc("o02", "O’Brien family opens a bakery", "Fresh bread on the high street.", "2022-03-02T10:00:00Z"),
    Doc("o03", "Brien county fair draws crowds", "Cattle and cakes.", "2022-03-03T10:00:00Z"),
    Doc("t01", "Trump's rally fills the arena", "Supporters queued for hours.", "2022-04-01T10:00:00Z"),
    Doc("t02", "Trump signs an order on tariffs", "The order takes effect in May.", "2022-04-02T10:00:00Z"),
    Doc("t03", "Trump’s lawyers file an appeal", "The court will hear it in June.", "2022-04-03T10:00:00Z"),
    Doc("c01", "She'll sing at the opening night", "The soprano returns to the stage.", "2022-05-01T10:00:00Z"),
    Doc("c02", "Shell profits rise on gas prices", "The oil company reports a record quarter.", "2022-05-02T10:00:00Z"),
    Doc("x01", "Presse: le gouvernement recule", "Un éditorial du jour.", "2022-05-03T10:00:00Z", L_EXPRESS),
]


@pytest.fixture(scope="module")
def engine(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchEngine]:
    index = new_index(engine_name, tmp_path_factory.mktemp(f"apostrophes-{engine_name}"))
    write_corpus(index.source, DOCS)
    index.build(full=True)
    opened = index.open()
    yield opened
    opened.close()


@pytest.mark.parametrize("q", ["d'or", "d’or", "d‘or", "dʼor", "d＇or", "dor", "D'OR"])
def test_d_or_finds_every_article_holding_it_whatever_its_apostrophe(engine, q):
    page = search(engine, q=q)

    assert (page.total, found(page), page.relaxed) == (3, {"b01", "b02", "b03"}, False)


@pytest.mark.parametrize("q", ["o'brien", "O’Brien", "obrien"])
def test_o_brien_finds_the_o_briens_and_not_a_brien_alone(engine, q):
    page = search(engine, q=q)

    assert (page.total, found(page)) == (2, {"o01", "o02"})


def test_the_letters_after_the_apostrophe_are_no_word_of_their_own(engine):
    page = search(engine, q="brien")

    assert (page.total, names(page)) == (1, ["o03"])


@pytest.mark.parametrize("q", ["trump's", "Trump’s", "trump"])
def test_a_possessive_finds_the_name_and_the_name_finds_its_possessives(engine, q):
    page = search(engine, q=q)

    assert (page.total, found(page)) == (3, {"t01", "t02", "t03"})


def test_a_contraction_is_not_the_word_its_letters_spell(engine):
    shell = search(engine, q="shell")

    assert (shell.total, names(shell)) == (1, ["c02"])


def test_a_quoted_phrase_with_an_apostrophe_needs_its_words_adjacent(engine):
    phrase = search(engine, q='"ballon d\'or"')
    curly = search(engine, q='"Ballon d’Or"')
    words = search(engine, q="ballon d'or")

    # b03 holds both words ("Ballon festival ... Mont dʼOr") but not side by side
    assert (phrase.total, found(phrase)) == (2, {"b01", "b02"})
    assert (curly.total, found(curly)) == (2, {"b01", "b02"})
    assert (words.total, found(words), words.relaxed) == (3, {"b01", "b02", "b03"}, False)


def test_a_prefix_with_an_apostrophe_matches_the_joined_words(engine):
    page = search(engine, q="o'bri*")

    assert (page.total, found(page)) == (2, {"o01", "o02"})


def test_a_provider_name_with_an_apostrophe_is_one_word(engine):
    for q in ("provider:l'express", "provider:lexpress", 'provider:"L’Express"'):
        page = search(engine, q=q)
        assert (q, page.total, names(page)) == (q, 1, ["x01"])


def test_the_highlight_marks_the_whole_word_with_its_apostrophe(engine):
    d_or = search(engine, q="d'or", sort="newest")
    trump = search(engine, q="trump", sort="newest")

    assert [hit.highlights["title"].render() for hit in d_or.hits] == [
        "Ballon <mark>d&#x27;Or</mark> goes to Benzema",
        "Ballon festival opens",
        "Messi lifts a seventh Ballon <mark>d’Or</mark>",
    ]
    assert [hit.highlights["excerpt"].render() for hit in d_or.hits][1] == (
        "Visitors from Mont <mark>dʼOr</mark> watched the launch."
    )
    assert [hit.highlights["title"].render() for hit in trump.hits] == [
        "<mark>Trump’s</mark> lawyers file an appeal",
        "<mark>Trump</mark> signs an order on tariffs",
        "<mark>Trump&#x27;s</mark> rally fills the arena",
    ]
