"""The fast evaluator (evaluator.py) matches exactly the documents Whoosh's own searcher matches on
the same index: for generated query trees (words, phrases with and without slop, prefixes,
wildcards, field queries, AND, OR, NOT, AND NOT, AND MAYBE, REQUIRE) and for generated user query
text run through parse_user_query. A node the evaluator does not implement is refused with a
QueryError (HTTP 400), never run some other way.

The index has two segments (a full build, then an update that deletes, replaces and adds
articles), and is read both with its postings files and through Whoosh's segments only."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from whoosh import query

from searchsvc.documents import Article
from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.query_parser import make_parser, parse_user_query
from searchsvc.engine.whoosh_engine.schema import SEARCH_FIELDS, make_schema
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.engine.whoosh_engine.writer import write_changes, write_full
from searchsvc.errors import QueryError

DIFFERENTIAL = settings(max_examples=200, deadline=None, derandomize=True)
PARSER = make_parser(make_schema())

# Words that are their own stems, so generated terms are the index's terms.
WORDS = ("india", "team", "cup", "final", "delhi", "rain", "solar", "panel", "price", "market", "match", "press")
# More words sharing one prefix than a prefix was once expanded to (64): zedaa ... zedjj.
FAMILY = tuple(f"zed{a}{b}" for a in "abcdefghij" for b in "abcdefghij")
STOP = ("the", "of", "a", "in")
TOPICS = ("Cricket", "Weather", "Solar Energy", "Markets", "India Team")
PROVIDERS = (
    ("Polar Press", "polarpress.example"),
    ("Daily Planet", "dailyplanet.example"),
    ("Cup Times", "cup.times.example"),
)
FIELD_WORDS = {
    **{field: WORDS + ("zedaa", "zedjj", "absent") for field in SEARCH_FIELDS},
    "topics_text": ("cricket", "weather", "solar", "energi", "market", "india", "team", "absent"),
    "provider_text": ("polar", "press", "daily", "planet", "cup", "times", "absent"),
    "domain_text": ("polarpress", "dailyplanet", "cup", "times", "example", "absent"),
}
PREFIXES = {field: ("i", "t", "te", "pa", "pr", "ma", "m", "zed", "zeda", "zz") for field in SEARCH_FIELDS} | {
    "topics_text": ("c", "e", "s", "ma", "in"),
    "provider_text": ("p", "da", "ti", "zz"),
    "domain_text": ("p", "ex", "c"),
}
WILDCARDS = ("t?am", "*a", "in*a", "zed?b", "?", "p*e*", "*ket")


def _words(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(STOP) if rng.random() < 0.2 else rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize()


def _article(rng: random.Random, number: int, version: int = 0) -> Article:
    provider, domain = PROVIDERS[number % len(PROVIDERS)]  # (the id holds the domain)
    return Article(
        id=f"https://{domain}/a{number:02}",
        path=f"a{number:02}.md",
        title=_words(rng, 2, 6),
        excerpt=_words(rng, 0, 10),
        # two family words of its own: "zed*" matches every article, through 100 words
        body=f"{_words(rng, 5, 40)} {FAMILY[(2 * number) % 100]} {_words(rng, 0, 3)} {FAMILY[(2 * number + 1) % 100]}",
        topics=rng.sample(TOPICS, rng.randint(0, 2)),
        provider=provider,
        domain=domain,
        published_at=dt.datetime(2022, 1, 1 + number % 28, version, tzinfo=dt.UTC),
    )


def _build(folder) -> None:
    rng = random.Random(11)
    write_full(folder, [_article(rng, n) for n in range(48)])
    deleted = [_article(rng, n).id for n in range(0, 12, 2)]
    replaced = [_article(rng, n, version=1) for n in range(1, 9, 2)]
    added = [_article(rng, n) for n in range(48, 60)]
    write_changes(folder, deleted, replaced + added)  # 64 documents, 54 of them live


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> list[Snapshot]:
    """The index read with its postings files, and read through Whoosh's segments only."""
    folder = tmp_path_factory.mktemp("differential")
    _build(folder)
    with_files, whoosh_only = Snapshot(folder, "differential"), Snapshot(folder, "differential")
    whoosh_only.sidecars = [None] * len(whoosh_only.sidecars)
    yield [with_files, whoosh_only]
    with_files.close()
    whoosh_only.close()


def test_the_index_has_two_segments_with_deleted_and_replaced_documents(snapshots):
    for snapshot in snapshots:
        assert [(leaf.doc_count_all(), leaf.doc_count()) for leaf, _ in snapshot.leaves] == [(48, 38), (16, 16)]
        assert (snapshot.size, snapshot.count) == (64, 54)
    assert [sidecar is not None for s in snapshots for sidecar in s.sidecars] == [True, True, False, False]


def whoosh_documents(snapshot: Snapshot, q: query.Query) -> list[int]:
    """The live documents Whoosh's own searcher matches, ascending."""
    q = and_not_as_and(q)
    return sorted({int(d) for d in snapshot.searcher().docs_for_query(q) if snapshot.live[d]})


