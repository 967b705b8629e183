"""Security headers, CORS, what /api/stats lets anyone see (bounded, no server paths), article ids
that are paths, and the OpenAPI description's limits against what the server accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_web_pages import Page
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    app_fixture,
    client_fixture,
    web_corpus_fixture,
    web_index_fixture,
)

from searchsvc.config import Settings
from searchsvc.engine.whoosh_engine.summary import top_values
from searchsvc.indexer import build_index
from searchsvc.reindex import STATUS_FILE
from searchsvc.request import MAX_PAGE, MAX_QUERY_LENGTH
from searchsvc.web import create_app
from searchsvc.web.openapi import spec

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


# -- security headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/?q=climate", 200),
        ("/articles/https://dailyplanet.example/a01", 200),
        ("/search.atom?q=solar", 200),
        ("/api/search?q=solar", 200),
        ("/api/stats", 200),
        ("/api/openapi.json", 200),
        ("/healthz", 200),
        ("/static/style.css", 200),
        ("/static/search.js", 200),
        ("/api/search?page=0", 400),
        ("/?page=0", 400),
        ("/no/such/page", 404),
        ("/api/no/such/thing", 404),
        ("/static/missing.css", 404),
    ],
)
def test_every_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    response.close()  # a static file is streamed from an open file

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_304_and_a_500_carry_the_security_headers_too(web_index, caplog):
    app = create_app(test_config={"index_dir": str(web_index)})

    @app.get("/api/explode")
    def explode():
        raise RuntimeError("boom")

    client = app.test_client()
    tag = client.get("/api/search?q=solar").headers["ETag"]
    revalidated = client.get("/api/search?q=solar", headers={"If-None-Match": tag})
    failed = client.get("/api/explode")

    assert (revalidated.status_code, failed.status_code) == (304, 500)
    for response in (revalidated, failed):
        assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.parametrize(
    "path", ["/", "/?q=climate", "/articles/https://dailyplanet.example/a01", "/?page=0", "/no/such/page"]
)
def test_pages_hold_no_inline_script_style_or_handler_the_policy_would_block(client, path):
    page = Page(client.get(path).get_data(as_text=True))

    scripts = page.find("script")
    assert [s.attrs.get("src") for s in scripts] == ["/static/search.js"]
    assert all(not s.text.strip() for s in scripts)
    assert page.find("style") == []
    inline = [(e.tag, name) for e in page.elements for name in e.attrs if name == "style" or name.startswith("on")]
    assert inline == []
    assert [e.attrs["href"] for e in page.find("link", rel="stylesheet")] == ["/static/style.css"]


def test_the_stylesheet_has_a_height_class_for_every_bar_height():
    css = (Path(__file__).resolve().parents[1] / "searchsvc" / "web" / "static" / "style.css").read_text()
    heights = {int(n): int(h) for n, h in re.findall(r"\.h-(\d+) \{ height: (\d+)%; \}", css)}

    assert heights == {n: n for n in range(101)}


# -- CORS --------------------------------------------------------------------------------------


def test_a_cors_preflight_gets_a_fixed_list_of_headers_never_an_echo(web_index):
    client = create_app(test_config={"index_dir": str(web_index), "cors_origins": "*"}).test_client()

    preflight = client.options(
        "/api/search",
        headers={
            "Origin": "https://any.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Evil, Cookie, If-None-Match",
        },
    )

    assert preflight.headers["Access-Control-Allow-Origin"] == "https://any.example"
    assert preflight.headers["Access-Control-Allow-Headers"] == (
        "Accept, Content-Type, If-None-Match, Authorization, X-Admin-Token"
    )


# -- /api/stats --------------------------------------------------------------------------------


def broken_and_warned_corpus(folder: Path, broken: int, undated: int) -> Path:
    """``broken`` files that fail (b00.md ...) and ``undated`` that warn (u00.md ...), in world/."""
    sub = folder / "world"
    sub.mkdir(parents=True)
    for n in range(broken):
        (sub / f"b{n:02d}.md").write_text("---\ntitle: Broken\nprovider:\n\tname: Tabs\n---\n", encoding="utf-8")
    for n in range(undated):
        text = f"---\ntitle: Undated {n}\nwebUrl: https://example.com/u{n}\n---\nBody.\n"
        (sub / f"u{n:02d}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(name="messy_index", scope="module")
def messy_index_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("messy")
    corpus = broken_and_warned_corpus(root / "corpus", broken=30, undated=25)
    index = root / "index"
    report = build_index([str(corpus)], index, full=True, lock_timeout=5)  # an absolute source
    assert (report.failed, len(report.warnings)) == (30, 25)
    return corpus, index


def test_stats_api_lists_the_first_20_failures_and_warnings_with_totals_and_no_server_paths(messy_index):
    corpus, index = messy_index
    client = create_app(test_config={"index_dir": str(index), "source": (str(corpus),)}).test_client()

    response = client.get("/api/stats")
    data = response.get_json()

    assert response.status_code == 200
    report = data["report"]
    assert (report["failed"], report["warned"]) == (30, 25)
    assert report["failures"] == [
        f"world/b{n:02d}.md:4: YAML error: found character that cannot start any token" for n in range(20)
    ]
    assert report["warnings"] == [f"world/u{n:02d}.md: no publishedDateTime; indexed without a date" for n in range(20)]
    assert data["last_report"] == "added 25, updated 0, unchanged 0, deleted 0, duplicates 0, failed 30"
    assert "index_dir" not in data
    body = response.get_data(as_text=True)
    assert str(corpus.parent) not in body
    assert not re.search(r'"/(tmp|home|srv|root)\b', body)


def test_cli_stats_keeps_showing_the_operator_the_paths(messy_index):
    from click.testing import CliRunner

    from searchsvc.cli import main

    corpus, index = messy_index
    result = CliRunner().invoke(main, ["stats", "--index", str(index), "--json"])

    data = json.loads(result.output)
    assert data["index_dir"] == str(index)
    assert len(data["report"]["failures"]) == 30
    assert data["report"]["failures"][0].startswith(str(corpus / "world" / "b00.md"))


def test_stats_are_computed_once_per_generation_and_again_for_a_new_one(tmp_path, monkeypatch):
    from searchsvc.engine.whoosh_engine import search as whoosh_search

    monkeypatch.setattr(whoosh_search, "CHECK_INTERVAL", 0)  # switch generations at once
    corpus = broken_and_warned_corpus(tmp_path / "corpus", broken=0, undated=3)
    build_index([str(corpus)], tmp_path / "index", full=True, lock_timeout=5)
    app = create_app(test_config={"index_dir": str(tmp_path / "index"), "source": (str(corpus),)})
    client = app.test_client()

    first = client.get("/api/stats").get_json()
    cached = app.extensions["searchsvc.stats"]["gen-000001"]
    again = client.get("/api/stats").get_json()
    (corpus / "world" / "u99.md").write_text("---\ntitle: One more\nwebUrl: https://example.com/x\n---\n")
    build_index([str(corpus)], tmp_path / "index", full=True, lock_timeout=5)
    after = client.get("/api/stats").get_json()

    assert app.extensions["searchsvc.stats"]["gen-000002"]["documents"] == 4
    assert list(app.extensions["searchsvc.stats"]) == ["gen-000002"]
    assert (first["generation"], first["documents"], cached["documents"]) == ("gen-000001", 3, 3)
    assert again == first
    assert (after["generation"], after["documents"]) == ("gen-000002", 4)


def test_top_values_count_live_documents_from_the_snapshot_columns(app, web_index):
    engine = app.extensions["searchsvc.service"].engine
    snapshot = engine.view()

    providers = [("Green Wire", 5), ("Daily Planet", 4), ("Tech Times", 4)]
    assert top_values(snapshot, "provider", 10) == providers
    assert engine.summary(snapshot).top_providers == providers
    assert top_values(snapshot, "provider", 1) == [("Green Wire", 5)]
    assert top_values(snapshot, "topic", 2) == [("Climate", 6), ("Energy", 4)]


def test_the_reindex_status_in_stats_is_bounded_and_shows_no_server_paths(messy_index, tmp_path):
    corpus, index = messy_index
    failures = [f"{corpus}/world/b{n:02d}.md:4: YAML error" for n in range(50)]
    last_run = {
        "id": "abc123def456",
        "full": False,
        "trigger": "api",
        "started_at": "2026-01-01T00:00:00.000+00:00",
        "finished_at": "2026-01-01T00:00:01.000+00:00",
        "seconds": 1.0,
        "ok": True,
        "error": None,
        "report": {"added": 0, "failed": 50, "failures": failures},
        "status_error": f"Cannot write {index / STATUS_FILE}: Permission denied",
    }
    (index / STATUS_FILE).write_text(json.dumps({"last_run": last_run}), encoding="utf-8")
    try:
        client = create_app(test_config={"index_dir": str(index), "source": (str(corpus),)}).test_client()
        response = client.get("/api/stats")
    finally:
        (index / STATUS_FILE).unlink()

    last = response.get_json()["reindex"]["last_run"]
    assert last["report"]["failed"] == 50
    assert last["report"]["failures"] == [f"world/b{n:02d}.md:4: YAML error" for n in range(20)]
    assert last["status_error"] == f"Cannot write {STATUS_FILE}: Permission denied"
    assert str(corpus.parent) not in response.get_data(as_text=True)


# -- article ids that are paths ------------------------------------------------------------------


@pytest.mark.parametrize("relative_source", [True, False])
def test_an_article_without_a_url_has_a_working_page_whatever_its_id_holds(tmp_path, monkeypatch, relative_source):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "news" / "world" / "2022"
    folder.mkdir(parents=True)
    (folder / "quake.md").write_text("---\ntitle: Quake shakes the coast\n---\nBody.\n", encoding="utf-8")
    source = "news" if relative_source else str(tmp_path / "news")
    build_index([source], tmp_path / "index", full=True, lock_timeout=5)
    client = create_app(test_config={"index_dir": str(tmp_path / "index"), "source": (source,)}).test_client()

    hit = client.get("/api/search?q=quake").get_json()["hits"][0]
    page = Page(client.get("/?q=quake").get_data(as_text=True))
    link = page.find("a", class_="related-link")[0].attrs["href"]
    article = client.get(link)
    api = client.get(f"/api/articles/{hit['id']}")

    assert hit["id"].endswith("world/2022/quake.md") and "/" in hit["id"]
    assert link == f"/articles/{hit['id']}"
    assert article.status_code == 200
    assert Page(article.get_data(as_text=True)).texts("h1") == ["Quake shakes the coast"]
    assert (api.status_code, api.get_json()["article"]["id"]) == (200, hit["id"])


# -- the OpenAPI description against the server ------------------------------------------------


def search_parameter(name: str) -> dict:
    parameters = spec(Settings())["paths"]["/api/search"]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


def test_the_spec_gives_the_query_length_the_server_accepts(client):
    limit = search_parameter("q")["maxLength"]

    assert limit == MAX_QUERY_LENGTH
    assert client.get("/api/search", query_string={"q": "a" * limit}).status_code == 200
    longer = client.get("/api/search", query_string={"q": "a" * (limit + 1)})
    assert longer.status_code == 400
    assert longer.get_json()["errors"][0]["parameter"] == "q"


@pytest.mark.parametrize(("name", "low_ok"), [("page", 1), ("per_page", 1), ("facet_size", 1)])
def test_the_spec_gives_the_integer_bounds_the_server_accepts(client, name, low_ok):
    schema = search_parameter(name)

    for value, status in ((schema["minimum"] - 1, 400), (schema["minimum"], 200)):
        assert client.get("/api/search", query_string={name: value}).status_code == status, (name, value)
    for value, status in ((schema["maximum"], 200), (schema["maximum"] + 1, 400)):
        assert client.get("/api/search", query_string={name: value}).status_code == status, (name, value)


@pytest.mark.parametrize("value", ["0000", "0000-01", "2022-13", "2022-00-10", "2022-01-32", "22-01-01", "2022-1-1"])
def test_dates_the_server_refuses_are_refused_by_the_spec_pattern(client, value):
    pattern = re.compile(search_parameter("from")["pattern"])

    assert client.get("/api/search", query_string={"from": value}).status_code == 400
    assert pattern.search(value) is None


@pytest.mark.parametrize("value", ["0001", "2022", "2022-02", "2022-02-28", "9999-12-31"])
def test_dates_the_spec_allows_are_accepted_by_the_server(client, value):
    pattern = re.compile(search_parameter("from")["pattern"])

    assert pattern.search(value) is not None
    assert client.get("/api/search", query_string={"from": value}).status_code == 200


def test_the_spec_refuses_the_empty_article_id_the_server_refuses(client):
    schema = spec(Settings())["paths"]["/api/article"]["get"]["parameters"][0]["schema"]

    assert (schema["minLength"], re.search(schema["pattern"], "   ")) == (1, None)
    for value in ("", "   "):
        assert client.get("/api/article", query_string={"id": value}).status_code == 400


def test_pages_counts_only_the_pages_that_can_be_asked_for(client):
    results = client.get("/api/search?per_page=1").get_json()
    spec_pages = spec(Settings())["components"]["schemas"]["SearchResults"]["properties"]["pages"]

    assert (results["total"], results["pages"]) == (13, 13)
    assert str(MAX_PAGE) in spec_pages["description"]


def test_pages_is_capped_at_the_last_page_the_server_serves():
    from searchsvc.request import SearchRequest
    from searchsvc.search import SearchResults

    many = SearchResults(request=SearchRequest(per_page=10), total=1_519_640, hits=[], facets={})
    few = SearchResults(request=SearchRequest(per_page=10), total=21, hits=[], facets={})
    none = SearchResults(request=SearchRequest(per_page=10), total=0, hits=[], facets={})

    assert (many.pages, few.pages, none.pages) == (MAX_PAGE, 3, 0)
