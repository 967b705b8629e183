"""The fast indexing path of the schema's text fields gives exactly what Whoosh's own would."""

from __future__ import annotations

import pytest
from whoosh import fields

from searchsvc.engine.whoosh_engine.highlight import highlight
from searchsvc.engine.whoosh_engine.schema import analyse_token, make_schema, text_analyzer

TEXTS = [
    "A Salman Khan lookalike was arrested in Lucknow for disturbing the peace",
    "Rupinder Pal Singh Named Captain For Asia Cup As India Announce 20-Member Squad - NDTV Sports",
    "On May 9, the rupee settled at a record low of 77.4650/$1. The US said it's “fine”.",
    "Café owners in Zürich: naïve résumé, CAFÉS and cafes; U.S. news, new news",
    "the the the of of to be or not to be",
    "",
]


@pytest.mark.parametrize("field", ["title", "excerpt", "body", "topics_text", "spelling", "provider_text"])
@pytest.mark.parametrize("text", TEXTS)
def test_fast_text_field_indexes_exactly_like_whoosh_text(field, text):
    schema = make_schema()
    fast = sorted(schema[field].index(text))
    plain = sorted(fields.TEXT.index(schema[field], text))

    assert fast == plain


@pytest.mark.parametrize("word", ["running", "News", "ponies", "Café", "the", "India's", "1999", "ŒUVRE"])
def test_single_token_analysis_matches_the_analyzer(word):
    analyzer = text_analyzer()
    expected = [t.text for t in analyzer(word, mode="index")]

    assert analyse_token(analyzer, word) == (expected[0] if expected else "")


def test_porter2_keeps_news_apart_from_new():
    analyzer = text_analyzer()

    assert [analyse_token(analyzer, w) for w in ("news", "new", "running")] == ["news", "new", "run"]


def test_highlight_marks_words_whose_stem_ends_differently_from_the_word():
    assert highlight("Happy ponies, happier people", {"happi", "poni"}).render() == (
        "<mark>Happy</mark> <mark>ponies</mark>, happier people"
    )


def test_stemming_is_snowball_english_where_whoosh_porter2_port_errs():
    analyzer = text_analyzer()
    stems = {w: analyse_token(analyzer, w) for w in ("added", "adding", "add", "ad", "emergency", "emerge")}

    assert stems["added"] == stems["adding"] == stems["add"] == "add"
    assert stems["ad"] == "ad"
    assert stems["emergency"] != stems["emerge"]