def and_not_as_and(q: query.Query) -> query.Query:
    """``a ANDNOT b`` as ``a AND NOT b``, which Whoosh documents as the same query. Whoosh's own
    AndNotMatcher is wrong (whoosh/matching/binary.py): it keeps a's first document when b has
    it and b's first document comes earlier (``match ANDNOT india`` here), and raises
    IndexError when a runs out inside b. Its And and Not matchers agree with the evaluator."""
    if not q.is_leaf():
        q = q.apply(and_not_as_and)
    return query.And([q.a, query.Not(q.b)]) if isinstance(q, query.AndNot) else q


def is_positive(q: query.Query) -> bool:
    """Whether every document the query matches matches some word of it (so scores above 0)."""
    if isinstance(q, query.Not | query.Every):
        return False
    if isinstance(q, query.AndNot | query.Require | query.AndMaybe):
        return is_positive(q.a)
    if isinstance(q, query.And):
        positive = [c for c in q.subqueries if not isinstance(c, query.Not)]
        return bool(positive) and all(is_positive(c) for c in positive)
    return q.is_leaf() or all(is_positive(c) for c in q.children())


def assert_same_documents(snapshots: list[Snapshot], q: query.Query) -> None:
    """Each snapshot's evaluator (as the engine runs it, and without check_prefixes) matches the
    documents Whoosh matches (the snapshots read one index), with finite scores, above 0 where
    every match matches some word."""
    expected = whoosh_documents(snapshots[0], q)
    for snapshot in snapshots:
        checked = Evaluator(snapshot)
        checked.check_prefixes(q, 2000)  # as the engine does before running a query
        for evaluator in (Evaluator(snapshot), checked):
            docs, scores = evaluator.run(q)
            assert docs.tolist() == expected, q
            assert (docs.dtype, scores.dtype, len(scores)) == (np.int32, np.float32, len(docs))
            assert np.isfinite(scores).all() and (scores >= 0).all(), q
            if is_positive(q):
                assert (scores > 0).all(), q


# -- query trees ------------------------------------------------------------------------------

fields = st.sampled_from(tuple(FIELD_WORDS))


def _in_field(make):
    return fields.flatmap(make)


terms = _in_field(lambda f: st.sampled_from(FIELD_WORDS[f]).map(lambda w: query.Term(f, w)))


def WORD(word: str) -> query.Or:  # noqa: N802 - reads as the query it builds
    """A word in every search field, as the parser makes it."""
    return query.Or([query.Term(field, word) for field in SEARCH_FIELDS])


word_units = st.sampled_from(FIELD_WORDS["title"]).map(WORD)
phrases = _in_field(
    lambda f: st.builds(
        lambda words, slop: query.Phrase(f, words, slop=slop),
        st.lists(st.sampled_from(FIELD_WORDS[f]), min_size=1, max_size=4),
        st.sampled_from((1, 1, 2, 3, 5, 40)),
    )
)
prefixes = _in_field(lambda f: st.sampled_from(PREFIXES[f]).map(lambda p: query.Prefix(f, p)))
wildcards = st.tuples(st.sampled_from(SEARCH_FIELDS), st.sampled_from(WILDCARDS)).map(lambda fp: query.Wildcard(*fp))
leaves = st.one_of(terms, word_units, phrases, prefixes, wildcards, st.just(query.Every()))


def _compounds(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(query.And),
        st.lists(children, min_size=1, max_size=3).map(query.Or),
        children.map(query.Not),
        pairs.map(lambda ab: query.AndNot(*ab)),
        pairs.map(lambda ab: query.AndMaybe(*ab)),
        pairs.map(lambda ab: query.Require(*ab)),
    )


trees = st.recursive(leaves, _compounds, max_leaves=8)


@DIFFERENTIAL
@given(q=trees)
@example(q=query.Phrase("body", ["india", "team"], slop=3))
@example(q=query.Phrase("body", ["team", "team", "india"], slop=2))
@example(q=query.Phrase("body", ["india", "team"], slop=10**12))
@example(q=query.Prefix("body", "zed"))
@example(q=query.Require(query.Term("title", "india"), query.Term("body", "team")))
@example(q=query.AndNot(WORD("match"), WORD("india")))
@example(q=query.Phrase("body", ["india", "team"], slop=0))
@example(q=query.And([]))
@example(q=query.Or([]))
def test_any_query_tree_matches_the_documents_whoosh_matches(snapshots, q):
    assert_same_documents(snapshots, q)


# -- user query text --------------------------------------------------------------------------

