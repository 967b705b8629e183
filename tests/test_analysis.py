"""analysis.py is the one source of the text-analysis rules: its functions yield exactly what the
Whoosh schema's analyzers yield, on accented words, hostile tokens and real news titles."""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from pathlib import Path

import pytest
from whoosh.support.charset import accent_map

from searchsvc import analysis
from searchsvc.analysis import (
    ANALYSIS_VERSION,
    FUNCTION_TERMS,
    LONG_QUERY_FUNCTION_WORDS,
    MAX_TOKEN_LENGTH,
    STOP_WORDS,
    TOKEN_PATTERN,
    analyse,
    analyse_plain,
    fold,
    fold_token,
    join_apostrophes,
    stem,
)
from searchsvc.engine.opensearch_engine.mapping import index_body
from searchsvc.engine.ranking import DEFAULT_RANKING
from searchsvc.engine.whoosh_engine import query_parser, schema

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "seeds", Path("/work/shared/seeds"), Path("/work/shared/corpora/smartable-powerapps-news")]
ACCENTED = (
    "Élysée café naïve Zürich Øresund straße façade crème brûlée São Paulo Kraków Łódź Dvořák Ærøskøbing "
    "piñata jalapeño Ångström Reykjavík Þingvellir Ðakovo İstanbul ıspanak Mañana über Göteborg Malmö "
    "Curaçao Besançon Nîmes Québec Montréal Chișinău Timișoara Brașov Győr Pécs Škoda Čapek Žižek "
    "Ştefan Ţara Hà Nội Việt Nam Đà Nẵng Phở Ñandú résumé déjà vu cliché fiancée naïveté coöperate "
    "ÉLYSÉE CAFÉ ZÜRICH ØRESUND STRASSE ǅemal ĳssel ŉ Ĺubomír ﬁnance Ｆｕｌｌｗｉｄｔｈ ½ ² µ"
)


def _corpus_titles() -> list[str]:
    titles: list[str] = []
    for root in CORPORA:
        if root.is_dir():
            for path in sorted(root.rglob("*"))[:400]:
                if path.is_file() and path.suffix in (".md", ".txt"):
                    text = path.read_text(encoding="utf-8", errors="replace")
                    titles += re.findall(r"^title:\s*(.+)$", text, flags=re.MULTILINE)
    return titles


TITLES = _corpus_titles()
APOSTROPHE_TEXTS = [
    "Ballon d'Or winner Benzema's year; Ballon d’Or, d‘Or, dʼOr, d＇Or and DOR",
    "Trump's TRUMP’S trump’S O'Neill's O'Brien o’brien L'Oréal aujourd'hui Hawai'i Qur'an Shi'ite",
    "don't can't won't she'll we'll I'd I'm they're I've it's that's THAT'S let's ma'am y'all",
    "rock 'n' roll, James' car, the '90s and 80's, 1'000, 'quoted', x'' ''x x'y'z don't'x",
    "xʼs ʼor ʼ'y a'ʼb aʼ'b Trumpʼsʼ trump's's x'_y x_'y x'1 Trump'Ś 'ś",
]
STRINGS = [
    *ACCENTED.split(),
    ACCENTED,
    *APOSTROPHE_TEXTS,
    "The NEWS added an emergency: India's left-wing cartoq.com/x covid-19 U.S. it's we're",
    "a" * MAX_TOKEN_LENGTH + " " + "b" * (MAX_TOKEN_LENGTH + 1) + " İ" * 40,
    "x_y 3.14 10,000 ＡＢＣ１２３ \x00 \u200b \u00a0 tab\tnew\nline",
    "",
    *TITLES,
]


def _whoosh(analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


def test_the_shared_corpora_give_the_analysis_tests_many_titles():
    assert len(TITLES) >= 150


def test_analyse_yields_exactly_what_the_whoosh_text_analyzer_yields():
    analyzer = schema.text_analyzer()

    assert [analyse(text) for text in STRINGS] == [_whoosh(analyzer, text) for text in STRINGS]


def test_analyse_plain_yields_exactly_what_the_whoosh_plain_analyzer_yields():
    analyzer = schema.plain_analyzer()

    assert [analyse_plain(text) for text in STRINGS] == [_whoosh(analyzer, text) for text in STRINGS]


def test_fold_is_whooshs_accent_map_after_lower_casing_for_hundreds_of_accented_words():
    words = sorted(set(ACCENTED.split()) | {w for t in TITLES for w in t.split()})
    assert len(words) > 300

    assert [fold(w) for w in words] == [w.lower().translate(accent_map) for w in words]


def test_the_folding_table_is_whooshs_accent_map_character_for_character():
    assert analysis._FOLD == accent_map


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Élysée", "elysee"), ("Øresund", "oresund"), ("straße", "strase"), ("ZÜRICH", "zurich"), ("Łódź", "lodz")],
)
def test_fold_lower_cases_and_folds_accents(text, folded):
    assert fold(text) == folded


def test_stem_is_snowball_english_and_the_schema_keeps_its_name_for_pickled_indexes():
    assert [stem(w) for w in ("news", "added", "emergency", "policing")] == ["news", "add", "emergenc", "polic"]
    assert schema.snowball_english("policing") == "polic"
    assert schema.snowball_english.__module__ == "searchsvc.engine.whoosh_engine.schema"


