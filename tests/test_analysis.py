"""analysis.py is the one source of the text-analysis rules: its functions yield exactly what the
Whoosh schema's analyzers yield, on accented words, hostile tokens and real news titles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from whoosh.support.charset import accent_map

from searchsvc import analysis
from searchsvc.analysis import (
    FUNCTION_TERMS,
    LONG_QUERY_FUNCTION_WORDS,
    MAX_TOKEN_LENGTH,
    STOP_WORDS,
    analyse,
    analyse_plain,
    fold,
    stem,
)
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
STRINGS = [
    *ACCENTED.split(),
    ACCENTED,
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
