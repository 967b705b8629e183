"""Soak benchmark: ``searchsvc serve`` under steady load while scheduled re-index runs publish new
generations, files are added, changed and deleted, and hostile files are dropped into the source.

    python benchmarks/soak.py                          # 20,000 articles, 60 s quiet + 600 s soak
    python benchmarks/soak.py --n 5000 --duration 120 --quiet 30

Two phases on the same server layout: first a quiet one (no re-index, no changes: the baseline
p99), then the soak (``--reindex-every``, changes every ``--change-every`` seconds, the hostile
files a third of the way in, expensive queries and /healthz probes throughout). Prints tables:
load in both phases, probes, re-index runs, changes seen after the next run, memory and open
files over time. Nothing is asserted; a failed check is a row that says so. Every loop is
bounded by the run's duration and the script stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from common import MB, clean_env, fmt, format_table, generate_corpus, log, process_pss, process_rss, process_tree
from http_load import HOST, LUA_SCRIPT, Mode, Server, WrkResult, get, parse_wrk, request_path
from search_latency import load_queries

HOSTILE_QUERIES = [
    "/api/search?"
    + urlencode({"q": " ".join(a + b + "*" for a in string.ascii_lowercase for b in string.ascii_lowercase)}),
    "/api/search?" + urlencode({"q": "x " + " ".join("-" + a + b + "*" for a in "abcdefghij" for b in "aeiou")}),
    "/api/search?" + urlencode({"q": " ".join(c + "*" for c in string.ascii_lowercase)}),
    "/api/search?" + urlencode([("q", "police")] + [("topic", f"t{i}") for i in range(15000)]),
    "/api/search?q=boom",
    "/api/search?" + urlencode({"q": "x" * 3000}),
    "/api/stats",
]


def hostile_files(source: Path) -> list[str]:
    """Drop the issue's hostile files into ``source``; returns what was dropped."""
    folder = source / "hostile"
    folder.mkdir(exist_ok=True)

    def article(name: str, title: str, body: str, extra: str = "") -> None:
        text = f"---\ntitle: {json.dumps(title)}\nwebUrl: https://hostile.example/{name}\n{extra}---\n{body}\n"
        (folder / name).write_text(text, encoding="utf-8")

    article("long-word.md", "x" * 2_000_000, "a title of one two-million-letter word")
    article("script.md", "script tags", "<script x " * 100_000)
    article("boom.md", "boom", "boom " * 20_000)
    article("secured.md", "secured int", "body", 'secured: !!int "TOPSECRET=="\n')
    article("javascript.md", "javascript url", "body", "originalUrl: javascript:alert(1)\n")
    article("huge.md", "huge", "word " * 1_300_000)
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    os.close(os.open(os.fsencode(folder) + b"/caf\xe9.md", os.O_CREAT | os.O_WRONLY, 0o644))
    link = folder / "passwd.txt"
    if not link.exists():
        link.symlink_to("/etc/passwd")
    return [
        "2,000,000-letter title",
        "1 MB of '<script x '",
        "'boom ' x 20,000",
        "secured !!int",
        "javascript: URL",
        "6.5 MB file",
        "broken YAML",
        "non-UTF-8 name",
        "symlink to /etc/passwd",
    ]


@dataclass
class Change:
    kind: str  # added, changed, deleted
    marker: str
    made: float
    seen: float | None = None


@dataclass
class Probes:
    healthz_ms: list[float] = field(default_factory=list)
    healthz_failed: int = 0
    expensive: list[tuple[str, int, float]] = field(default_factory=list)


