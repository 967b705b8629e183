"""spelling: edit distance, corrections and completions over a vocabulary, and the "did you mean"
suggestion of a real search over the corpus in search_fixtures."""

from __future__ import annotations

import random
import string

import pytest
from search_fixtures import names, request, search_index_fixture, service_fixture  # noqa: F401 - fixtures

from searchsvc.engine.whoosh_engine.spelling import DeleteIndex, Vocabulary, _deletes, edit_distance

WORDS = [("glacier", 3), ("glance", 1), ("solar", 2), ("sonar", 20), ("the", 50), ("ox", 100), ("covid19", 4)]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary(WORDS)


# --- edit distance -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("glacier", "glacier", 0),
        ("glacer", "glacier", 1),  # deletion
        ("glaciers", "glacier", 1),  # insertion
        ("glazier", "glacier", 1),  # substitution
        ("glaicer", "glacier", 1),  # transposition counts once
        ("glacial", "glacier", 2),
        ("", "abc", 3),
        ("abc", "xyzxyz", 3),  # capped at the limit
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance_counts_edits_up_to_the_limit(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_edit_distance_limit_can_be_raised():
    assert edit_distance("abc", "xyzxyz", limit=10) == 6


# --- corrections -------------------------------------------------------------------------------


@pytest.mark.parametrize("typo", ["glacer", "glaicer", "glazier", "glaciers", "Glacer"])
def test_word_one_edit_from_a_known_word_is_corrected(vocabulary, typo):
    assert vocabulary.correct(typo) == "glacier"


def test_known_word_is_not_corrected(vocabulary):
    assert vocabulary.correct("glacier") is None
    assert vocabulary.correct("glance") is None


def test_rare_known_word_is_corrected_to_a_far_more_frequent_neighbour(vocabulary):
    # "solar" (2 documents) is one edit from "sonar" (20 documents, more than five times as many)
    assert vocabulary.correct("solar") == "sonar"


def test_nearest_word_wins_over_a_more_frequent_one(vocabulary):
    # "sola" is one edit from "solar" and two from "sonar"
    assert vocabulary.correct("sola") == "solar"


@pytest.mark.parametrize("word", ["ox", "oxe", "th", "g1acier", "", "zzzzzz"])
def test_short_non_alphabetic_and_unknown_words_get_no_correction(vocabulary, word):
    assert vocabulary.correct(word) is None


def test_completions_are_most_frequent_first_within_the_limit(vocabulary):
    assert vocabulary.complete("gla") == [("glacier", 3), ("glance", 1)]
    assert vocabulary.complete("GLA", limit=1) == [("glacier", 3)]
    assert vocabulary.complete("so") == [("sonar", 20), ("solar", 2)]
    assert vocabulary.complete("co") == [("covid19", 4)]
    assert vocabulary.complete("") == []
    assert vocabulary.complete("zzz") == []


def test_delete_index_finds_exactly_the_words_a_dictionary_of_delete_variants_finds():
    rng = random.Random(14)
    words = sorted({"".join(rng.choices("abcde", k=rng.randint(3, 7))) for _ in range(400)})
    by_variant: dict[str, list[str]] = {}
    for word in words:
        for variant in _deletes(word) | {word}:
            by_variant.setdefault(variant, []).append(word)
    index = DeleteIndex(words)
    typed = ["".join(rng.choices("abcdef", k=rng.randint(3, 8))) for _ in range(300)]

    for word in typed + words[:50]:
        variants = _deletes(word) | {word}
        expected = sorted({w for v in variants for w in by_variant.get(v, ())}, key=words.index)
        assert index.words_for(variants) == expected
    assert index.words_for({"".join(rng.choices(string.digits, k=5))}) == []


def test_words_without_letters_are_left_out():
    vocabulary = Vocabulary([("2022", 9), ("solar", 1)])

    assert vocabulary.complete("2") == []
    assert vocabulary.sorted_words == ["solar"]


# --- did you mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "suggestion"),
    [("glacer", "glacier"), ("glaicer", "glacier"), ("rockat", "rocket"), ("Telescpe", "telescope")],
)
def test_misspelled_word_suggests_the_correction_that_finds_documents(service, q, suggestion):
    results = service.search(request(q=q, typos="false"))

    assert (results.total, results.suggestion) == (0, suggestion)


@pytest.mark.parametrize(
    ("q", "corrected"),
    [("glacer", "glacier"), ("glaicer", "glacier"), ("rockat", "rocket"), ("Telescpe", "telescope")],
)
def test_misspelled_word_finds_the_articles_of_the_known_word_with_typo_tolerance(service, q, corrected):
    results = service.search(request(q=q))
    plain = service.search(request(q=corrected))

    assert (names(results), results.suggestion) == (names(plain), None)
    assert [(c.word, c.matched) for c in results.corrections] == [(q.lower(), (corrected,))]


def test_misspelled_word_in_a_longer_query_is_corrected_in_place(service):
    results = service.search(request(q="glacer melt", typos="false"))

    # nothing has both words, so the query is relaxed to the articles with "melt"
    assert (results.total, results.relaxed, names(results)) == (1, True, ["s10"])
    assert results.suggestion == "glacier melt"


@pytest.mark.parametrize("q", ["glacier", "solar", "rocket storm", "vapour", "title:glacer", "zzzzzz"])
def test_correctly_spelled_or_uncorrectable_query_has_no_suggestion(service, q):
    assert service.search(request(q=q)).suggestion is None


def test_suggestion_is_in_the_json_rendering(service):
    assert service.search(request(q="rockat", typos="false")).to_dict()["suggestion"] == "rocket"


def test_corrections_are_in_the_json_rendering(service):
    rendered = service.search(request(q="rockat")).to_dict()

    assert (rendered["corrections"], rendered["query"]["typos"]) == ([{"word": "rockat", "matched": ["rocket"]}], True)
