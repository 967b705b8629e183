"""cli: the ``search`` command as a user runs it (click's CliRunner) on a real index of the corpus
in search_fixtures, and render_results_text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from search_fixtures import ID, search_index_fixture  # noqa: F401 - fixtures register by being imported

from searchsvc.cli import main, render_results_text
from searchsvc.engine.interface import Facet, FacetValue
from searchsvc.search import SearchRequest, SearchResults

MS = r"\(\d+\.\d ms\)"


@pytest.fixture
def search(search_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``searchsvc search ARGS --index <corpus index>`` from an empty folder, no SEARCHSVC_*."""
    for name in list(os.environ):
        if name.startswith("SEARCHSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["search", *args, "--index", str(search_index)])

    return run


def test_search_prints_the_count_hits_and_facets(search):
    result = search("vapour")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"1 result {MS}, showing 1-1", lines[0]), lines[0]
    assert lines[1:] == [
        "",
        "1. Telescope spots water *vapour*",
        f"   Polar Press · 2022-06-30 · {ID['s15']}",
        "   Astronomers found water *vapour* around a distant planet.",
        "",
        "provider: Polar Press (1)",
        "",
        "domain: polarpress.example (1)",
        "",
        "topic: Space (1)",
        "",
        "category: news (1)",
        "",
        "type: article (1)",
        "",
        "date by day: 2022-06-30 (1)",
    ]


def test_search_shows_the_page_range_and_folded_copies(search):
    result = search("rocket", "--per-page", "1", "--page", "1")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"2 results {MS}, showing 1-1", lines[0]), lines[0]
    assert lines[2:4] == [
        "1. *rocket* launch delayed by storm",
        f"   Tech Times · 2022-04-02 · {ID['s13']} (+1 similar)",
    ]


def test_search_second_page_numbers_hits_from_the_offset(search):
    result = search("rocket", "--per-page", "1", "--page", "2")

    lines = result.output.splitlines()
    assert re.fullmatch(rf"2 results {MS}, showing 2-2", lines[0]), lines[0]
    assert lines[2] == "2. *Rocket* launch delayed by storm"


def test_no_collapse_shows_every_copy(search):
    result = search("rocket", "--no-collapse")

    assert re.fullmatch(rf"3 results {MS}, showing 1-3", result.output.splitlines()[0])


def test_search_with_no_match_prints_the_suggestion(search):
    result = search("glacer", "--no-typos")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"0 results {MS}", lines[0]), lines[0]
    assert lines[1:] == ["Did you mean: glacier"]


def test_search_with_a_misspelt_word_says_what_it_also_matched(search):
    result = search("glacer")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"2 results {MS}, showing 1-2", lines[0]), lines[0]
    assert lines[1] == "Including results for glacier (you typed glacer); --no-typos searches only the words as typed"


def test_relaxed_search_says_so_on_the_first_line(search):
    result = search("solar battery villages telescope rocket", "--per-page", "2")

    first = result.output.splitlines()[0]
    assert re.fullmatch(rf"8 results {MS}, showing 1-2 \[query relaxed: not every word matched\]", first), first


def test_provider_option_filters_and_marks_the_selected_value(search):
    result = search("", "--provider", "polar press", "--sort", "oldest")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"5 results {MS}, showing 1-5", lines[0]), lines[0]
    titles = [line for line in lines if re.match(r"\d+\. ", line)]
    assert titles == [
        "1. City council debates policing budget",
        "2. Best café in town serves cold brew",
        "3. Telescope spots water vapour",
        "4. Satellite maps sea ice",
        "5. Undated notes on telescope maintenance",
    ]
    assert f"   Polar Press · no date · {ID['s17']}" in lines
    assert "provider: Tech Times (6), Green Wire (5), [x] Polar Press (5), Daily Planet (4)" in lines


