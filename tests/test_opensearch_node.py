"""scripts/opensearch-node: builds the launcher with Maven and starts a real OpenSearch node on
loopback, with the analysis the cluster engine needs, and stops it cleanly on SIGTERM.

Needs Java and Maven (CI has both); skipped with the reason where either is missing."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "opensearch-node"
START_SECONDS = 180  # a build with downloads, then a JVM start on 2 busy cores

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("mvn") is None,
    reason="needs Java 17 and Maven (java and mvn on PATH) to build and start an OpenSearch node",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_node(folder: Path) -> tuple[subprocess.Popen, str]:
    """Start a node with data in ``folder``; its process and URL once it said it is ready."""
    http, transport = free_port(), free_port()
    log_path = folder / "node.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(SCRIPT), "--http-port", str(http), "--transport-port", str(transport), "--data", str(folder / "home")],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    ready = f"opensearch-node ready http://127.0.0.1:{http}"
    deadline = time.monotonic() + START_SECONDS
    while ready not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"the node did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    return process, f"http://127.0.0.1:{http}"


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    process, url = start_node(tmp_path_factory.mktemp("opensearch-node"))
    try:
        yield url
    finally:
        stop(process)


def test_the_node_answers_on_loopback_with_a_healthy_single_node_cluster(node):
    url = node

    health = call(f"{url}/_cluster/health")

    assert (health["cluster_name"], health["number_of_nodes"]) == ("searchsvc", 1)
    assert health["status"] in ("green", "yellow")
    assert call(url)["version"]["number"] == "2.19.6"


def test_the_node_has_the_analysis_the_engine_needs(node):
    url = node
    porter2 = {"type": "snowball", "language": "English"}
    analyzer = {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", porter2]}

    tokens = call(f"{url}/_analyze", "POST", {**analyzer, "text": "Cafés hosting the Olympics"})["tokens"]

    assert [t["token"] for t in tokens] == ["cafe", "host", "the", "olymp"]


def test_an_alias_moves_between_two_indexes_in_one_call(node):
    url = node
    for name in ("articles-a", "articles-b"):
        call(f"{url}/{name}", "PUT", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    call(f"{url}/_aliases", "POST", {"actions": [{"add": {"index": "articles-a", "alias": "articles"}}]})

    call(
        f"{url}/_aliases",
        "POST",
        {
            "actions": [
                {"remove": {"index": "articles-a", "alias": "articles"}},
                {"add": {"index": "articles-b", "alias": "articles"}},
            ]
        },
    )

    assert list(call(f"{url}/_alias/articles")) == ["articles-b"]


def test_sigterm_stops_the_node_cleanly(tmp_path):
    process, url = start_node(tmp_path)
    try:
        assert call(f"{url}/_cluster/health")["number_of_nodes"] == 1

        process.send_signal(signal.SIGTERM)

        # the JVM runs its shutdown hook (which closes the node) and exits as SIGTERM's default does
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
        log = (tmp_path / "node.log").read_text()
        assert "did not finish closing" not in log and "error while closing" not in log
    finally:
        stop(process)
