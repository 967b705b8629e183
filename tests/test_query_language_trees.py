"""parse_query: the query language (README "Query syntax") as an engine-neutral tree, and the
helpers engines use on it (terms counted for max_query_terms, prefixes, relaxable parts, words to
highlight). tests/test_query_language_differential.py compares the trees with Whoosh's parser."""

from __future__ import annotations

import pytest

from searchsvc.errors import QueryTooExpensive
from searchsvc.query_language import (
    And,
    AndMaybe,
    Everything,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Require,
    Word,
    check_query_terms,
    content_words,
    parse_query,
    prefixes,
    query_terms,
    query_words,
    relaxable_parts,
)

SOLAR, BATTERY, ROCKET = Word("solar", "solar"), Word("battery", "batteri"), Word("rocket", "rocket")
X, Y, Z = Word("x", "x"), Word("y", "y"), Word("z", "z")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("solar battery", And((SOLAR, BATTERY))),
        ("solar AND battery", And((SOLAR, BATTERY))),
        ("solar OR battery", Or((SOLAR, BATTERY))),
        ("solar NOT battery", And((SOLAR, Not(BATTERY)))),
        ("solar -battery", And((SOLAR, Not(BATTERY)))),
        ("x y -z", And((X, Y, Not(Z)))),
        ("x -y -z", And((X, Not(Or((Y, Z)))))),
        ("x ANDNOT y", And((X, Not(Y)))),
        ("x ANDMAYBE y", AndMaybe(X, Y)),
        ("x REQUIRE y", Require(X, Y)),
        ("+x y", AndMaybe(X, Y)),
        ("x OR y z", And((Or((X, Y)), Z))),
        ("x AND y OR z", Or((And((X, Y)), Z))),
        ("(x OR y) z", And((Or((X, Y)), Z))),
        ('"heat pumps"', Phrase(("heat", "pumps"))),
        ('"heat pumps"~3', Phrase(("heat", "pumps"), slop=3)),
        ('"the heat pumps"', Phrase(("the", "heat", "pumps"))),
        ('"the heat"', Word("heat", "heat")),
        ("title:lithium", Word("lithium", "lithium", "title")),
        ("excerpt:ban", Word("ban", "ban", "excerpt")),
        ("body:arrays", Word("arrays", "array", "body")),
        ("topic:politics", Word("politics", "polit", "topics")),
        ("topics:politics", Word("politics", "polit", "topics")),
        ('topic:"computer vision"', Phrase(("computer", "vision"), "topics")),
        ("provider:Orbit", Word("Orbit", "orbit", "provider")),
        ('provider:"Valley Voice"', Phrase(("Valley", "Voice"), "provider")),
        ("domain:labs.orbitobserver.example", Phrase(("labs", "orbitobserver", "example"), "domain")),
        ("title:(solar OR battery)", Or((Word("solar", "solar", "title"), Word("battery", "batteri", "title")))),
        ("title:x y", And((Word("x", "x", "title"), Y))),
        ("batter*", Prefix("batter")),
        ("Running*", Prefix("running")),
        ("title:Élysée*", Prefix("elysee", "title")),
        ("*:*", Everything()),
        ("villages:solar", And((Word("villages", "villag"), SOLAR))),
        ("Title:solar", And((Word("Title", "titl"), SOLAR))),
        (
            "left-wing cartoq.com",
            And((Word("left", "left"), Word("wing", "wing"), Word("cartoq", "cartoq"), Word("com", "com"))),
        ),
        ("Policing CAFÉ", And((Word("Policing", "polic"), Word("CAFÉ", "cafe")))),
        ("SOLAR AND BATTERY OR NOT ROCKET", And((SOLAR, BATTERY, Word("not", "not"), ROCKET))),
        ("SOLAR OR BATTERY", Or((Word("SOLAR", "solar"), Word("BATTERY", "batteri")))),
        ("the solar of", SOLAR),
        ("x x X", X),
    ],
)
def test_each_syntax_feature_parses_to_its_exact_tree(text, tree):
    assert parse_query(text) == tree


@pytest.mark.parametrize("text", ["NOT rocket", "-rocket"])
def test_an_exclusion_alone_is_everything_except_the_word(text):
    assert parse_query(text) == And((Everything(), Not(ROCKET)))


