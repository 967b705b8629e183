"""Exports: /api/export.csv and /api/export.jsonl (Flask's test client, and a real waitress
server), the results page's download links and ``searchsvc export``, on a small corpus of their
own: a syndicated pair (x01, x02), cells that would start spreadsheet formulas (x03, x04), an
undated article (x06). The engine contract (export = every page of a search, on both engines)
is tests/contract/test_contract_export.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from search_fixtures import Doc, build_corpus_index, name_of, request
from web_fixtures import Server, start_server

from searchsvc import export as export_module
from searchsvc.cli import main
from searchsvc.engine.interface import Hit
from searchsvc.export import csv_text, export_row
from searchsvc.search import SearchService
from searchsvc.web import create_app
from searchsvc.web.export import EXPORT_PARAMETERS, filename

HARBOUR = ("Harbour Herald", "harbourherald.example")
VALLEY = ("Valley Voice", "valleyvoice.example")
FORMULA_TITLE = '=HYPERLINK("https://evil.example","Click")'
# fmt: off
DOCS = [
    Doc("x01", "Storm closes the harbour", "Ferries stay in port.", "2023-02-01T08:00:00Z", HARBOUR,
        ["Weather"], "news", "article", 70, body="The storm closed the harbour for a day."),
    # a syndicated copy of x01: the same title a day later
    Doc("x02", "Storm closes the harbour", "Ferries stay in port.", "2023-02-02T08:00:00Z", VALLEY,
        ["Weather"], "news", "article", 60, body="The storm closed the harbour for a day."),
    Doc("x03", FORMULA_TITLE, "+1 for the storm walls, says the mayor", "2023-02-03T08:00:00Z", VALLEY,
        ["@risk", "Weather"], "blog", "article", 40, body="Storm walls held."),
    Doc("x04", "-40 degrees in a storm of cold", "@everyone: stay home", "2023-01-15T08:00:00Z", HARBOUR,
        ["Weather"], "news", "video", 80, body="A storm of cold air."),
    Doc("x05", "Festival returns to the valley", "Music, food and dancing.", "2023-03-01T08:00:00Z", VALLEY,
        ["Culture"], "news", "article", 55, body="The festival is back."),
    Doc("x06", "Gardens bloom early", "A warm spring.", None, HARBOUR, ["Culture"], body="Roses in March."),
]
# fmt: on
HEADER = "id,title,excerpt,url,provider,domain,published,topics,category,type,quality,score,duplicates"
TODAY = r"\d{4}-\d{2}-\d{2}"


def url(name: str) -> str:
    return next(doc.url for doc in DOCS if doc.name == name)


@pytest.fixture(scope="module")
def export_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus_index(tmp_path_factory.mktemp("export"), DOCS)


@pytest.fixture
def client(export_index: Path):
    return create_app(test_config={"index_dir": str(export_index), "result_cache": 0}).test_client()


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


# --- CSV ---------------------------------------------------------------------------------------


def test_a_csv_export_has_a_header_row_and_one_row_per_result_in_result_order(client):
    response = client.get("/api/export.csv?sort=newest")

    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.is_streamed
    assert response.get_data(as_text=True) == "\r\n".join(
        [
            HEADER,
            f'{url("x05")},Festival returns to the valley,"Music, food and dancing.",{url("x05")},Valley Voice,'
            "valleyvoice.example,2023-03-01T08:00:00Z,Culture,news,article,55,0.0,0",
            # x03's title and excerpt would be formulas; its "@risk" topic makes the topics cell start with @
            f'{url("x03")},"\'=HYPERLINK(""https://evil.example"",""Click"")","\'+1 for the storm walls, says '
            f"the mayor\",{url('x03')},Valley Voice,valleyvoice.example,2023-02-03T08:00:00Z,'@risk; Weather,blog,"
            "article,40,0.0,0",
            # the newer copy of the syndicated pair stands for it
            f"{url('x02')},Storm closes the harbour,Ferries stay in port.,{url('x02')},Valley Voice,"
            "valleyvoice.example,2023-02-02T08:00:00Z,Weather,news,article,60,0.0,1",
            f"{url('x04')},'-40 degrees in a storm of cold,'@everyone: stay home,{url('x04')},Harbour Herald,"
            "harbourherald.example,2023-01-15T08:00:00Z,Weather,news,video,80,0.0,0",
            f"{url('x06')},Gardens bloom early,A warm spring.,{url('x06')},Harbour Herald,harbourherald.example,,"
            "Culture,,,,0.0,0",
            "",
        ]
    )


def test_an_export_says_its_total_rows_generation_and_file_name_in_headers(client):
    response = client.get("/api/export.csv?q=harbour")

    assert response.headers["X-Export-Total"] == "1"
    assert response.headers["X-Export-Rows"] == "1"
    assert response.headers["X-Export-Relaxed"] == "false"
    assert response.headers["X-Export-Generation"] == "gen-000001"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(f'attachment; filename="searchsvc-harbour-{TODAY}.csv"', disposition)


def test_the_file_name_keeps_the_querys_words_as_ascii_and_the_day():
    search = request(q='Café "São Paulo" -storm OR x*')
    day = dt.date(2024, 5, 6)

    assert filename(search, "csv", day) == "searchsvc-cafe-sao-paulo-storm-or-x-2024-05-06.csv"
    assert filename(request(), "jsonl", day) == "searchsvc-2024-05-06.jsonl"
    assert filename(request(q="!!!"), "csv", day) == "searchsvc-2024-05-06.csv"
    assert filename(request(q="a" * 100), "csv", day) == f"searchsvc-{'a' * 40}-2024-05-06.csv"


def test_the_csv_rows_are_the_hits_of_api_search_in_the_same_order(client):
    search = client.get("/api/search?q=storm&per_page=100").get_json()
    exported = rows(client.get("/api/export.csv?q=storm"))

    assert exported[0] == HEADER.split(",")
    assert [row[0] for row in exported[1:]] == [hit["id"] for hit in search["hits"]]
    assert [float(row[11]) for row in exported[1:]] == [hit["score"] for hit in search["hits"]]
    assert [int(row[12]) for row in exported[1:]] == [hit["duplicates"] for hit in search["hits"]]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2 degrees", "'-2 degrees"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a = b", "a = b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_a_csv_text_cell_that_would_start_a_formula_gets_a_leading_apostrophe(text, cell):
    assert csv_text(text) == cell


def test_numbers_and_dates_of_a_csv_row_are_never_guarded():
    hit = Hit("id", "t", "", "", "", "", None, ["-a", "b"], "", -1.5, quality=-3, duplicates=2)

    assert export_row(hit) == ["id", "t", "", "", "", "", "", "'-a; b", "", "", -3, -1.5, 2]


# --- JSON Lines ----------------------------------------------------------------------------------


def test_a_jsonl_export_has_one_api_search_hit_a_line_without_highlights(client):
    search = client.get("/api/search?q=storm&per_page=100").get_json()
    response = client.get("/api/export.jsonl?q=storm")

    assert response.status_code == 200
    assert response.content_type == "application/x-ndjson; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(f'attachment; filename="searchsvc-storm-{TODAY}.jsonl"', disposition)
    assert lines(response) == [{k: v for k, v in hit.items() if k != "highlights"} for hit in search["hits"]]


def test_jsonl_keeps_texts_as_they_are_and_never_holds_a_secured_field(client):
    found = {name_of(line["id"]): line for line in lines(client.get("/api/export.jsonl"))}

    assert found["x03"]["title"] == FORMULA_TITLE
    assert found["x03"]["topics"] == ["@risk", "Weather"]
    assert all("secured" not in line and "highlights" not in line for line in found.values())


def test_a_download_stopped_part_way_closes_the_export(client, monkeypatch: pytest.MonkeyPatch):
    closed = []
    export = SearchService.export

    def recording(self, *args):
        results = export(self, *args)
        close = results.close
        results.close = lambda: (closed.append(True), close())
        return results

    monkeypatch.setattr(SearchService, "export", recording)
    monkeypatch.setattr(export_module, "EXPORT_CHUNK", 1)  # a chunk a row
    response = client.get("/api/export.csv", buffered=False)
    first = next(iter(response.response))
    response.close()

    assert first.decode().startswith(HEADER)
    assert closed == [True]


# --- the search's parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("provider=Valley+Voice&sort=oldest", ["x02", "x03", "x05"]),
        ("topic=Weather&from=2023-02&sort=oldest", ["x01", "x03"]),
        ("type=video", ["x04"]),
        ("q=storm&category=blog", ["x03"]),
        ("q=festival+OR+gardens&sort=newest", ["x05", "x06"]),
    ],
)
def test_an_export_applies_the_searchs_filters_and_sort(client, query, expected):
    assert [name_of(line["id"]) for line in lines(client.get(f"/api/export.jsonl?{query}"))] == expected


def test_an_export_folds_syndicated_copies_unless_collapse_is_false(client):
    folded = lines(client.get("/api/export.jsonl?q=harbour&sort=oldest"))
    every = lines(client.get("/api/export.jsonl?q=harbour&sort=oldest&collapse=false"))

    assert [(name_of(line["id"]), line["duplicates"]) for line in folded] == [("x01", 1)]
    assert [(name_of(line["id"]), line["duplicates"]) for line in every] == [("x01", 0), ("x02", 0)]


def test_a_relaxed_search_exports_its_partial_matches_and_says_so(client):
    response = client.get("/api/export.jsonl?q=festival+roses")

    assert response.headers["X-Export-Relaxed"] == "true"
    assert [name_of(line["id"]) for line in lines(response)] == [
        hit["id"].rsplit("/", 1)[-1] for hit in client.get("/api/search?q=festival+roses").get_json()["hits"]
    ]


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("sort=best", "sort", "Parameter 'sort' must be one of relevance, newest, oldest, quality; got 'best'."),
        ("from=2023-13", "from", "Parameter 'from' must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got '2023-13'."),
        ("collapse=maybe", "collapse", "Parameter 'collapse' must be true or false; got 'maybe'."),
        (
            "page=2",
            "page",
            "Parameter 'page' does not apply to an export: an export holds every result, not a page "
            "(limit= keeps the first N).",
        ),
        ("facets=none", "facets", "Parameter 'facets' does not apply to an export: an export counts no facets."),
        ("limit=ten", "limit", "Parameter 'limit' must be a whole number, such as limit=1000; got 'ten'."),
        ("limit=1&limit=2", "limit", "Parameter 'limit' was given 2 times; give it once."),
        (
            "limit=0",
            "limit",
            "Parameter 'limit' must be a whole number from 1 to 1000000 (the export_max_rows setting); got 0.",
        ),
    ],
)
def test_a_bad_parameter_is_a_400_json_error_before_any_row(client, query, parameter, message):
    response = client.get(f"/api/export.csv?{query}")

    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False,
        "status": 400,
        "error": message,
        "errors": [{"parameter": parameter, "message": message}],
    }


def test_an_unknown_parameter_is_refused_with_the_valid_ones(client):
    response = client.get("/api/export.jsonl?qq=storm")

    assert response.status_code == 400
    assert response.get_json()["error"] == f"Unknown parameter 'qq'. Valid parameters: {', '.join(EXPORT_PARAMETERS)}."
    assert EXPORT_PARAMETERS[:3] == ("q", "provider", "domain")
    assert EXPORT_PARAMETERS[-1] == "limit"
    assert not {"page", "per_page", "facets", "facet_size"} & set(EXPORT_PARAMETERS)


# --- the row cap ---------------------------------------------------------------------------------


@pytest.fixture
def capped(export_index: Path):
    config = {"index_dir": str(export_index), "result_cache": 0, "export_max_rows": 3}
    return create_app(test_config=config).test_client()


def test_a_search_with_more_results_than_export_max_rows_is_refused_saying_how_to_narrow_it(capped):
    response = capped.get("/api/export.csv")

    message = (
        "This search has 5 results, more than the 3 one export may hold (the export_max_rows setting). "
        "Narrow it with filters or dates, or export the first 3 only: add limit=3 (--limit 3 on the command line)."
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False,
        "status": 400,
        "error": message,
        "errors": [{"parameter": "limit", "message": message}],
    }


def test_a_limit_exports_the_first_rows_of_a_search_over_the_cap(capped):
    response = capped.get("/api/export.jsonl?sort=oldest&limit=3")

    assert (response.headers["X-Export-Total"], response.headers["X-Export-Rows"]) == ("5", "3")
    assert [name_of(line["id"]) for line in lines(response)] == ["x04", "x01", "x03"]


def test_a_limit_above_the_cap_is_refused(capped):
    response = capped.get("/api/export.jsonl?limit=4")

    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "Parameter 'limit' must be a whole number from 1 to 3 (the export_max_rows setting); got 4."
    )


def test_a_search_within_the_cap_exports_every_result(capped):
    response = capped.get("/api/export.csv?provider=Valley+Voice")

    assert (response.headers["X-Export-Total"], response.headers["X-Export-Rows"]) == ("3", "3")
    assert len(rows(response)) == 4


# --- the results page ----------------------------------------------------------------------------


def test_the_results_page_links_its_search_as_csv_and_json_lines_without_the_page(client):
    html = client.get("/?q=storm&provider=Valley+Voice&page=1&sort=newest&per_page=20").get_data(as_text=True)

    query = "q=storm&amp;provider=Valley+Voice&amp;sort=newest"
    assert (
        f'<p class="export">Download <a href="/api/export.csv?{query}" rel="nofollow">CSV</a> · '
        f'<a href="/api/export.jsonl?{query}" rel="nofollow">JSON Lines</a></p>'
    ) in html


def test_the_results_page_links_the_first_rows_when_the_search_is_over_the_cap(capped):
    html = capped.get("/").get_data(as_text=True)

    assert (
        '<p class="export">Download the first 3 results as <a href="/api/export.csv?limit=3" rel="nofollow">CSV</a>'
    ) in html


def test_a_search_without_results_offers_no_download(client):
    assert 'class="export"' not in client.get("/?q=nothingmatchesthis").get_data(as_text=True)


# --- over real HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("export-server")
    index = build_corpus_index(workdir, DOCS)
    yield from start_server(workdir / "corpus", index, workdir)


def test_a_real_server_streams_the_export_in_chunks(server: Server):
    status, headers, body = server.get("/api/export.csv?sort=oldest&collapse=false")

    assert status == 200
    assert headers["Transfer-Encoding"] == "chunked"  # streamed: no Content-Length known in advance
    assert [row[0] for row in csv.reader(io.StringIO(body.decode("utf-8")))] == [
        "id",
        *map(url, ["x04", "x01", "x02", "x03", "x05", "x06"]),
    ]


def test_a_real_server_answers_a_bad_export_with_the_json_error(server: Server):
    status, headers, body = server.get("/api/export.jsonl?per_page=5")

    assert (status, headers["Content-Type"]) == (400, "application/json")
    assert json.loads(body)["errors"][0]["parameter"] == "per_page"


# --- searchsvc export ----------------------------------------------------------------------------


@pytest.fixture
def export(export_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``searchsvc export ARGS --index <the index>`` from an empty folder, no SEARCHSVC_*."""
    for name in list(os.environ):
        if name.startswith("SEARCHSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict | None = None):
        return CliRunner().invoke(main, ["export", *args, "--index", str(export_index)], env=env)

    return run


def test_the_export_command_writes_the_same_csv_as_the_api(export, client):
    result = export("--sort", "newest")

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == client.get("/api/export.csv?sort=newest").get_data()  # CRLF line ends too


def test_the_export_command_writes_json_lines_to_a_file_and_says_how_many(export, client, tmp_path: Path):
    result = export("storm", "--format", "jsonl", "--provider", "Valley Voice", "--output", "out.jsonl")

    assert result.exit_code == 0, result.output
    assert result.stderr == "Exported 2 results to out.jsonl.\n"
    expected = client.get("/api/export.jsonl?q=storm&provider=Valley+Voice").get_data(as_text=True)
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == expected


def test_the_export_command_takes_the_first_rows_with_limit(export, tmp_path: Path):
    result = export("--no-collapse", "--sort", "oldest", "--limit", "2", "-o", "two.csv")

    assert result.exit_code == 0, result.output
    assert result.stderr == "Exported 2 of 6 results to two.csv.\n"
    assert [row[0] for row in csv.reader(io.StringIO((tmp_path / "two.csv").read_text(encoding="utf-8")))] == [
        "id",
        url("x04"),
        url("x01"),
    ]


def test_the_export_command_refuses_a_search_over_the_cap_and_writes_no_file(export, tmp_path: Path):
    result = export("-o", "all.csv", env={"SEARCHSVC_EXPORT_MAX_ROWS": "2"})

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: This search has 5 results, more than the 2 one export may hold (the export_max_rows setting). "
        "Narrow it with filters or dates, or export the first 2 only: add limit=2 (--limit 2 on the command line).\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_export_command_names_its_option_in_errors(export):
    dates = export("--from", "2023-02-30")
    limit = export("--limit", "0")

    assert dates.exit_code == 2
    assert "Invalid value for '--from': must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got '2023-02-30'." in (
        dates.stderr
    )
    assert limit.exit_code == 2
    assert "Invalid value for '--limit': must be a whole number from 1 to 1000000 (the export_max_rows setting); " in (
        limit.stderr
    )