user_words = st.sampled_from(WORDS + ("India", "teams", "Rains", "pressed", "zedab", "the", "of", "absent"))
USER_FIELDS_VALUES = {
    "title": WORDS,
    "excerpt": WORDS,
    "body": WORDS + ("zedaa",),
    "topic": ("cricket", "Energy", '"solar energy"', '"india team"~2'),
    "topics": ("markets", "weather"),
    "provider": ("polar", '"polar press"', '"press polar"~3', "planet", "da*"),
    "domain": ("polarpress.example", "cup.times.example", "example", "ex*"),
}
user_phrases = st.builds(
    lambda words, slop: '"' + " ".join(words) + '"' + (f"~{slop}" if slop else ""),
    st.lists(user_words, min_size=1, max_size=3),
    st.sampled_from((None, None, 1, 2, 3, 7)),
)
user_fields = st.sampled_from(tuple(USER_FIELDS_VALUES)).flatmap(
    lambda f: st.sampled_from(USER_FIELDS_VALUES[f]).map(lambda v: f"{f}:{v}")
)
user_pieces = st.one_of(
    user_words,
    user_phrases,
    user_fields,
    user_words.map(lambda w: "-" + w),
    st.sampled_from(("i*", "te*", "pa*", "zed*", "zeda*", "zz*")),
    st.sampled_from(("NOT", "OR", "AND", "ANDNOT", "ANDMAYBE", "REQUIRE", "(", ")", "*:*")),
)
user_texts = st.lists(user_pieces, min_size=1, max_size=6).map(" ".join)


@DIFFERENTIAL
@given(text=user_texts)
@example(text='"india team"~3')
@example(text="zed*")
@example(text="india REQUIRE team")
@example(text="-india")
@example(text="title:india OR provider:polar")
def test_any_user_query_matches_the_documents_whoosh_matches(snapshots, text):
    q = parse_user_query(PARSER, text)
    assert_same_documents(snapshots, q)


# -- exact outcomes ---------------------------------------------------------------------------

SLOP_TITLES = (
    "India team wins",  # india 0, team 1
    "India cricket team",  # india 0, team 2
    "India won the cup with a young team",  # india 0, team 4 (stop words take no place)
    "Team India",
    "Team and team of India",  # team 0, team 1, india 2
)


@pytest.fixture(scope="module")
def slop_snapshot(tmp_path_factory) -> Snapshot:
    folder = tmp_path_factory.mktemp("slop")
    write_full(folder, [Article(id=f"s{n}", path=f"s{n}.md", title=title) for n, title in enumerate(SLOP_TITLES)])
    snapshot = Snapshot(folder, "slop")
    yield snapshot
    snapshot.close()


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ('"india team"', ["India team wins"]),
        ('"india team"~1', ["India team wins"]),
        ('"india team"~2', ["India cricket team", "India team wins"]),
        ('"india team"~3', ["India cricket team", "India team wins"]),
        ('"india team"~4', ["India cricket team", "India team wins", "India won the cup with a young team"]),
        ('"team india"~2', ["Team India", "Team and team of India"]),
        ('"team team india"', ["Team and team of India"]),
        ('"team team"~9', ["Team and team of India"]),
        ('"india team india"~9', []),
    ],
)
def test_a_phrase_with_slop_finds_its_words_in_order_each_at_most_slop_positions_after_the_last(
    slop_snapshot, text, titles
):
    q = parse_user_query(PARSER, text)
    docs, scores = Evaluator(slop_snapshot).run(q)

    assert sorted(slop_snapshot.stored(d)["title"] for d in docs) == titles
    assert docs.tolist() == whoosh_documents(slop_snapshot, q)
    assert (scores > 0).all()


@pytest.mark.parametrize(
    ("q", "named"),
    [
        (query.FuzzyTerm("title", "indai"), "FuzzyTerm: title:indai~"),
        (query.Regex("title", "ind.*"), 'Regex: title:r"ind.*"'),
        (query.TermRange("title", "a", "c"), "TermRange: title:[a TO c]"),
        (query.DisjunctionMax([query.Term("title", "india")]), "DisjunctionMax: DisMax(title:india)"),
        (
            query.Ordered([query.Term("title", "india"), query.Term("title", "team")]),
            "Ordered: (title:india BEFORE title:team)",
        ),
        (query.Every("title"), "every document with a value in one field: title:*"),
        (query.And([query.Term("title", "india"), query.Variations("title", "team")]), "Variations: title:<team>"),
    ],
)
def test_a_query_node_the_evaluator_does_not_implement_is_refused_with_a_query_error(slop_snapshot, q, named):
    with pytest.raises(QueryError) as caught:
        Evaluator(slop_snapshot).run(q)

    assert caught.value.parameter == "q"
    assert str(caught.value) == (
        f"This search uses a kind of query that is not supported ({named}). "
        'Use words, "quoted phrases" (with ~N for words up to N apart), word*, field:value, OR, NOT or -word instead.'
    )


def test_a_phrase_in_a_field_without_positions_is_refused_with_a_query_error(slop_snapshot):
    with pytest.raises(QueryError) as caught:
        Evaluator(slop_snapshot).run(query.Phrase("spelling", ["india", "team"]))

    assert str(caught.value) == (
        "The field 'spelling' keeps no word positions, so a phrase cannot be searched in it; "
        "search its words without quotes instead."
    )


def test_an_error_while_evaluating_propagates_instead_of_matching_nothing(slop_snapshot, monkeypatch):
    def broken(field, text, docs):
        raise OSError("postings file unreadable")

    monkeypatch.setattr(slop_snapshot, "position_keys", broken)

    with pytest.raises(OSError, match="postings file unreadable"):
        Evaluator(slop_snapshot).run(parse_user_query(PARSER, '"india team"~2'))