def test_several_exclusions_alone_are_everything_except_each():
    assert parse_query("-x -y") == And((Everything(), Not(X), Not(Y)))
    assert parse_query("*:* -x") == And((Everything(), Not(X)))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("((((", Nothing()),
        ('"unclosed', Word("unclosed", "unclos")),
        ("AND", Nothing()),
        ("OR", Nothing()),
        ("NOT", Word("NOT", "not")),
        ("title:", Word("title", "titl")),
        (":", Nothing()),
        ("\\", Nothing()),
        ('""', Nothing()),
        ("()", Nothing()),
        ("\x00", Nothing()),
        ("", Nothing()),
        ("(solar", SOLAR),
        ("solar)", SOLAR),
        ("solar AND", SOLAR),
        ("OR solar", SOLAR),
        ('"solar battery', And((SOLAR, BATTERY))),
        ('title:"solar', Word("solar", "solar", "title")),
        ("*", Nothing()),
        ("title:*", Nothing()),
        ("?", Nothing()),
        ("s?lar", Word("lar", "lar")),
        ("~", Nothing()),
        ("^", Nothing()),
        ("solar^2", Phrase(("solar", "2"))),
        ("solar~2", Phrase(("solar", "2"))),
        ("a:b:c", And((Word("b", "b"), Word("c", "c")))),
        ("::", Nothing()),
        ("title:(x -y)", And((Word("title", "titl"), X, Y))),
        ("NOT NOT x", X),
        ("x ANDNOT ANDNOT y", And((X, Y))),
        ("the", Nothing()),
        ('"the"', Nothing()),
    ],
)
def test_unreadable_syntax_falls_back_to_a_sensible_tree(text, tree):
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4000,
        '"' * 4000,
        "'" * 4000,
        "a" * 4000,
        "a*" * 2000,
        "-a-" * 1333,
        "title:" * 666,
        "x OR " * 800,
        "NOT " * 1000,
        "-a--b--c--d--e--f--g--h--i--j--k--l--m--n--o--p--q--r--s--t the",
        "é" * 4000,
    ],
)
def test_long_hostile_queries_parse_without_failing(text):
    assert parse_query(text) is not None


def test_query_terms_count_distinct_words_phrases_and_prefixes_once_each():
    tree = parse_query('solar title:solar "heat pumps" title:"heat pumps" batter* -rocket')

    assert query_terms(tree) == {
        ("word", "solar"),
        ("phrase", ("heat", "pump")),
        ("prefix", "batter"),
        ("word", "rocket"),
    }


def test_a_query_with_more_terms_than_the_limit_is_refused_with_whooshs_message():
    tree = parse_query("solar battery rocket storm")
    check_query_terms(tree, 4)
    check_query_terms(tree, 0)

    with pytest.raises(QueryTooExpensive) as info:
        check_query_terms(tree, 3)

    assert str(info.value) == (
        "The query holds 4 different words, phrases and prefixes; at most 3 are allowed (max_query_terms). "
        "Use fewer words."
    )
    assert info.value.parameter == "q"


def test_prefixes_lists_each_prefix_once_in_tree_order_including_excluded_ones():
    # "-rock*" is excluded from the rest: And(batter*, s*, title:s*, Not(rock*))
    assert prefixes(parse_query("batter* s* -rock* title:s* batter*")) == [
        Prefix("batter"),
        Prefix("s"),
        Prefix("s", "title"),
        Prefix("rock"),
    ]


def test_relaxable_parts_are_the_plain_words_with_explicit_parts_kept_required_or_excluded():
    tree = parse_query('solar battery "heat pumps" title:x -rocket')

    assert relaxable_parts(tree) == (
        [SOLAR, BATTERY],
        [Phrase(("heat", "pumps")), Word("x", "x", "title")],
        [ROCKET],
    )


@pytest.mark.parametrize("text", ["solar", "solar OR battery", "solar -battery", "solar title:x", '"heat pumps" c'])
def test_queries_without_two_plain_words_in_an_and_are_not_relaxable(text):
    assert relaxable_parts(parse_query(text)) is None


def test_content_words_drop_function_words_unless_fewer_than_two_remain():
    words = relaxable_parts(parse_query("what does solar have battery"))[0]

    assert content_words(words) == [SOLAR, BATTERY]
    assert content_words(relaxable_parts(parse_query("what does solar have"))[0]) == [
        Word("what", "what"),
        Word("does", "doe"),
        SOLAR,
        Word("have", "have"),
    ]


def test_query_words_are_the_analysed_words_and_prefixes_outside_exclusions():
    tree = parse_query('Policing title:"heat pumps" provider:Orb* -rocket x OR y')

    assert query_words(tree) == {
        (None, "polic"),
        ("title", "heat"),
        ("title", "pump"),
        ("provider", "orb*"),
        (None, "x"),
        (None, "y"),
    }