def test_filter_options_combine(search):
    result = search(
        "",
        "--topic",
        "Space",
        "--topic",
        "Food",
        "--type",
        "article",
        "--category",
        "news",
        "--domain",
        "polarpress.example",
        "--from",
        "2022-06",
        "--to",
        "2022-06-30",
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"1 result {MS}, showing 1-1", lines[0]), lines[0]
    assert lines[2] == "1. Telescope spots water vapour"


def test_json_output_parses_and_has_total_hits_and_facets(search):
    result = search("rocket", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 2
    assert [(hit["id"], hit["duplicates"]) for hit in data["hits"]] == [(ID["s13"], 1), (ID["s14"], 0)]
    assert list(data["facets"]) == ["provider", "domain", "topic", "category", "type", "date"]
    assert data["facets"]["topic"]["values"] == [{"value": "Space", "count": 3, "selected": False}]
    assert data["query"]["q"] == "rocket"


def test_json_output_keeps_unicode_readable(search):
    result = search("café", "--json")

    assert "Best café in town serves cold brew" in result.output
    assert json.loads(result.output)["total"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("x", "--from", "yesterday"),
            "Invalid value for '--from': must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got 'yesterday'.",
        ),
        (
            ("x", "--to", "2022-02-30"),
            "Invalid value for '--to': must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got '2022-02-30'.",
        ),
        (
            ("x", "--from", "2022-07-01", "--to", "2022-06-30"),
            "Invalid value for '--from': 2022-07-01 is after --to (2022-06-30); swap them.",
        ),
        (("x", "--per-page", "500"), "Invalid value for '--per-page': must be from 1 to 100; got 500."),
        (("x", "--page", "0"), "Invalid value for '--page': must be from 1 to 1000; got 0."),
        (("x", "--facet-size", "0"), "Invalid value for '--facet-size': must be from 1 to 1000; got 0."),
        (
            ("x", "--facets", "provider,author"),
            "Invalid value for '--facets': has unknown facet 'author'; "
            "valid: provider, domain, topic, category, type, date, or none.",
        ),
        (("x" * 4001,), "Invalid value for 'QUERY': is longer than 4000 characters; shorten the query."),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(search, args, message):
    result = search(*args)

    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "Usage: main search [OPTIONS] [QUERY]",
        "Try 'main search --help' for help.",
        "",
        f"Error: {message}",
    ]


def test_facets_option_prints_only_those_facets_with_facet_size_values(search):
    result = search("", "--per-page", "1", "--facets", "topic,provider", "--facet-size", "2")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-4:] == ["", "topic: Space (6), Energy (4)", "", "provider: Tech Times (6), Green Wire (5)"]
    assert [line for line in lines if re.match(r"(domain|category|type|date)\b", line)] == []


def test_facets_none_prints_no_facets(search):
    result = search("vapour", "--facets", "none")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "",
        "1. Telescope spots water *vapour*",
        f"   Polar Press · 2022-06-30 · {ID['s15']}",
        "   Astronomers found water *vapour* around a distant planet.",
    ]


def test_missing_index_exits_1_naming_the_absolute_folder_and_the_commands_that_build_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SEARCHSVC_"):
            monkeypatch.delenv(name)

    result = CliRunner().invoke(main, ["search", "solar", "--index", "nothing-here"])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: No index at {Path.cwd() / 'nothing-here'}. Build one with "
        "'searchsvc index seeds --index nothing-here' (or start 'searchsvc serve --index nothing-here', "
        "which builds it)."
    ]


def test_render_results_text_puts_thousands_separators_in_counts():
    request = SearchRequest(page=101, per_page=10)
    facet = Facet("provider", [FacetValue("Reuters", 1500, selected=True), FacetValue("AP", 999)])
    results = SearchResults(request, total=2102, hits=[], facets={"provider": facet}, took_ms=1.25)

    assert render_results_text(results) == [
        "2,102 results (1.2 ms)",
        "",
        "provider: [x] Reuters (1,500), AP (999)",
    ]


def test_unreadable_query_syntax_is_not_an_error(search):
    result = search('(((( "unclosed')

    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"0 results {MS}", result.output.splitlines()[0])
