"""End to end: ``python -m searchsvc serve`` re-indexing on a schedule or on demand as a real
process on a loopback port, searched over real HTTP while new generations are published."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from web_fixtures import Server, server_environment, start_server, wait_for

from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.scheduler import SCHEDULE_FILE

TOKEN = "e2e-admin-token"
SEARCH = "/api/search?q=zebra&facets=none&collapse=false&per_page=1"


def write(corpus: Path, number: int, words: str = "") -> Path:
    """Article ``number``: id https://news.example/<number>, and the word 'zebra' like every other."""
    path = corpus / f"n{number:05d}.md"
    path.write_text(
        f'---\ntitle: "Zebra crossing report {number} {words}"\nwebUrl: https://news.example/{number}\n'
        f"publishedDateTime: 2022-07-11T00:18:00Z\n---\nZebra story {number}. {words}\n",
        encoding="utf-8",
    )
    return path


def write_corpus(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for number in range(count):
        write(folder, number)
    return folder


def log_events(server: Server, name: str) -> list[dict]:
    """The JSON lines ``name`` the server wrote to stderr."""
    found = []
    for line in server.output.read_text().splitlines():
        if line.startswith("{"):
            data = json.loads(line)
            if data["event"] == name:
                found.append(data)
    return found


def post(server: Server, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + path, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def index_processes(index: Path) -> list[int]:
    """Process ids of ``searchsvc index ... --index INDEX`` runs (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"searchsvc" in args and b"index" in args and str(index).encode() in args:
                found.append(int(entry.name))
    return found


def test_searches_never_fail_or_mix_generations_while_scheduled_runs_publish_new_ones(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus", 40)
    servers = start_server(corpus, tmp_path / "index", tmp_path, "--reindex-every", "1s", "--threads", "4")
    server = next(servers)
    seen: list[tuple[str, int, str | None]] = []  # (generation, total, ETag) of each search
    ready: list[tuple[str, int]] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer(path: str, record) -> None:
        while not stop.is_set():
            try:
                status, headers, body = server.get(path)
                if status != 200:
                    failures.append(f"{path}: {status} {body[:200]!r}")
                    continue
                record(json.loads(body), headers)
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                failures.append(f"{path}: {type(exc).__name__}: {exc}")

    def searched(data: dict, headers) -> None:
        tag = headers["ETag"]
        if tag is None and headers["Cache-Control"] != "no-store":
            failures.append(f"no ETag, Cache-Control {headers['Cache-Control']}")
        seen.append((data["generation"], data["total"], tag))

    def probed(data: dict, headers) -> None:
        ready.append((data["generation"], data["documents"]))

    clients = [threading.Thread(target=hammer, args=(SEARCH, searched)) for _ in range(2)]
    clients.append(threading.Thread(target=hammer, args=("/readyz", probed)))
    try:
        for client in clients:
            client.start()
        started = time.monotonic()
        number = 40
        while time.monotonic() - started < 10:
            time.sleep(0.4)
            write(corpus, number)  # every run that sees it publishes a generation one document larger
            number += 1
        stop.set()
        for client in clients:
            client.join(15)
        written = number
        wait_for(
            lambda: any(e["report"]["documents"] == written for e in log_events(server, "reindex")),
            what="a run indexing every file",
        )
    finally:
        stop.set()
        servers.close()

    documents = {"gen-000001": 40}
    runs = log_events(server, "reindex")
    for run in runs:
        assert run["ok"] is True, run
        documents[run["report"]["generation"]] = run["report"]["documents"]
    assert failures == []
    assert len(seen) > 200 and len(ready) > 100
    assert len({generation for generation, _, _ in seen}) >= 4
    assert [(g, total) for g, total, _ in seen if documents[g] != total] == []
    assert [(g, count) for g, count in ready if documents[g] != count] == []
    tags: dict[str, set[str]] = {}
    for generation, _, tag in seen:
        if tag is not None:  # None: the index switched while this search ran (sent as no-store)
            tags.setdefault(tag, set()).add(generation)
    assert [tag for tag, generations in tags.items() if len(generations) > 1] == []
    assert documents[max(documents)] == written
    assert all(earlier["finished_at"] <= later["started_at"] for earlier, later in zip(runs, runs[1:], strict=False))


def test_a_run_killed_mid_build_leaves_the_old_index_serving_and_the_next_run_succeeds(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus", 1500)  # a full build of these takes about a second
    index = tmp_path / "index"
    (tmp_path / "searchsvc.toml").write_text(f'admin_token = "{TOKEN}"\n', encoding="utf-8")
    servers = start_server(corpus, index, tmp_path)
    server = next(servers)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        assert post(server, "/api/admin/reindex", {"Authorization": "Bearer nope"})[0] == 403
        status, started = post(server, "/api/admin/reindex?full=true", auth)
        assert (status, started["run"]["full"]) == (202, True)
        [pid] = wait_for(lambda: index_processes(index), what="the index subprocess")
        wait_for(lambda: (index / "gen-000002").is_dir(), what="the unfinished generation", every=0.002)
        os.kill(pid, signal.SIGKILL)
        stats = wait_for(
            lambda: (s := server.json("/api/stats"))["reindex"]["last_run"] and s, what="the run to be recorded"
        )
        served = server.json(SEARCH)

        write(corpus, 1500)
        status, again = post(server, "/api/admin/reindex", {"X-Admin-Token": TOKEN})
        busy = post(server, "/api/admin/reindex", auth)  # the run takes longer than starting Python
        after = wait_for(
            lambda: (r := server.json("/api/stats")["reindex"])["last_run"]["id"] == again["run"]["id"] and r,
            what="the next run to be recorded",
        )
        searched = wait_for(lambda: (d := server.json(SEARCH))["total"] == 1501 and d, what="the next generation")
    finally:
        servers.close()

    last = stats["reindex"]["last_run"]
    assert (last["id"], last["full"], last["ok"], last["report"]) == (started["run"]["id"], True, False, None)
    assert last["error"] == "searchsvc index was killed by SIGKILL; the previous index is still served."
    assert (stats["reindex"]["running"], stats["generation"]) == (False, "gen-000001")
    assert (served["generation"], served["total"]) == ("gen-000001", 1500)
    assert status == 202
    assert (busy[0], busy[1]["ok"], busy[1]["status"], busy[1]["errors"]) == (409, False, 409, [])
    assert re.fullmatch(
        rf"A re-index is already running \(run {again['run']['id']}, started [0-9T:.+-]+\); "
        "try again when it has finished.",
        busy[1]["error"],
    )
    assert (after["last_run"]["id"], after["last_run"]["ok"]) == (again["run"]["id"], True)
    assert after["last_run"]["report"]["generation"] == searched["generation"] == "gen-000002"
    assert [(e["ok"], e["level"], e["trigger"]) for e in log_events(server, "reindex")] == [
        (False, "error", "api"),
        (True, "info", "api"),
    ]
    assert index_processes(index) == []


def test_an_index_run_from_cron_is_picked_up_by_the_running_server_without_a_restart(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus", 5)
    index = tmp_path / "index"
    servers = start_server(corpus, index, tmp_path)
    server = next(servers)
    try:
        before = server.json(SEARCH)
        write(corpus, 5, "okapi")
        (corpus / "n00000.md").unlink()
        cron = subprocess.run(
            [sys.executable, "-m", "searchsvc", "index", "--index", str(index), str(corpus)],
            capture_output=True,
            text=True,
            env=server_environment(),
            cwd=tmp_path,
            timeout=60,
        )
        okapi = wait_for(lambda: server.json("/api/search?q=okapi")["total"] == 1, what="the cron run")
        after = server.json(SEARCH)
        ready = server.json("/readyz")
    finally:
        servers.close()

    assert (before["generation"], before["total"]) == ("gen-000001", 5)
    assert cron.returncode == 0, cron.stderr
    assert cron.stdout.splitlines()[0] == "Update: added 1, updated 0, unchanged 4, deleted 1, duplicates 0, failed 0."
    assert okapi
    assert (after["generation"], after["total"]) == ("gen-000002", 5)
    assert ready == {"ok": True, "engine": "whoosh", "health": "green", "generation": "gen-000002", "documents": 5}
    assert log_events(server, "reindex") == []


def test_with_two_workers_only_the_parent_runs_the_schedule_and_sigterm_stops_it_all(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus", 5)
    index = tmp_path / "index"
    servers = start_server(corpus, index, tmp_path, "--workers", "2", "--threads", "2", "--reindex-every", "1s")
    server = next(servers)
    try:
        write(corpus, 5)
        wait_for(lambda: len(log_events(server, "reindex")) >= 1, what="a first run")
        write(corpus, 6)
        wait_for(lambda: any(e["report"]["documents"] == 7 for e in log_events(server, "reindex")), what="7 docs")
        totals = wait_for(
            lambda: (t := {server.json(SEARCH)["total"] for _ in range(20)}) == {7} and t, what="both workers"
        )
        # The schedule moves on every second: compare the stats with a schedule file that did not
        # change while they were read (the file read before them equals the one read after).
        next_run, schedule_file = wait_for(
            lambda: _stats_between_equal_schedule_files(server, index), what="a next_run read between runs"
        )

        runs_before_sigterm = len(log_events(server, "reindex"))
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=15)
    finally:
        servers.close()

    output = server.output.read_text()
    assert f"Re-indexing {corpus}: incremental every 1s.\n" in output
    assert totals == {7}
    assert schedule_file == {"pid": server.process.pid, "next_run": next_run}
    [announced] = log_events(server, "reindex_schedule")
    assert (announced["pid"], announced["jobs"]) == (server.process.pid, "incremental every 1s")
    runs = log_events(server, "reindex")
    assert {(e["pid"], e["trigger"], e["ok"]) for e in runs[:runs_before_sigterm]} == {
        (server.process.pid, "schedule", True)
    }
    # A run the SIGTERM caught under way is stopped with the server, and says so.
    assert [(e["ok"], e["error"]) for e in runs[runs_before_sigterm:] if not e["ok"]] in (
        [],
        [(False, "searchsvc index was killed by SIGTERM; the previous index is still served.")],
    )
    assert code == 0
    assert not (index / SCHEDULE_FILE).exists()
    assert index_processes(index) == []
    assert current_generation(index).name in {e["report"]["generation"] for e in runs if e["report"]}


def _stats_between_equal_schedule_files(server, index: Path):
    before = json.loads((index / SCHEDULE_FILE).read_text())
    next_run = server.json("/api/stats")["reindex"]["next_run"]
    after = json.loads((index / SCHEDULE_FILE).read_text())
    return before == after and (next_run, after)
