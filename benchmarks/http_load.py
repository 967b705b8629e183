"""HTTP load benchmark: wrk replays the 200 shared queries against ``searchsvc serve`` (result
cache off, then on) and against the SQLite FTS5 peer (fts5_server.py) with the same process and
thread layout, all on 127.0.0.1. Right before and after the cache-off load, the same paths run
through the app's SearchService with no HTTP (engine_ceiling.py, in a subprocess): the engine's
mean time gives the ceiling (usable cores / mean) the HTTP rate is compared with.

    python benchmarks/http_load.py                      # 60 s per mode, 16 connections
    python benchmarks/http_load.py --duration 10 --skip-fts5

Prints Markdown tables and the goals of issue 14. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from common import (
    DEFAULT_CORPUS,
    MB,
    QUERIES_FILE,
    REPO_DIR,
    clean_env,
    fmt,
    format_table,
    log,
    process_pss,
    process_rss,
    process_tree,
    smaps_rollup,
    summarise,
    wait_until_idle,
)
from engine_ceiling import EngineRun, goal_rows, mapped_files_under
from search_latency import ensure_fts5, load_queries

from searchsvc.config import Settings
from searchsvc.server_setup import usable_cores

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_replay.lua"
FTS5_SERVER = HERE / "fts5_server.py"
ENGINE_CEILING = HERE / "engine_ceiling.py"
HOST = "127.0.0.1"
START_TIMEOUT = 180.0
ENGINE_TIMEOUT = 3600.0  # the first engine pass may build the index
STOP_TIMEOUT = 15.0
_SERVING = re.compile(r"Serving http://127\.0\.0\.1:(\d+)/")
TICKS = os.sysconf("SC_CLK_TCK")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def request_path(query: dict) -> str:
    """The /api/search path for one line of queries.jsonl (q always, the filters it has)."""
    params = [("q", query.get("q", ""))]
    params += [(name, query[name]) for name in ("provider", "from", "to") if query.get(name) is not None]
    return "/api/search?" + urlencode(params, quote_via=quote)


# -- servers ---------------------------------------------------------------------------------------


@dataclass
class Mode:
    engine: str
    label: str
    command: list[str]
    env: dict[str, str]


class Server:
    """A server subprocess (stdout and stderr to ``log_path``) on a port it picks itself."""

    def __init__(self, mode: Mode, log_path: Path, cwd: Path) -> None:
        self.log_path = log_path
        log(f"$ {' '.join(mode.command)}")
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(mode.command, cwd=cwd, env=mode.env, stdout=out, stderr=subprocess.STDOUT)
        self.port = 0

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"The server exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if not self.port:
                match = _SERVING.search(self.log_path.read_text(errors="replace"))
                self.port = int(match.group(1)) if match else 0
            if self.port and get(self.port, "/readyz")[0] == 200:
                return
            time.sleep(0.2)
        raise SystemExit(f"The server was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def memory(self) -> tuple[int, int, int]:
        """RSS, PSS and anonymous resident memory summed over the server's process tree, in bytes."""
        tree = process_tree(self.proc.pid)
        rss, pss = sum(filter(None, map(process_rss, tree))), sum(filter(None, map(process_pss, tree)))
        return rss, pss, sum(map(anonymous_memory, tree))

    def connections(self) -> list[int]:
        """Established client connections each worker holds (the parent's own first when it has any)."""
        inodes = established_socket_inodes(self.port)
        counts = []
        for pid in process_tree(self.proc.pid):
            try:
                links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            count = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
            if count or pid != self.proc.pid:
                counts.append(count)
        return counts

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                log(f"the server did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM: killing it")
        for pid in reversed(process_tree(self.proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def established_socket_inodes(port: int) -> set[str]:
    """Inodes of the established TCP sockets whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = [line.split() for line in handle.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            if int(row[1].rsplit(":", 1)[1], 16) == port and row[3] == "01":
                inodes.add(row[9])
    return inodes


def anonymous_memory(pid: int) -> int:
    """Resident anonymous memory in bytes (heap, not mapped files), from smaps_rollup; 0 if unreadable."""
    return smaps_rollup(pid, b"Anonymous:") or 0


def machine_cpu() -> tuple[int, int]:
    """Busy and total clock ticks of all CPUs since boot."""
    with open("/proc/stat") as handle:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def tree_cpu(root: int) -> int:
    """User + system clock ticks of the live processes in ``root``'s tree."""
    ticks = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks


def get(port: int, path: str, timeout: float = 60.0) -> tuple[int, bytes]:
    """Status and body of one GET (status 0 and the error text when there is no answer)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return 0, str(exc).encode()
    finally:
        conn.close()


@dataclass
class WarmUp:
    seconds: float = 0.0
    latencies: list[tuple[float, str]] = field(default_factory=list)
    failures: list[tuple[str, int, str]] = field(default_factory=list)
    idle_after: float = 0.0  # seconds from the end of the warm-up until the server was idle


def warm_up(port: int, paths: list[str]) -> WarmUp:
    """Every path once, in order, each on a new connection: the workers take turns accepting
    connections, so all of them get warm (one keep-alive connection would stay with one worker)."""
    result = WarmUp()
    started = time.perf_counter()
    for path in paths:
        begun = time.perf_counter()
        status, body = get(port, path)
        result.latencies.append(((time.perf_counter() - begun) * 1000, path))
        if status != 200:
            result.failures.append((path, status, body[:300].decode("utf-8", "replace")))
    result.seconds = time.perf_counter() - started
    return result


# -- wrk -----------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float = 0.0
    requests: int = 0
    seconds: float = 0.0
    percentiles: dict[int, float] = field(default_factory=dict)
    max_ms: float = 0.0
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(text: str) -> WrkResult:
    """The numbers of wrk's report (with --latency) and wrk_replay.lua's status lines."""
    result = WrkResult()
    if match := re.search(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)", text, re.M):
        result.max_ms = to_ms(match.group(1))
    for percent, value in re.findall(r"^\s*(50|75|90|99)%\s+(\S+)", text, re.M):
        result.percentiles[int(percent)] = to_ms(value)
    if match := re.search(r"^\s*(\d+) requests in (\S+),", text, re.M):
        result.requests, result.seconds = int(match.group(1)), to_ms(match.group(2)) / 1000
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups()), strict=True))
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        result.non_2xx = int(match.group(1))
    if match := re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M):
        result.rps = float(match.group(1))
    result.statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+): (\d+)$", text, re.M)}
    return result


def run_wrk(
    port: int, server_pid: int, paths_file: Path, args: argparse.Namespace, midway: Callable[[], object]
) -> tuple[str, object, float]:
    """wrk's report, what ``midway`` returned when called halfway through the run, and the share
    of the machine's CPU time that processes other than the server and wrk used meanwhile."""
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command += ["-s", str(LUA_SCRIPT), f"http://{HOST}:{port}", "--", str(paths_file), str(args.wrk_threads)]
    command.append("statuses")
    log(f"$ {' '.join(command)}")
    (busy, total), served, children = machine_cpu(), tree_cpu(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        try:
            proc.wait(args.duration / 2)
        except subprocess.TimeoutExpired:
            pass
        sampled = midway()
        stdout, stderr = proc.communicate(timeout=args.duration + 30)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise SystemExit(f"wrk did not finish within {args.duration + 30} s") from exc
    if proc.returncode != 0 or "Requests/sec" not in stdout:
        raise SystemExit(f"wrk failed with exit status {proc.returncode}:\n{stderr}{stdout}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_ticks = (after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime) * TICKS
    busy_after, total_after = machine_cpu()
    others = (busy_after - busy) - (tree_cpu(server_pid) - served) - wrk_ticks
    return stdout, sampled, max(others, 0) / max(total_after - total, 1)


# -- the run -------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    mode: Mode
    wrk: WrkResult
    rss: int
    pss: int
    anonymous: int
    warm: WarmUp
    connections: list[int]
    others_cpu: float
    log_path: Path


def measure(mode: Mode, paths: list[str], paths_file: Path, workdir: Path, args) -> Measurement:
    slug = re.sub(r"\W+", "-", f"{mode.engine} {mode.label}".lower()).strip("-")
    server = Server(mode, workdir / f"{slug}.log", workdir)
    try:
        server.wait_ready()
        log(f"{mode.engine}, {mode.label}: ready on port {server.port}; warming up with {len(paths)} requests")
        warm = warm_up(server.port, paths)
        # what a server does once after opening a generation (Whoosh's autocomplete index, seconds of
        # CPU per worker) is not what the load measures: wait for it to end
        warm.idle_after = wait_until_idle(process_tree(server.proc.pid))
        output, connections, others = run_wrk(server.port, server.proc.pid, paths_file, args, server.connections)
        wrk = parse_wrk(output)
        (workdir / f"{slug}.wrk.txt").write_text(output)
        rss, pss, anonymous = server.memory()
        log(output.rstrip())
    finally:
        server.stop()
    return Measurement(mode, wrk, rss, pss, anonymous, warm, connections, others, server.log_path)


def modes(args: argparse.Namespace, index_dir: Path, db_path: Path) -> list[Mode]:
    layout = ["--threads", str(args.threads)]
    serve = [sys.executable, "-m", "searchsvc", "serve", "--host", HOST, "--port", "0", "--index", str(index_dir)]
    serve += ["--workers", str(args.workers)] if args.workers else []  # none: serve's default (usable cores)
    cache = Settings().result_cache
    out = [
        Mode("searchsvc", "result cache off", serve + layout, {**clean_env(), "SEARCHSVC_RESULT_CACHE": "0"}),
        Mode("searchsvc", f"result cache {cache}", serve + layout, clean_env()),
    ]
    if not args.skip_fts5:
        fts5 = [sys.executable, str(FTS5_SERVER), "--db", str(db_path), "--host", HOST, "--port", "0"]
        workers = ["--workers", str(args.workers or usable_cores())]
        out.append(Mode("SQLite FTS5", "no result cache", fts5 + layout + workers, clean_env()))
    return out


def code_version() -> str:
    """The commit being measured, and how many files under searchsvc/ differ from it."""
    git = ["git", "-C", str(REPO_DIR)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run([*git, "status", "--porcelain", "searchsvc"], capture_output=True, text=True).stdout
    count = len(changed.splitlines())
    dirty = f" + uncommitted changes in {count} files under searchsvc/" if count else ""
    return (head or "unknown commit") + dirty


def table_row(m: Measurement) -> list[str]:
    p = m.wrk.percentiles
    return [
        m.mode.engine,
        m.mode.label,
        fmt(m.wrk.rps, 1),
        *(fmt(p.get(n), 1) for n in (50, 90, 99)),
        fmt(m.wrk.max_ms, 1),
        str(m.wrk.errors),
        fmt(m.rss / MB, 0),
        fmt(m.pss / MB, 0),
    ]


def mode_notes(m: Measurement) -> list[str]:
    w, name = m.wrk, f"{m.mode.engine}, {m.mode.label}"
    slowest = ", ".join(f"{path} {ms:.0f} ms" for ms, path in sorted(m.warm.latencies, reverse=True)[:3])
    notes = [
        f"{name}: {w.requests:,} requests in {w.seconds:.1f} s, p75 {fmt(w.percentiles.get(75), 1)} ms; "
        f"warm-up {len(m.warm.latencies)} requests in {m.warm.seconds:.1f} s (slowest: {slowest}), then idle "
        f"{m.warm.idle_after:.0f} s later; "
        f"RSS {m.anonymous / MB:,.0f} MB anonymous + {(m.rss - m.anonymous) / MB:,.0f} MB file-backed; "
        f"connections per worker halfway: {' + '.join(map(str, m.connections)) or 'unknown'}; "
        f"other processes used {m.others_cpu:.0%} of the machine's CPU during the run"
    ]
    if w.errors:
        statuses = ", ".join(f"{n} × {status}" for status, n in sorted(w.statuses.items())) or "none"
        notes.append(f"{name}: non-2xx {w.non_2xx} ({statuses}), socket errors {w.socket_errors}; log {m.log_path}")
    if w.socket_errors.get("timeout"):
        notes.append(
            f"{name}: {w.socket_errors['timeout']} requests took longer than wrk's 2 s timeout "
            "(errors; not in the latency columns)"
        )
    for path, status, body in m.warm.failures:
        notes.append(f"{name}: warm-up {path} answered {status}: {body}")
    return notes


def run_engine(index_dir: Path, corpus: Path, paths_file: Path, workdir: Path, passes: int, label: str) -> EngineRun:
    """engine_ceiling.py in a subprocess, as the server runs (no SEARCHSVC_* settings but the cache
    off, in the work folder), and the share of the machine's CPU other processes used meanwhile."""
    out = workdir / f"engine-{label}.json"
    command = [sys.executable, str(ENGINE_CEILING), "--index", str(index_dir), "--corpus", str(corpus)]
    command += ["--paths", str(paths_file), "--passes", str(passes), "--out", str(out)]
    log(f"$ {' '.join(command)}")
    (busy, total), children = machine_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**clean_env(), "SEARCHSVC_RESULT_CACHE": "0"}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=ENGINE_TIMEOUT)
    if done.returncode != 0:
        raise SystemExit(f"the engine pass failed with exit status {done.returncode}:\n{done.stderr}{done.stdout}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime) * TICKS
    busy_after, total_after = machine_cpu()
    others = max((busy_after - busy) - own, 0) / max(total_after - total, 1)
    data = json.loads(out.read_text())
    return EngineRun(
        label, data["latencies_ms"], data["open_seconds"], others, data["documents"], data["waited_seconds"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/bench-index"), help="index (default /tmp/bench-index)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"articles (default {DEFAULT_CORPUS})")
    parser.add_argument("--fts5-db", type=Path, default=Path("/tmp/bench-fts5.db"), help="default /tmp/bench-fts5.db")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per mode (default 60)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument(
        "--workers", type=int, default=0, help="server processes (default: serve's, one per usable core)"
    )
    parser.add_argument("--threads", type=int, default=4, help="server threads per process (default 4)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--engine-passes", type=int, default=2, help="timed engine passes before and after (2)")
    parser.add_argument("--skip-fts5", action="store_true", help="measure searchsvc only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs, wrk output)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed. Install it with: apt-get install -y wrk")

    index_dir, db_path, corpus = args.index.resolve(), args.fts5_db.resolve(), args.corpus.resolve()
    queries = load_queries()
    paths = [request_path(q) for q in queries]
    workdir = Path(tempfile.mkdtemp(prefix="http-load-"))
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    # the first engine pass builds the index when it is missing (as search_latency.py would)
    engine = [run_engine(index_dir, corpus, paths_file, workdir, args.engine_passes, "before")]
    documents = engine[0].documents  # not read here: opening its segments would map the index files
    if not args.skip_fts5:
        ensure_fts5(db_path, corpus, documents)

    version = code_version()
    results = []
    for mode in modes(args, index_dir, db_path):
        results.append(measure(mode, paths, paths_file, workdir, args))
        if mode.engine == "searchsvc" and "off" in mode.label:
            engine.append(run_engine(index_dir, corpus, paths_file, workdir, args.engine_passes, "after"))
    failed = any(m.wrk.errors or m.warm.failures for m in results)
    given = f"{args.workers} workers" if args.workers else f"serve's default workers ({usable_cores()} usable cores)"
    workers = given
    headers = ["engine", "mode", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "RSS MB", "PSS MB"]
    print(format_table(headers, [table_row(m) for m in results], "llrrrrrrrr"))
    print()
    print(
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --latency, {len(paths)} paths from "
        f"{QUERIES_FILE} replayed round-robin; server: {workers} × {args.threads} threads on {HOST}"
    )
    print(f"index: {index_dir} ({documents:,} documents)" + ("" if args.skip_fts5 else f"; FTS5: {db_path}"))
    print(f"code: {version}")
    print("errors: non-2xx responses + socket errors; RSS and PSS: summed over the server's processes after the run")
    for m in results:
        print("\n".join(mode_notes(m)))
    print()
    print(goal_table(results, engine, usable_cores()))
    for run in engine:
        summary = summarise(run.latencies_ms)
        print(
            f"engine {run.label} the cache-off load: {len(run.latencies_ms)} searches ({args.engine_passes} passes "
            f"after a warm-up pass; app opened in {run.open_seconds:.1f} s, then {run.waited_seconds:.0f} s for its "
            f"background work), mean {summary.mean:.2f} ms, "
            f"p50 {summary.p50:.2f}, p99 {summary.p99:.2f}; other processes used {run.others_cpu:.0%} of the CPU"
        )
    if mapped := mapped_files_under(index_dir):
        print(f"warning: this script maps {len(mapped)} index files, which lowers the server's PSS: {mapped[:3]}")
    if args.keep or failed:
        print(f"server logs and wrk output: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def goal_table(results: list[Measurement], engine: list[EngineRun], cores: int) -> str:
    """Issue 14's goals 3 and 5: the cache-off HTTP figures against the engine's (both engine
    passes pooled), and the PSS of each searchsvc mode."""
    off = next(m for m in results if m.mode.engine == "searchsvc" and "off" in m.mode.label)
    pss = [(m.mode.label, m.pss) for m in results if m.mode.engine == "searchsvc"]
    latencies = [ms for run in engine for ms in run.latencies_ms]
    http_p99 = off.wrk.percentiles.get(99, float("inf"))
    rows = goal_rows(latencies, cores, off.wrk.rps, http_p99, off.wrk.errors, pss)
    return format_table(["measure (issue 14)", "value", "goal", "verdict"], rows, "lrrl")


if __name__ == "__main__":
    main()