def marker_word(number: int) -> str:
    """A word no article has: letters only (the analyzer keeps it whole), ending in x (no stemming)."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters += string.ascii_lowercase[digit]
        if not number:
            return "zq" + letters + "x"


class Mutator:
    """Adds, changes and deletes articles every ``every`` seconds and records what must become visible."""

    def __init__(self, source: Path, every: float) -> None:
        self.folder = source / "soak"
        self.folder.mkdir(exist_ok=True)
        self.every = every
        self.changes: list[Change] = []
        self.alive: list[tuple[Path, str]] = []
        self.counter = 0

    def _write(self, path: Path, marker: str) -> None:
        partial = path.with_suffix(".tmp")
        partial.write_text(
            f"---\ntitle: Soak article {marker}\nwebUrl: https://soak.example/{path.stem}\n"
            f"publishedDateTime: 2022-06-01T10:00:00Z\nprovider: Soak\n---\nSoak body {marker}.\n",
            encoding="utf-8",
        )
        partial.rename(path)

    def step(self) -> None:
        now = time.time()
        for _ in range(3):
            self.counter += 1
            marker = marker_word(self.counter)
            path = self.folder / f"a{self.counter}.md"
            self._write(path, marker)
            self.alive.append((path, marker))
            self.changes.append(Change("added", marker, now))
        if len(self.alive) > 6:
            path, old = self.alive.pop(0)
            self.counter += 1
            marker = marker_word(self.counter)
            self._write(path, marker)
            self.alive.append((path, marker))
            self.changes.append(Change("changed", marker, now))
            self.changes.append(Change("deleted", old, now))  # the old title must be gone
            path, gone = self.alive.pop(0)
            path.unlink()
            self.changes.append(Change("deleted", gone, now))


def visible(port: int, change: Change) -> bool | None:
    status, body = get(port, "/api/search?" + urlencode({"q": change.marker}, quote_via=quote), timeout=30)
    if status != 200:
        return None
    found = json.loads(body)["total"] == 1
    return found if change.kind != "deleted" else not found


def reindex_events(log_path: Path) -> list[dict]:
    events = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"event": "reindex' in line:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
    return events


def open_files(pid: int) -> int:
    total = 0
    for member in process_tree(pid):
        try:
            total += len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            pass
    return total


def run_wrk(port: int, paths_file: Path, seconds: int, connections: int) -> tuple[WrkResult, str]:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        f"http://{HOST}:{port}",
        "--",
        str(paths_file),
        "2",
        "statuses",
    ]
    log(f"$ {' '.join(command)}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or "Requests/sec" not in done.stdout:
        raise SystemExit(f"wrk failed with exit status {done.returncode}:\n{done.stderr}{done.stdout}")
    return parse_wrk(done.stdout), done.stdout


def soak(args, server: Server, source: Path, paths_file: Path) -> dict:
    port, stop = server.port, threading.Event()
    mutator, probes, samples = Mutator(source, args.change_every), Probes(), []
    hostile_at = time.time() + args.duration / 3
    dropped: list[str] = []

    def probe_loop() -> None:
        turn = 0
        while not stop.wait(1.0):
            begun = time.perf_counter()
            status, _ = get(port, "/healthz", timeout=30)
            probes.healthz_ms.append((time.perf_counter() - begun) * 1000)
            probes.healthz_failed += status != 200
            if turn % 5 == 0:
                path = HOSTILE_QUERIES[(turn // 5) % len(HOSTILE_QUERIES)]
                begun = time.perf_counter()
                status, _ = get(port, path, timeout=30)
                probes.expensive.append((path[:40], status, (time.perf_counter() - begun) * 1000))
            turn += 1

    def change_loop() -> None:
        nonlocal dropped
        while not stop.wait(args.change_every):
            mutator.step()
            if not dropped and time.time() >= hostile_at:
                dropped = hostile_files(source)
                log(f"hostile files dropped: {', '.join(dropped)}")

    def check_loop() -> None:
        while not stop.wait(2.0):
            finished = [e for e in reindex_events(server.log_path) if e.get("event") == "reindex" and e.get("ok")]
            if not finished:
                continue
            last_started = max(e["started_at"] for e in finished)
            for change in mutator.changes:
                if change.seen is None and utc(change.made) < last_started and visible(port, change):
                    change.seen = time.time()

    def sample_loop() -> None:
        while True:
            tree = process_tree(server.proc.pid)
            samples.append(
                (
                    time.time(),
                    sum(filter(None, map(process_rss, tree))),
                    sum(filter(None, map(process_pss, tree))),
                    open_files(server.proc.pid),
                    len(tree),
                )
            )
            if stop.wait(args.sample_every):
                return

    threads = [threading.Thread(target=f, daemon=True) for f in (probe_loop, change_loop, check_loop, sample_loop)]
    started = time.time()
    for thread in threads:
        thread.start()
    try:
        wrk, raw = run_wrk(port, paths_file, args.duration, args.connections)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    # Changes made late in the run get one more run to show up.
    deadline = time.time() + args.reindex_every * 3 + 30
    while time.time() < deadline and any(c.seen is None for c in mutator.changes):
        time.sleep(2)
        finished = [e for e in reindex_events(server.log_path) if e.get("event") == "reindex" and e.get("ok")]
        last_started = max((e["started_at"] for e in finished), default="")
        for change in mutator.changes:
            if change.seen is None and utc(change.made) < last_started and visible(port, change):
                change.seen = time.time()
    return {
        "wrk": wrk,
        "raw": raw,
        "probes": probes,
        "samples": samples,
        "changes": mutator.changes,
        "dropped": dropped,
        "started": started,
    }


def utc(moment: float) -> str:
    from searchsvc.reindex import utc_iso

    return utc_iso(moment)


def load_row(phase: str, w: WrkResult) -> list[str]:
    p = w.percentiles
    statuses = ", ".join(f"{n} × {s}" for s, n in sorted(w.statuses.items())) or "none"
    return [
        phase,
        f"{w.requests:,}",
        fmt(w.rps, 1),
        *(fmt(p.get(n), 1) for n in (50, 90, 99)),
        fmt(w.max_ms, 1),
        statuses,
        str(sum(w.socket_errors.values())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="articles (default 20000, from make_corpus.py)")
    parser.add_argument("--duration", type=int, default=600, help="seconds of soak (default 600)")
    parser.add_argument("--quiet", type=int, default=60, help="seconds of the quiet baseline first (default 60)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--reindex-every", type=int, default=30, help="seconds between re-index runs (default 30)")
    parser.add_argument("--change-every", type=float, default=10.0, help="seconds between changes (default 10)")
    parser.add_argument("--sample-every", type=float, default=15.0, help="seconds between memory samples")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed. Install it with: apt-get install -y wrk")

    corpus = Path(f"/work/data/news-{args.n}")
    if not corpus.is_dir():
        partial = corpus.with_name(corpus.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        generate_corpus(partial, args.n)
        partial.rename(corpus)
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    source, index = workdir / "source", workdir / "index"
    shutil.copytree(corpus, source)
    log(f"building {index} from {source}")
    env = {**clean_env(), "SEARCHSVC_RESULT_CACHE": "0"}
    subprocess.run(
        [sys.executable, "-m", "searchsvc", "index", str(source), "--index", str(index), "--full"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(request_path(q) for q in load_queries()) + "\n")
    serve = [
        sys.executable,
        "-m",
        "searchsvc",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--index",
        str(index),
        "--source",
        str(source),
        "--workers",
        str(args.workers),
    ]

    quiet = Server(Mode("searchsvc", "quiet", serve, env), workdir / "quiet.log", workdir)
    try:
        quiet.wait_ready()
        baseline, _ = run_wrk(quiet.port, paths_file, args.quiet, args.connections)
    finally:
        quiet.stop()
    server = Server(
        Mode("searchsvc", "soak", serve + ["--reindex-every", f"{args.reindex_every}s"], env),
        workdir / "soak.log",
        workdir,
    )
    try:
        server.wait_ready()
        result = soak(args, server, source, paths_file)
    finally:
        server.stop()

    wrk, probes, changes = result["wrk"], result["probes"], result["changes"]
    print(f"## Load ({args.workers} workers, result cache off, wrk -t2 -c{args.connections}, {args.n:,} articles)\n")
    headers = ["phase", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-200", "socket errors"]
    rows = [
        load_row(f"quiet ({args.quiet} s)", baseline),
        load_row(f"soak ({args.duration} s, re-index every {args.reindex_every} s)", wrk),
    ]
    print(format_table(headers, rows, "lrrrrrrll"))
    ratio = wrk.percentiles.get(99, 0) / max(baseline.percentiles.get(99, 1), 1e-9)
    print(f"\np99 during switches / p99 quiet: {ratio:.2f} (goal ≤ 2)\n")

    print("## Probes during the soak\n")
    by_status: dict[str, list] = {}
    for path, status, ms in probes.expensive:
        by_status.setdefault(path, []).append((status, ms))
    rows = [
        [
            "/healthz every second",
            str(len(probes.healthz_ms)),
            f"{probes.healthz_failed} failed",
            fmt(max(probes.healthz_ms, default=0), 1),
        ]
    ]
    for path, seen in by_status.items():
        statuses = ", ".join(sorted({str(s) for s, _ in seen}))
        rows.append([path, str(len(seen)), statuses, fmt(max(ms for _, ms in seen), 1)])
    print(format_table(["request", "count", "statuses", "max ms"], rows, "lrlr"))

    events = [e for e in reindex_events(server.log_path) if e.get("event") in ("reindex", "reindex_skipped")]
    runs = [e for e in events if e["event"] == "reindex"]
    failures = sorted({f.split(": ", 1)[-1][:70] for e in runs for f in (e.get("report") or {}).get("failures", [])})
    print("\n## Re-index runs\n")
    print(
        format_table(
            ["runs", "ok", "failed", "skipped", "longest s", "files reported as failed (reasons)"],
            [
                [
                    str(len(runs)),
                    str(sum(bool(e["ok"]) for e in runs)),
                    str(sum(not e["ok"] for e in runs)),
                    str(len(events) - len(runs)),
                    fmt(max((e["seconds"] for e in runs), default=0), 2),
                    str(max(((e.get("report") or {}).get("failed", 0) for e in runs), default=0)),
                ]
            ],
            "rrrrrl",
        )
    )
    for reason in failures:
        print(f"- {reason}")
    if result["dropped"]:
        print(f"\nhostile files dropped a third of the way in: {', '.join(result['dropped'])}")

    print("\n## Changes made during the soak\n")
    rows = []
    for kind in ("added", "changed", "deleted"):
        mine = [c for c in changes if c.kind == kind]
        seen = [c.seen - c.made for c in mine if c.seen is not None]
        rows.append([kind, str(len(mine)), str(len(seen)), str(len(mine) - len(seen)), fmt(max(seen, default=0), 1)])
    print(format_table(["change", "made", "visible after the next run", "never visible", "slowest s"], rows, "lrrrr"))

    print("\n## Server memory and open files (process tree)\n")
    samples = result["samples"]
    picks = sorted({0, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4, len(samples) - 1})
    rows = [
        [
            fmt(samples[i][0] - result["started"], 0),
            fmt(samples[i][1] / MB, 0),
            fmt(samples[i][2] / MB, 0),
            str(samples[i][3]),
            str(samples[i][4]),
        ]
        for i in picks
        if samples
    ]
    print(format_table(["seconds in", "RSS MB", "PSS MB", "open files", "processes"], rows, "rrrrr"))
    if args.keep:
        print(f"\nwork folder: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
