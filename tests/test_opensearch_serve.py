"""searchsvc on the OpenSearch engine as a user runs it: ``serve`` builds the index on a real
cluster and answers on a real waitress server, the admin endpoint re-indexes it, and ``index``,
``search`` and ``stats`` work unchanged; the same answers as the Whoosh engine on the same files.

Runs where ``SEARCHSVC_TEST_OPENSEARCH_URL`` names a cluster (.ci/run starts a node)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from web_fixtures import start_server, url_of, write_corpus

from searchsvc.cli import main

URL = os.environ.get("SEARCHSVC_TEST_OPENSEARCH_URL", "")
TOKEN = "os-admin-token"
pytestmark = pytest.mark.skipif(
    not URL, reason="SEARCHSVC_TEST_OPENSEARCH_URL is not set (the URL of an OpenSearch cluster to test against)"
)


@pytest.fixture
def prefix():
    name = f"searchsvc-serve-{uuid.uuid4().hex[:8]}"
    yield name
    request = urllib.request.Request(f"{URL}/{name}-*?expand_wildcards=all", method="DELETE")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def post(url: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=b"", method="POST", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_serve_builds_on_the_cluster_answers_and_the_admin_endpoint_reindexes_it(tmp_path: Path, prefix):
    corpus = write_corpus(tmp_path / "corpus")
    (tmp_path / "searchsvc.toml").write_text(
        f'engine = "opensearch"\nopensearch_url = ["{URL}"]\nopensearch_index_prefix = "{prefix}"\n'
        f'admin_token = "{TOKEN}"\nresult_cache = 0\n',
        encoding="utf-8",
    )
    servers = start_server(corpus, tmp_path / "index", tmp_path)
    server = next(servers)
    try:
        ready = server.json("/readyz")
        found = server.json("/api/search?q=solar&facets=provider")
        stats = server.json("/api/stats")
        (corpus / "zz.md").write_text(
            "---\ntitle: Solar kites lift off\nwebUrl: https://greenwire.example/kites\n"
            "publishedDateTime: 2022-04-01T09:00:00Z\n---\nKites.\n",
            encoding="utf-8",
        )
        status, run = post(server.url + "/api/admin/reindex")
        deadline = time.monotonic() + 60
        while (after := server.json("/readyz"))["generation"] == ready["generation"] and time.monotonic() < deadline:
            time.sleep(0.2)
        again = server.json("/api/search?q=solar&facets=none")
    finally:
        servers.close()

    assert (ready["engine"], ready["health"] in ("green", "yellow"), ready["documents"]) == ("opensearch", True, 13)
    assert ready["generation"].startswith(prefix + "-g")
    # as the Whoosh engine answers the same files (tests/test_e2e_server.py)
    assert found["total"] == 3
    assert [h["id"] for h in found["hits"]] == [url_of("a10"), url_of("a01"), "https://greenwire.example/coop"]
    assert found["facets"]["provider"]["values"] == [
        {"value": "Green Wire", "count": 2, "selected": False},
        {"value": "Daily Planet", "count": 1, "selected": False},
    ]
    assert (stats["engine"], stats["documents"], stats["files"]) == ("opensearch", 13, 12)
    assert (status, run["run"]["full"]) == (202, False)
    assert (after["documents"], again["total"]) == (14, 4)
    assert "https://greenwire.example/kites" in [h["id"] for h in again["hits"]]


def test_index_search_and_stats_commands_work_unchanged_on_the_cluster(tmp_path: Path, prefix, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    for name, value in (("ENGINE", "opensearch"), ("OPENSEARCH_URL", URL), ("OPENSEARCH_INDEX_PREFIX", prefix)):
        monkeypatch.setenv(f"SEARCHSVC_{name}", value)
    runner = CliRunner()

    built = runner.invoke(main, ["index", str(corpus)])
    again = runner.invoke(main, ["index", str(corpus)])
    searched = runner.invoke(main, ["search", "solar", "--json", "--facets", "none"])
    stats = runner.invoke(main, ["stats", "--json"])

    assert built.exit_code == 0, built.output
    assert (
        built.output.splitlines()[0]
        == "Full build: added 12, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0."
    )
    assert again.output.splitlines()[0].startswith("Update: added 0, updated 0, unchanged 12, deleted 0")
    data = json.loads(searched.output)
    assert (data["total"], [h["id"] for h in data["hits"]][:2]) == (3, [url_of("a10"), url_of("a01")])
    summary = json.loads(stats.output)
    assert (summary["engine"], summary["documents"], summary["files"]) == ("opensearch", 13, 12)
