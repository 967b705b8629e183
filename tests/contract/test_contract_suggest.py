"""The contract of autocomplete: whole words and word pairs as titles hold them, the most frequent
first; the words before the last one typed must come before it in a title; accents and case
folded, the titles' spelling shown; a topic or provider is a filter; a deleted article's words
go with it. On a corpus of its own (below), built once per engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_corpus import Doc, write_article_file
from contract_support import Index, new_index, wait_for_new_view

from searchsvc.engine import SearchEngine, Suggestion

BBC = ("BBC News", "bbc.example")
MONDE = ("Le Monde", "lemonde.example")
WIRE = ("Health Wire", "healthwire.example")

DAY = "2023-02-{:02d}T09:00:00Z"
# fmt: off
ARTICLES = [
    Doc("w01", "Ukraine war enters a second year - BBC News", "", DAY.format(1), BBC, ["World"]),
    Doc("w02", "Ukraine war: talks stall again", "", DAY.format(2), BBC, ["World"]),
    Doc("w03", "Ukraine's grain deal is extended", "", DAY.format(3), MONDE, ["World", "Food"]),
    Doc("w04", "Ukrainian refugees find homes", "", DAY.format(4), MONDE, ["World"]),
    Doc("w05", "Fears of a Ukraine winter grow", "", DAY.format(5), MONDE, ["World"]),
    Doc("c01", "COVID vaccine rollout speeds up", "", DAY.format(6), WIRE, ["Health"]),
    Doc("c02", "COVID vaccine doses for children approved", "", DAY.format(7), WIRE, ["Health"]),
    Doc("c03", "Covid vaccination centres close", "", DAY.format(8), WIRE, ["Health"]),
    Doc("c04", "Robot vacuum cleaners get smarter; covid fades", "", DAY.format(9), WIRE, ["Technology"]),
    Doc("e01", "Macron returns to the Élysée", "", DAY.format(10), MONDE, ["Politics"]),
    Doc("e02", "Élysée Palace opens its doors", "", DAY.format(11), MONDE, ["Politics"]),
    Doc("b01", "Bank of England raises rates", "", DAY.format(12), BBC, ["Economy", "Climate"]),
]
# fmt: on


@pytest.fixture(scope="module")
def suggest_index(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Index:
    index = new_index(engine_name, tmp_path_factory.mktemp(f"suggest-{engine_name}"))
    for doc in ARTICLES:
        write_article_file(index.source, doc)
    index.build(full=True)
    return index


@pytest.fixture(scope="module")
def engine(suggest_index: Index) -> Iterator[SearchEngine]:
    opened = suggest_index.open()
    yield opened
    opened.close()


def texts(suggestions: list[Suggestion]) -> list[str]:
    return [s.text for s in suggestions]


def word(text: str) -> Suggestion:
    return Suggestion(text, "word")


def test_a_prefix_completes_to_whole_title_words_and_pairs_the_most_frequent_first(engine):
    # "Ukraine" is in four titles (w03's possessive too), "Ukraine war" in two, the rest in one
    assert texts(engine.suggest("ukrai")) == [
        "Ukraine",
        "Ukraine war",
        "Ukraine grain",
        "Ukraine winter",
        "Ukrainian",
        "Ukrainian refugees",
    ]
    assert texts(engine.suggest("ukrai", limit=2)) == ["Ukraine", "Ukraine war"]
    assert texts(engine.suggest("ukraine ")) == ["Ukraine war", "Ukraine grain", "Ukraine winter"]


def test_the_words_before_the_last_one_must_come_before_it_in_a_title(engine):
    # c04 holds "vacuum" and "covid", but not together
    assert engine.suggest("covid vac") == [word("COVID vaccine"), word("Covid vaccination")]
    assert engine.suggest("robot vac") == [word("Robot vacuum")]
    assert engine.suggest("covid rob") == []


def test_stop_words_inside_a_phrase_are_kept_and_a_long_prefix_keeps_its_first_words_as_typed(engine):
    assert engine.suggest("bank of e") == [word("Bank of England")]
    assert engine.suggest("fears of ukraine w") == [word("fears of Ukraine war"), word("fears of Ukraine winter")]
    assert (engine.suggest("of"), engine.suggest("the ")) == ([], [])


def test_accents_and_case_are_folded_and_the_suggestion_is_spelt_as_in_the_titles(engine):
    expected = [word("Élysée"), word("Élysée Palace")]
    assert engine.suggest("élys") == expected
    assert engine.suggest("elys") == expected
    assert engine.suggest("ELYS") == expected
    assert engine.suggest("elysee p") == [word("Élysée Palace")]


def test_a_source_suffix_of_a_title_is_not_suggested_but_the_provider_is_as_a_filter(engine):
    # w01's title ends in " - BBC News": the provider, not words of the article
    assert engine.suggest("bbc") == [Suggestion("BBC News", "provider", {"provider": ["BBC News"]}, "")]
    assert engine.suggest("le m") == [Suggestion("Le Monde", "provider", {"provider": ["Le Monde"]}, "")]
    assert engine.suggest("clim") == [Suggestion("Climate", "topic", {"topic": ["Climate"]}, "")]


def test_a_provider_named_by_the_last_typed_words_keeps_the_words_before_it_as_the_query(engine):
    assert engine.suggest("war bb") == [Suggestion("BBC News", "provider", {"provider": ["BBC News"]}, "war")]
    assert engine.suggest("deal le mon") == [Suggestion("Le Monde", "provider", {"provider": ["Le Monde"]}, "deal")]


def test_a_deleted_articles_words_and_pairs_are_no_longer_suggested(engine_name: str, tmp_path):
    index = new_index(engine_name, tmp_path)
    for doc in ARTICLES[5:7]:  # c01 and c02: "COVID vaccine rollout ...", "COVID vaccine doses ..."
        write_article_file(index.source, doc)
    index.build(full=True)
    engine = index.open()
    try:
        assert texts(engine.suggest("vaccine ")) == ["vaccine doses", "vaccine rollout"]
        (index.source / "c01.md").unlink()
        before = engine.view().name
        index.build()
        wait_for_new_view(engine, before)
        assert texts(engine.suggest("vaccine ")) == ["vaccine doses"]
        assert texts(engine.suggest("rollo")) == []
    finally:
        engine.close()