def test_the_schema_and_the_whoosh_parser_use_the_constants_of_analysis():
    assert (schema.TOKEN_PATTERN, schema.STOP_WORDS, schema.MAX_TOKEN_LENGTH) == (
        analysis.TOKEN_PATTERN,
        STOP_WORDS,
        MAX_TOKEN_LENGTH,
    )
    assert query_parser.LONG_QUERY_FUNCTION_WORDS is LONG_QUERY_FUNCTION_WORDS
    assert query_parser.FUNCTION_TERMS is FUNCTION_TERMS


def test_function_terms_are_the_long_query_function_words_as_the_index_spells_them():
    assert {"what", "whi", "have", "doe", "becaus"} & FUNCTION_TERMS == {"what", "whi", "have", "doe"}
    assert "being" not in FUNCTION_TERMS and "be" in FUNCTION_TERMS  # stemmed
    assert len(FUNCTION_TERMS) == 51


def test_stop_words_and_words_longer_than_the_limit_are_dropped():
    assert analyse("the " + "x" * 65 + " solar") == ["solar"]
    assert analyse_plain("the " + "x" * 65 + " solar") == ["the", "solar"]


# --- apostrophes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Ballon d'Or", ["ballon", "dor"]),
        ("O'Brien", ["obrien"]),
        ("L'Oréal", ["loreal"]),
        ("aujourd'hui", ["aujourdhui"]),
        ("Hawai'i", ["hawaii"]),
        ("rock'n'roll", ["rocknrol"]),
        ("1'000", ["1000"]),
    ],
)
def test_an_apostrophe_between_letters_joins_a_word_and_is_removed(text, words):
    assert analyse(text) == words


@pytest.mark.parametrize("text", ["d'or", "d’or", "d‘or", "dʼor", "d＇or", "D'OR", "dor"])
def test_every_apostrophe_and_none_make_the_same_word(text):
    assert (analyse(text), analyse_plain(text)) == (["dor"], ["dor"])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Trump's", ["trump"]),
        ("Trump’s", ["trump"]),
        ("TRUMP'S", ["trump"]),
        ("O'Neill's", ["oneil"]),
        ("don't", ["don"]),
        ("she'll we'll I'd", ["she", "we", "i"]),
        ("they're I've I'm", ["they", "i", "i"]),
        ("that's", []),
    ],
)
def test_a_possessive_or_contraction_ending_is_cut_as_splitting_the_word_dropped_it(text, words):
    assert analyse(text) == words


def test_a_contraction_is_not_taken_for_the_word_its_letters_spell():
    assert analyse("she'll we'll I'd we're") == ["she", "we", "i", "we"]
    assert analyse("shell well id were") == ["shell", "well", "id", "were"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("rock 'n' roll", ["rock", "n", "roll"]),
        ("James' car", ["jame", "car"]),
        ("the '90s", ["90s"]),
        ("x'' ''y", ["x", "y"]),
        ("'quoted'", ["quot"]),
    ],
)
def test_an_apostrophe_at_the_edge_of_a_word_is_no_part_of_it(text, words):
    assert analyse(text) == words


def test_the_token_pattern_keeps_words_joined_by_apostrophes_whole_and_splits_at_other_marks():
    assert re.findall(TOKEN_PATTERN, "Ballon d'Or, O’Brien's rock 'n' roll cartoq.com left-wing x''y") == [
        "Ballon",
        "d'Or",
        "O’Brien's",
        "rock",
        "n",
        "roll",
        "cartoq",
        "com",
        "left",
        "wing",
        "x",
        "y",
    ]


def test_join_apostrophes_cuts_one_ending_then_removes_the_rest():
    assert [join_apostrophes(w) for w in ("trump's", "o'neill's", "trump's's", "d'or", "'s", "ʼor", "x")] == [
        "trump",
        "oneill",
        "trumps",
        "dor",
        "s",
        "or",
        "x",
    ]
    assert fold_token("L’Oréal's") == "loreal"


def test_the_analysis_version_is_recorded_in_new_whoosh_schemas():
    assert ANALYSIS_VERSION == 2
    assert schema.analysis_version(schema.make_schema()) == 2


OPENSEARCH_URL = os.environ.get("SEARCHSVC_TEST_OPENSEARCH_URL", "")


def _opensearch(method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(OPENSEARCH_URL + path, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _opensearch_words(index: str, analyzer: str, text: str) -> list[str]:
    answer = _opensearch("POST", f"/{index}/_analyze", {"analyzer": analyzer, "text": text})
    return [token["token"] for token in answer["tokens"]]


@pytest.mark.skipif(not OPENSEARCH_URL, reason="SEARCHSVC_TEST_OPENSEARCH_URL is not set")
def test_the_opensearch_mapping_analyses_apostrophes_exactly_as_analyse_and_analyse_plain():
    name = f"searchsvc-test-analysis-{uuid.uuid4().hex[:8]}"
    _opensearch("PUT", f"/{name}", index_body(DEFAULT_RANKING, 1, "0"))
    try:
        texts = [*APOSTROPHE_TEXTS, *(t for t in TITLES if re.search(r"\w['’‘＇ʼ]\w", t))]
        found = {
            analyzer: [_opensearch_words(name, analyzer, text) for text in texts]
            for analyzer in ("searchsvc_text", "searchsvc_plain")
        }
    finally:
        _opensearch("DELETE", f"/{name}")

    assert len(texts) >= 10
    assert found["searchsvc_text"] == [analyse(text) for text in texts]
    assert found["searchsvc_plain"] == [analyse_plain(text) for text in texts]
