"""End to end: ``python -m searchsvc serve`` as a real process on a loopback port, over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    Server,
    free_port,
    live_server_fixture,
    server_environment,
    start_server,
    url_of,
    write_corpus,
)


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def ready(server: Server) -> bool:
    try:
        return server.get("/readyz")[0] == 200
    except OSError:
        return False


def test_serve_builds_the_missing_index_then_prints_the_url(live_server: Server):
    log = live_server.output.read_text()
    port = live_server.url.rsplit(":", 1)[1]

    workdir = live_server.output.parent
    lines = log.splitlines()
    assert lines[0] == f"No index at {workdir / 'index'}: building it from {workdir / 'corpus'} ..."
    assert lines[1] == "Full build: added 12, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0."
    assert lines[2].startswith("Index gen-000001: 13 documents (13 articles written) in ")
    assert lines[3] == f"Serving http://127.0.0.1:{port}/ (1 worker, 4 threads each). Press Ctrl+C to stop."
    # the index is opened before the first connection is taken
    assert "searchsvc.serve INFO Serving index generation gen-000001." in log


def test_live_server_answers_searches_over_http(live_server: Server):
    data = live_server.json("/api/search?q=solar&facets=provider")

    assert data["total"] == 3
    assert [h["id"] for h in data["hits"]] == [url_of("a10"), url_of("a01"), "https://greenwire.example/coop"]
    assert data["facets"]["provider"]["values"] == [
        {"value": "Green Wire", "count": 2, "selected": False},
        {"value": "Daily Planet", "count": 1, "selected": False},
    ]


def test_live_server_revalidates_with_etag_and_keeps_the_error_shape(live_server: Server):
    status, headers, _ = live_server.get("/api/search?q=wind")
    again = live_server.get("/api/search?q=wind", {"If-None-Match": headers["ETag"]})
    bad = live_server.get("/api/search?q=wind&page=0")

    assert status == 200 and headers["Cache-Control"] == "no-cache"
    assert (again[0], again[2]) == (304, b"")
    assert bad[0] == 400
    assert json.loads(bad[2]) == {
        "ok": False,
        "status": 400,
        "error": "Parameter 'page' must be from 1 to 1000; got 0.",
        "errors": [{"parameter": "page", "message": "Parameter 'page' must be from 1 to 1000; got 0."}],
    }


def test_live_server_serves_the_page_the_feed_and_the_probes(live_server: Server):
    page = live_server.get("/?q=solar")
    feed = live_server.get("/search.atom?q=solar")

    html = " ".join(page[2].decode().split())
    assert page[0] == 200 and '3 results for “<span class="query">solar</span>”' in html
    assert feed[0] == 200 and feed[1]["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert live_server.json("/healthz") == {"ok": True}
    assert live_server.json("/readyz") == {
        "ok": True,
        "engine": "whoosh",
        "health": "green",
        "generation": "gen-000001",
        "documents": 13,
    }


def test_two_workers_share_the_port_and_stop_together_on_sigterm(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    servers = start_server(corpus, tmp_path / "index", tmp_path, "--workers", "2", "--threads", "2")
    server = next(servers)
    try:
        workers = children_of(server.process.pid)
        assert len(workers) == 2
        totals = {server.json("/api/search?q=energy&facets=none")["total"] for _ in range(20)}
        assert totals == {4}
        assert "(2 workers, 2 threads each)" in server.output.read_text()

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
        assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []
    finally:
        servers.close()


def test_serve_without_workers_runs_one_worker_per_usable_core(tmp_path: Path):
    cores = len(os.sched_getaffinity(0))
    corpus = write_corpus(tmp_path / "corpus")
    servers = start_server(corpus, tmp_path / "index", tmp_path, "--threads", "2", workers=None)
    server = next(servers)
    try:
        # one worker serves in the parent process itself; more are forked children
        assert len(children_of(server.process.pid)) == (cores if cores > 1 else 0)
        assert f"({cores} worker{'s' if cores > 1 else ''}, 2 threads each)" in server.output.read_text()
        assert server.json("/api/search?q=energy&facets=none")["total"] == 4
    finally:
        servers.close()


def test_serve_with_a_negative_workers_count_says_what_it_accepts(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    command = [sys.executable, "-m", "searchsvc", "serve", "--index", str(tmp_path / "index")]
    command += ["--source", str(corpus), "--port", "0", "--workers", "-1"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=server_environment(), timeout=60)

    assert done.returncode == 1
    assert done.stderr == (
        "Error: --workers must be 0 (one per usable core) or more and --threads 1 or more; "
        "got --workers -1 and --threads 4.\n"
    )


def established_connections(pids: list[int], port: int) -> list[int]:
    """How many established TCP connections on ``port`` each process holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "01":
            inodes.add(parts[9])
    counts = []
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            held += target.startswith("socket:[") and target[8:-1] in inodes
        counts.append(held)
    return counts


def test_two_workers_take_an_equal_share_of_persistent_connections(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    servers = start_server(corpus, tmp_path / "index", tmp_path, "--workers", "2", "--threads", "2")
    server = next(servers)
    port = int(server.url.rsplit(":", 1)[1])
    connections = []
    try:
        workers = children_of(server.process.pid)
        for _ in range(8):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/api/search?q=energy&facets=none")
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())["total"]) == (200, 4)
            connections.append(connection)

        assert established_connections(workers, port) == [4, 4]
    finally:
        for connection in connections:
            connection.close()
        servers.close()


def test_sigterm_stops_a_single_worker_server_cleanly(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    servers = start_server(corpus, tmp_path / "index", tmp_path)
    server = next(servers)
    try:
        assert server.json("/readyz")["documents"] == 13
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
    finally:
        servers.close()


def test_serve_fails_with_a_clear_message_when_the_source_is_missing(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "searchsvc",
            "serve",
            "--port",
            "0",
            "--index",
            str(tmp_path / "index"),
            "--source",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=server_environment(),
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"Error: No index at {tmp_path / 'index'} and source {tmp_path / 'missing'} does not exist. "
        "Give a folder of articles with --source DIR.\n"
    )


def test_waitress_serve_call_uses_the_app_factory_with_settings_from_the_environment(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus")
    from searchsvc.indexer import build_index

    build_index([str(corpus)], tmp_path / "index", full=True, lock_timeout=5)
    port = free_port()
    env = server_environment() | {"SEARCHSVC_INDEX_DIR": str(tmp_path / "index")}
    waitress = Path(sys.executable).with_name("waitress-serve")
    if not waitress.exists():
        pytest.skip(f"waitress-serve is not installed beside {sys.executable}")
    process = subprocess.Popen(
        [str(waitress), "--listen", f"127.0.0.1:{port}", "--call", "searchsvc.web:create_app"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
    )
    server = Server(f"http://127.0.0.1:{port}", process, tmp_path / "unused.log")
    try:
        deadline = time.monotonic() + 30
        while not ready(server):
            assert process.poll() is None and time.monotonic() < deadline, "waitress-serve did not start"
            time.sleep(0.1)
        assert server.json("/api/search?q=solar&facets=none")["total"] == 3
    finally:
        process.terminate()
        process.wait(timeout=15)
