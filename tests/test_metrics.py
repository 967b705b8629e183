"""/metrics: the Prometheus text format, counted by route and status, in one process (the Flask
test client, the default registry) and across the workers of a real ``searchsvc serve``.

The default registry lives as long as the test process, so in-process tests compare a scrape
taken before the requests with one taken after them."""

from __future__ import annotations

import signal
import tempfile
import urllib.parse
from collections import Counter
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    app_fixture,
    client_fixture,
    start_server,
    url_of,
    web_corpus_fixture,
    web_index_fixture,
    write_corpus,
)

from searchsvc.config import Settings
from searchsvc.reindex import Reindexer
from searchsvc.web import create_app

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition: (name, its labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.data
    return parse(response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def change(before: Samples, after: Samples) -> Counter:
    """How much each sample grew between two scrapes (the samples that did)."""
    grown = Counter({key: after[key] - before.get(key, 0.0) for key in after})
    return Counter({key: amount for key, amount in grown.items() if amount})


def requests_changed(before: Samples, after: Samples) -> dict[tuple[str, str, str], float]:
    """(route, method, status) -> requests counted between two scrapes, /metrics' own left out."""
    found = {}
    for (name, labels), amount in change(before, after).items():
        if name == "searchsvc_http_requests_total":
            labels = dict(labels)
            if labels["route"] != "/metrics":
                found[(labels["route"], labels["method"], labels["status"])] = amount
    return found


def test_metrics_answers_the_prometheus_text_format_uncached_with_the_security_headers(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    text = response.get_data(as_text=True)
    assert "# TYPE searchsvc_http_requests_total counter" in text
    assert "# TYPE searchsvc_http_request_duration_seconds histogram" in text
    assert "# TYPE searchsvc_reindex_duration_seconds histogram" in text


def test_three_searches_and_a_bad_one_are_counted_by_route_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/search?q=solar").status_code == 200
    assert client.get("/api/search?q=solar&page=0").status_code == 400
    after = scrape(client)

    assert requests_changed(before, after) == {("/api/search", "GET", "200"): 3, ("/api/search", "GET", "400"): 1}
    count = "searchsvc_http_request_duration_seconds_count"
    assert value(after, count, route="/api/search") - value(before, count, route="/api/search") == 4
    # the engine ran the three valid searches only (this app has no result cache)
    took = "searchsvc_search_took_seconds_count"
    assert value(after, took) - value(before, took) == 3


def test_article_requests_are_counted_under_their_url_rule_not_their_url(client):
    before = scrape(client)
    assert client.get(f"/api/articles/{url_of('a01')}").status_code == 200
    assert client.get(f"/api/articles/{url_of('a08')}").status_code == 200
    assert client.get("/api/articles/https://nowhere.example/gone").status_code == 404
    assert client.get("/api/article?" + urllib.parse.urlencode({"id": url_of("a01")})).status_code == 200
    after = scrape(client)

    assert requests_changed(before, after) == {
        ("/api/articles/<id:doc_id>", "GET", "200"): 2,
        ("/api/articles/<id:doc_id>", "GET", "404"): 1,
        ("/api/article", "GET", "200"): 1,
    }
    labels = {v for _, pairs in after for _, v in pairs}
    assert not [v for v in labels if "example" in v]


def test_unknown_paths_and_methods_are_counted_as_route_or_method_other(client):
    before = scrape(client)
    for number in range(3):
        assert client.get(f"/no/such/page/{number}").status_code == 404
    assert client.open("/api/search", method="BREW").status_code == 405
    assert client.post("/api/search").status_code == 405
    after = scrape(client)

    assert requests_changed(before, after) == {
        ("other", "GET", "404"): 3,
        ("other", "other", "405"): 1,
        ("other", "POST", "405"): 1,
    }


def test_metrics_counts_itself_under_one_route_and_every_route_label_is_a_url_rule(app, client):
    first = scrape(client)
    client.get("/no/such/page")
    client.get("/api/search?q=solar")
    before = scrape(client)
    scrape(client)
    after = scrape(client)

    metrics = "searchsvc_http_requests_total"
    grown = {labels: amount for (name, labels), amount in change(before, after).items() if name == metrics}
    assert grown == {frozenset({"route": "/metrics", "method": "GET", "status": "200"}.items()): 2}
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    # (the registry is the process's: other tests' apps, with routes of their own, count there too)
    routes = {dict(labels)["route"] for (name, labels) in change(first, after) if name == metrics}
    assert routes - rules == {"other"}
    assert {"/metrics", "/api/search"} <= routes


def test_metrics_reports_the_document_count_and_generation_of_the_view_being_served(client):
    samples = scrape(client)

    assert value(samples, "searchsvc_index_documents") == 13
    assert value(samples, "searchsvc_index_info", engine="whoosh", generation="gen-000001") == 1
    assert [key for key in samples if key[0] == "searchsvc_index_info"] == [
        ("searchsvc_index_info", frozenset({"engine": "whoosh", "generation": "gen-000001"}.items()))
    ]


def test_metrics_leaves_out_the_index_gauges_while_there_is_no_index(tmp_path: Path):
    client = create_app(test_config={"index_dir": str(tmp_path / "none"), "result_cache": 0}).test_client()
    samples = scrape(client)

    assert [key for key in samples if key[0].startswith("searchsvc_index_")] == []
    assert client.get("/readyz").status_code == 503


def test_the_result_cache_counts_one_miss_then_hits_and_only_the_miss_is_timed(web_index: Path):
    client = create_app(test_config={"index_dir": str(web_index), "result_cache": 16}).test_client()
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/search?q=wind&facets=none").status_code == 200
    after = scrape(client)

    grown = change(before, after)
    assert grown[("searchsvc_search_cache_total", frozenset({"result": "miss"}.items()))] == 1
    assert grown[("searchsvc_search_cache_total", frozenset({"result": "hit"}.items()))] == 2
    assert grown[("searchsvc_search_took_seconds_count", frozenset())] == 1


def test_reindex_runs_are_counted_by_kind_and_outcome_and_timed(client, tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(index_dir=str(tmp_path / "index"), source=(str(corpus),), lock_timeout=10.0)
    before = scrape(client)
    reindexer = Reindexer(settings)
    reindexer.start(full=False)
    assert reindexer.wait(60)
    failing = Reindexer(settings.replace(source=(str(tmp_path / "missing"),)))
    failing.start(full=True)
    assert failing.wait(60)
    after = scrape(client)

    assert reindexer.status()["last_run"]["ok"] is False  # the failed run came last
    runs = "searchsvc_reindex_runs_total"
    assert {
        dict(labels)["kind"] + "/" + dict(labels)["outcome"]: n for (name, labels), n in after.items() if name == runs
    } == {
        "full/ok": value(before, runs, kind="full", outcome="ok"),
        "full/failed": value(before, runs, kind="full", outcome="failed") + 1,
        "incremental/ok": value(before, runs, kind="incremental", outcome="ok") + 1,
        "incremental/failed": value(before, runs, kind="incremental", outcome="failed"),
    }
    assert change(before, after)[("searchsvc_reindex_duration_seconds_count", frozenset())] == 2


def test_two_workers_add_up_their_request_counts_in_every_scrape(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    servers = start_server(corpus, tmp_path / "index", tmp_path, "--workers", "2", "--threads", "2")
    server = next(servers)
    searches = 24
    try:
        folder = metrics_folder(server.process.pid)
        for number in range(searches):
            assert server.get(f"/api/search?q=energy&page={number % 3 + 1}")[0] == 200
        scrapes = [server.get("/metrics") for _ in range(4)]
        writers = {int(path.stem.split("_")[1]) for path in folder.glob("counter_*.db")}
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
    finally:
        servers.close()

    for status, headers, body in scrapes:
        assert (status, headers["Content-Type"]) == (200, CONTENT_TYPE)
        samples = parse(body.decode("utf-8"))
        counted = [
            amount
            for (name, labels), amount in samples.items()
            if name == "searchsvc_http_requests_total" and dict(labels)["route"] == "/api/search"
        ]
        assert sum(counted) == searches
        assert (
            value(samples, "searchsvc_http_requests_total", route="/api/search", method="GET", status="200") == searches
        )
        lookups = [value(samples, "searchsvc_search_cache_total", result=result) for result in ("hit", "miss")]
        assert sum(lookups) == searches
        assert value(samples, "searchsvc_index_documents") == 13
    # the parent (which imports the re-index metrics) and each of the two workers write their own file
    assert len(writers - {server.process.pid}) == 2
    assert not folder.exists()  # removed when the server stopped


def metrics_folder(pid: int) -> Path:
    """The server's PROMETHEUS_MULTIPROC_DIR: the fresh folder holding its own counter file."""
    [found] = [
        folder
        for folder in Path(tempfile.gettempdir()).glob("searchsvc-metrics-*")
        if (folder / f"counter_{pid}.db").exists()
    ]
    return found
