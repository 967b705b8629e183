"""Engines side by side: the Whoosh engine and the OpenSearch engine (one local node) in one run on
the same corpus and queries, each through searchsvc's own paths: index build and a no-op re-index
(``build_index`` with the engine's builder), search latency of the 200 shared queries with facets
(``SearchService``, result cache off) with a check that both engines give the same results, and
HTTP load (``searchsvc serve`` under wrk).

    python benchmarks/engines.py                       # full corpus, starts a node (heap 2g)
    python benchmarks/engines.py --n 2000              # a 2,000-article subset (generated)
    python benchmarks/engines.py --opensearch-url http://127.0.0.1:9200 --skip-build

Prints Markdown tables. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    DEFAULT_CORPUS,
    MB,
    QUERIES_FILE,
    REPO_DIR,
    clean_env,
    count_article_files,
    fmt,
    format_table,
    log,
    prepare_corpus,
    process_rss,
    process_tree,
    summarise,
)
from http_load import HOST, Mode, Server, machine_cpu, parse_wrk, request_path, run_wrk, tree_cpu, warm_up
from search_latency import load_queries, to_request

from searchsvc.config import Settings
from searchsvc.engine import open_builder, open_search
from searchsvc.indexer import build_index
from searchsvc.search import SearchResults, SearchService

NODE_SCRIPT = REPO_DIR / "scripts" / "opensearch-node"
NODE_START_TIMEOUT = 300.0  # a Maven build of the launcher, then a JVM start on 2 busy cores
NODE_STOP_TIMEOUT = 60.0
ENGINES = ("whoosh", "opensearch")
LABELS = {"whoosh": "Whoosh", "opensearch": "OpenSearch"}
TICKS = os.sysconf("SC_CLK_TCK")


# -- the OpenSearch node ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def call(url: str, timeout: float = 30.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class Node:
    """One OpenSearch node started with scripts/opensearch-node (or a running one at ``url``)."""

    def __init__(self, url: str = "", pid: int | None = None) -> None:
        self.url, self.pid, self.proc, self.log_path = url.rstrip("/"), pid, None, None

    @classmethod
    def start(cls, heap: str, data: Path) -> Node:
        http, transport = free_port(), free_port()
        data.mkdir(parents=True, exist_ok=True)
        node = cls(f"http://{HOST}:{http}")
        node.log_path = data / "node.log"
        command = [str(NODE_SCRIPT), "--heap", heap, "--http-port", str(http), "--transport-port", str(transport)]
        command += ["--data", str(data / "home")]
        log(f"$ {' '.join(command)}")
        started = time.monotonic()
        with open(node.log_path, "wb") as out:
            node.proc = subprocess.Popen(command, cwd=REPO_DIR, stdout=out, stderr=subprocess.STDOUT)
        node.pid = node.proc.pid  # the script execs the JVM: same process
        ready = f"opensearch-node ready {node.url}"
        while ready not in node.log_path.read_text(errors="replace"):
            if node.proc.poll() is not None or time.monotonic() - started > NODE_START_TIMEOUT:
                node.stop()
                raise SystemExit(f"The OpenSearch node did not start:\n{node.log_tail()}")
            time.sleep(0.5)
        log(f"OpenSearch node ready at {node.url} in {time.monotonic() - started:.1f} s (log {node.log_path})")
        return node

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(NODE_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"the node did not stop within {NODE_STOP_TIMEOUT:.0f} s of SIGTERM: killing it")
            self.proc.kill()
            self.proc.wait()

    def version(self) -> str:
        return call(self.url)["version"]["number"]

    def indices(self, prefix: str) -> list[dict]:
        return call(f"{self.url}/_cat/indices/{prefix}*?format=json&bytes=b")

    def settle(self, timeout: float = 300.0) -> float:
        """Wait until the node runs no merges (twice in a row); the seconds that took."""
        started, quiet = time.monotonic(), 0
        while quiet < 2 and time.monotonic() - started < timeout:
            stats = call(f"{self.url}/_nodes/stats/indices/merge")["nodes"].values()
            quiet = quiet + 1 if all(n["indices"]["merges"]["current"] == 0 for n in stats) else 0
            time.sleep(1.0)
        return time.monotonic() - started

    def rss(self) -> int | None:
        return process_rss(self.pid) if self.pid else None

    def cpu_ticks(self) -> int:
        return tree_cpu(self.pid) if self.pid else 0


# -- CPU shares of a phase (the machine is shared) -------------------------------------------------------


class Phase:
    """Wall time of a block, and which share of the machine's CPU went to this script (and its
    children), to the node, and to everything else meanwhile."""

    def __init__(self, name: str, node: Node | None, notes: list[str]) -> None:
        self.name, self.node, self.notes, self.seconds = name, node, notes, 0.0

    def __enter__(self) -> Phase:
        self.started, self.machine, self.node_ticks, self.own = time.perf_counter(), machine_cpu(), 0, own_ticks()
        self.node_ticks = self.node.cpu_ticks() if self.node else 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        (busy, total), own = machine_cpu(), own_ticks() - self.own
        busy, total = busy - self.machine[0], max(total - self.machine[1], 1)
        node = (self.node.cpu_ticks() - self.node_ticks) if self.node else 0
        others = max(busy - own - node, 0)
        self.notes.append(
            f"{self.name}: {self.seconds:.1f} s; CPU of the machine: this script and its children {own / total:.0%}, "
            f"OpenSearch node {node / total:.0%}, other processes {others / total:.0%}"
        )


def own_ticks() -> int:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return round(sum(u.ru_utime + u.ru_stime for u in usage) * TICKS)


# -- settings, build -------------------------------------------------------------------------------------


def engine_settings(engine: str, workdir: Path, url: str, prefix: str) -> Settings:
    index_dir = str(workdir / f"{engine}-index")
    if engine == "whoosh":
        return Settings(engine="whoosh", index_dir=index_dir)
    return Settings(engine="opensearch", index_dir=index_dir, opensearch_url=(url,), opensearch_index_prefix=prefix)


def folder_bytes(path: Path) -> int:
    return sum(os.lstat(os.path.join(d, f)).st_size for d, _, files in os.walk(path) for f in files)


@dataclass
class Built:
    seconds: float = 0.0
    documents: int = 0
    size_bytes: int = 0
    noop_seconds: float = 0.0
    remarks: list[str] = field(default_factory=list)


def build(settings: Settings, corpus: Path, node: Node | None, prefix: str) -> Built:
    out = Built()
    if node is None:  # a full build into an empty folder, as the node's index starts empty
        shutil.rmtree(settings.index_dir, ignore_errors=True)
    for full in (True, False):
        started = time.perf_counter()
        report = build_index(
            [str(corpus)], settings.index_dir, full=full, lock_timeout=60, builder=open_builder(settings)
        )
        seconds = time.perf_counter() - started
        kind = "full build" if full else "no-op re-index"
        log(f"{settings.engine} {kind}: {seconds:.1f} s; " + " ".join(report.lines()))
        out.remarks.append(f"{kind}: {report.counts_line()}, {report.documents:,} documents")
        if report.failures:
            shown = "; ".join(str(f) for f in report.failures[:5])
            out.remarks.append(f"{kind}: {report.failed} files failed, first: {shown}")
        if full:
            out.seconds, out.documents = seconds, report.documents
            if node is None:
                out.size_bytes = folder_bytes(Path(settings.index_dir))
            else:
                settled = node.settle()
                rows = node.indices(prefix)
                out.size_bytes = sum(int(r["store.size"] or 0) for r in rows)
                listed = ", ".join(
                    f"{r['index']} {r['docs.count']} docs {int(r['store.size'] or 0) / MB:.1f} MB" for r in rows
                )
                out.remarks.append(f"_cat/indices {prefix}*: {listed}; merges done {settled:.0f} s after the build")
        else:
            out.noop_seconds = seconds
    return out


def existing(settings: Settings, node: Node | None, prefix: str) -> Built:
    """--skip-build: what is there (the documents of the published view, the size)."""
    builder = open_builder(settings)
    if builder.current() is None:
        raise SystemExit(f"--skip-build: no {settings.engine} index at {settings.index_dir}. Run without --skip-build.")
    size = (
        folder_bytes(Path(settings.index_dir))
        if node is None
        else sum(int(r["store.size"] or 0) for r in node.indices(prefix))
    )
    return Built(documents=builder.current_documents(), size_bytes=size, remarks=["reused (--skip-build)"])


# -- search latency and the same-results check -------------------------------------------------------------


@dataclass
class Searched:
    latencies: list[float] = field(default_factory=list)
    results: list[SearchResults | None] = field(default_factory=list)  # first measured pass
    failures: list[tuple[int, str]] = field(default_factory=list)  # query number, traceback
    open_seconds: float = 0.0


def measure_search(settings: Settings, requests: list, passes: int) -> Searched:
    out = Searched()
    started = time.perf_counter()
    service = SearchService(open_search(settings), cache_size=0)
    out.open_seconds = time.perf_counter() - started
    try:
        for number in range(passes + 1):  # pass 0 warms up
            for position, request in enumerate(requests):
                begun = time.perf_counter()
                try:
                    results = service.search(request)
                except Exception:
                    if position not in {p for p, _ in out.failures}:
                        out.failures.append((position, traceback.format_exc()))
                    results = None
                if number == 1:
                    out.results.append(results)
                if number and results is not None:
                    out.latencies.append((time.perf_counter() - begun) * 1000)
    finally:
        service.engine.close()
    return out


def facet_table(results: SearchResults) -> dict:
    return {name: [(v.value, v.count) for v in facet.values] for name, facet in results.facets.items()}


@dataclass
class Agreement:
    """How one query's results compare between the engines (each pair: Whoosh, OpenSearch)."""

    query: dict
    overlap: float  # share of the top-10 ids both engines return
    same_order: bool
    totals: tuple[int, int]
    facets: list[str]  # the facets whose values or counts differ
    relaxed: tuple[bool, bool]
    suggestion: tuple[str | None, str | None]

    @property
    def difference(self) -> int:
        return self.totals[1] - self.totals[0]


def compare(queries: list[dict], whoosh: Searched, opensearch: Searched) -> list[Agreement]:
    out = []
    for query, a, b in zip(queries, whoosh.results, opensearch.results, strict=True):
        if a is None or b is None:
            continue
        ids_a, ids_b = [h.id for h in a.hits], [h.id for h in b.hits]
        overlap = len(set(ids_a) & set(ids_b)) / max(len(ids_a), len(ids_b)) if ids_a or ids_b else 1.0
        facets_a, facets_b = facet_table(a), facet_table(b)
        differ = sorted(name for name in facets_a.keys() | facets_b.keys() if facets_a.get(name) != facets_b.get(name))
        totals, relaxed, suggestion = (a.total, b.total), (a.relaxed, b.relaxed), (a.suggestion, b.suggestion)
        out.append(Agreement(query, overlap, ids_a == ids_b, totals, differ, relaxed, suggestion))
    return out


def describe(query: dict) -> str:
    filters = [f"{name}={query[name]}" for name in ("provider", "from", "to") if query.get(name)]
    return repr(query["q"]) + (f" ({', '.join(filters)})" if filters else "")


def correctness_tables(rows: list[Agreement]) -> list[str]:
    n = max(len(rows), 1)
    equal_totals = sum(1 for r in rows if not r.difference)
    relaxed = [r for r in rows if r.relaxed[0] != r.relaxed[1]]
    suggested = [r for r in rows if r.suggestion[0] != r.suggestion[1]]
    facets = [r for r in rows if r.facets]
    summary = [
        len(rows),
        f"{sum(r.overlap for r in rows) / n:.1%}",
        f"{sum(r.same_order for r in rows) / n:.0%}",
        f"{equal_totals / n:.0%} ({equal_totals})",
        f"{1 - len(facets) / n:.0%}",
        len(relaxed),
        len(suggested),
    ]
    headers = ["queries", "mean top-10 overlap", "same top 10, same order", "equal totals", "equal facets"]
    out = [format_table([*headers, "relaxed differs", "did-you-mean differs"], [summary], "rrrrrrr")]
    largest = [r for r in sorted(rows, key=lambda r: -abs(r.difference))[:5] if r.difference]
    detail = [
        [describe(r.query), *(f"{t:,}" for t in r.totals), f"{r.difference:+,}", f"{r.overlap:.0%}"] for r in largest
    ]
    if detail:
        headers = ["query (largest total difference)", "Whoosh total", "OpenSearch total", "difference"]
        out.append(format_table([*headers, "top-10 overlap"], detail, "lrrrr"))
    examples = []
    lowest = [r for r in sorted(rows, key=lambda r: r.overlap)[:5] if r.overlap < 1]
    if lowest:
        examples.append("lowest top-10 overlap: " + ", ".join(f"{describe(r.query)} {r.overlap:.0%}" for r in lowest))
    if facets:
        listed = ", ".join(f"{describe(r.query)} ({', '.join(r.facets)})" for r in facets[:8])
        examples.append(f"facets differ ({len(facets)}; Whoosh vs OpenSearch values or counts): {listed}")
    if relaxed:
        listed = ", ".join(f"{describe(r.query)} {r.relaxed[0]} vs {r.relaxed[1]}" for r in relaxed[:8])
        examples.append(f"relaxed to fewer words, Whoosh vs OpenSearch: {listed}")
    if suggested:
        listed = ", ".join(f"{describe(r.query)} {r.suggestion[0]!r} vs {r.suggestion[1]!r}" for r in suggested[:8])
        examples.append(f"did-you-mean, Whoosh vs OpenSearch: {listed}")
    return [*out, "\n".join(f"- {line}" for line in examples)] if examples else out


# -- HTTP --------------------------------------------------------------------------------------------------


def serve_mode(engine: str, settings: Settings, args: argparse.Namespace) -> Mode:
    command = [sys.executable, "-m", "searchsvc", "serve", "--host", HOST, "--port", "0"]
    command += ["--index", settings.index_dir, "--workers", str(args.workers), "--threads", str(args.threads)]
    env = {**clean_env(), "SEARCHSVC_RESULT_CACHE": "0", "SEARCHSVC_ENGINE": engine}
    if engine == "opensearch":
        env["SEARCHSVC_OPENSEARCH_URL"] = ",".join(settings.opensearch_url)
        env["SEARCHSVC_OPENSEARCH_INDEX_PREFIX"] = settings.opensearch_index_prefix
    return Mode(LABELS[engine], "result cache off", command, env)


def measure_http(mode: Mode, node: Node | None, paths: list[str], workdir: Path, args) -> dict:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    server = Server(mode, workdir / f"serve-{mode.engine.lower()}.log", workdir)
    try:
        server.wait_ready()
        warm = warm_up(server.port, paths)
        log(f"{mode.engine}: serving on port {server.port}; warm-up {len(paths)} requests in {warm.seconds:.1f} s")
        node_before, machine_before = (node.cpu_ticks() if node else 0), machine_cpu()
        output, connections, others = run_wrk(server.port, server.proc.pid, paths_file, args, server.connections)
        node_ticks = (node.cpu_ticks() - node_before) if node else 0
        total = max(machine_cpu()[1] - machine_before[1], 1)
        rss = sum(filter(None, map(process_rss, process_tree(server.proc.pid))))
        (workdir / f"wrk-{mode.engine.lower()}.txt").write_text(output)
        log(output.rstrip())
    finally:
        server.stop()
    return {
        "wrk": parse_wrk(output),
        "rss": rss,
        "node_rss": node.rss() if node else None,
        "warm_failures": warm.failures,
        "connections": connections,
        "node_cpu": node_ticks / total,
        "others_cpu": max(others - node_ticks / total, 0.0),
    }


# -- tables --------------------------------------------------------------------------------------------------


def ratio(whoosh: float | None, opensearch: float | None) -> str:
    if whoosh is None or opensearch is None or not whoosh:
        return "—"
    return f"{opensearch / whoosh:.2f}×"


def side_by_side(rows: list[tuple[str, float | None, float | None, int]]) -> str:
    cells = [[name, fmt(a, digits), fmt(b, digits), ratio(a, b)] for name, a, b, digits in rows]
    return format_table(["", "Whoosh", "OpenSearch", "OpenSearch / Whoosh"], cells, "lrrr")


def machine_line(corpus: Path, files: int, node: Node | None, args) -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    java = (
        subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[:1]
        if shutil.which("java")
        else []
    )
    opensearch = f"OpenSearch {node.version()}" if node else "no OpenSearch"
    heap = f" (heap {args.heap}, started by this script)" if node and node.proc else " (given by --opensearch-url)"
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Linux {platform.release()}, "
        f"load average {os.getloadavg()[0]:.2f} at the start; Python {platform.python_version()}; "
        f"{java[0] if java else 'java ?'}; {opensearch}{heap if node else ''}\n"
        f"corpus: {corpus} ({files:,} files); queries: {QUERIES_FILE}; the machine is shared with other work, "
        "so other processes' CPU share is given per phase below"
    )


def print_now(*blocks: str) -> None:
    print("\n\n".join(blocks) + "\n", flush=True)


def pair(items: dict, value) -> tuple:
    """``value`` of the Whoosh and the OpenSearch item (None for an engine not measured)."""
    return tuple(value(items[e]) if items.get(e) is not None else None for e in ENGINES)


def failure_notes(label: str, queries: list[dict], searched: Searched) -> list[str]:
    if not searched.failures:
        return []
    kinds: dict[str, tuple[int, str]] = {}
    for position, text in searched.failures:
        kinds.setdefault(text.strip().splitlines()[-1], (position, text))
    listed = ", ".join(describe(queries[p]) for p, _ in searched.failures[:10])
    out = [f"{label}: {len(searched.failures)} queries raised: {listed}"]
    for last, (position, text) in kinds.items():
        out.append(f"{label}: first {last!r}, query {describe(queries[position])}:\n{text}")
    return out


def build_rows(built: dict[str, Built], skip_build: bool) -> list[tuple]:
    rows = [("documents", *pair(built, lambda b: b.documents), 0)]
    rows.append(("index size MB", *pair(built, lambda b: b.size_bytes / MB), 1))
    if not skip_build:
        rows.insert(0, ("full build s", *pair(built, lambda b: b.seconds), 1))
        rows.append(("no-op re-index s", *pair(built, lambda b: b.noop_seconds), 2))
    return rows


def http_rows(measured: dict[str, dict]) -> list[tuple]:
    rows = [("requests/s", *pair(measured, lambda m: m["wrk"].rps), 1)]
    for n in (50, 90, 99):
        rows.append((f"p{n} ms", *pair(measured, lambda m, n=n: m["wrk"].percentiles.get(n)), 1))
    rows.append(("max ms", *pair(measured, lambda m: m["wrk"].max_ms), 1))
    rows.append(("non-2xx", *pair(measured, lambda m: m["wrk"].non_2xx), 0))
    rows.append(("socket errors", *pair(measured, lambda m: sum(m["wrk"].socket_errors.values())), 0))
    rows.append(("server RSS MB", *pair(measured, lambda m: m["rss"] / MB), 0))
    node = measured.get("opensearch") or {}
    rows.append(("+ OpenSearch node RSS MB", None, node["node_rss"] / MB if node.get("node_rss") else None, 0))
    return rows


def run_builds(args, node: Node, corpus: Path, settings: dict, engines: list[str], prefix: str, notes) -> None:
    built: dict[str, Built] = {}
    for e in engines:
        size_node = node if e == "opensearch" else None
        with Phase(f"{LABELS[e]} {'index reuse' if args.skip_build else 'build + no-op re-index'}", node, notes):
            if args.skip_build:
                built[e] = existing(settings[e], size_node, prefix)
            else:
                built[e] = build(settings[e], corpus, size_node, prefix)
        notes += [f"{LABELS[e]} {remark}" for remark in built[e].remarks]
        engine = open_search(settings[e])
        try:
            notes.append(
                f"{LABELS[e]} index size by the engine's own summary: {engine.summary().size_bytes / MB:.1f} MB"
            )
        finally:
            engine.close()
    if "opensearch" in engines and node.rss():
        notes.append(f"OpenSearch node RSS after the builds: {node.rss() / MB:,.0f} MB")
    print_now("## Index build", side_by_side(build_rows(built, args.skip_build)))


def run_searches(args, node: Node, queries: list[dict], settings: dict, engines: list[str], notes) -> bool:
    """The latency and same-results tables; True when a query raised."""
    requests = [to_request(q) for q in queries]
    searched: dict[str, Searched] = {}
    for e in engines:
        node.settle()
        with Phase(f"{LABELS[e]} search, warm-up + {args.passes} passes", node, notes):
            searched[e] = measure_search(settings[e], requests, args.passes)
        notes += failure_notes(LABELS[e], queries, searched[e])
    stats = {e: summarise(s.latencies) for e, s in searched.items() if s.latencies}
    rows = [(f"{key} ms", *pair(stats, lambda s, key=key: getattr(s, key)), 2) for key in ("p50", "p95", "p99")]
    rows += [(f"{key} ms", *pair(stats, lambda s, key=key: getattr(s, key)), 2) for key in ("mean", "max")]
    samples = ", ".join(f"{LABELS[e]} {len(s.latencies)}" for e, s in searched.items())
    opened = ", ".join(f"{LABELS[e]} {s.open_seconds:.2f} s" for e, s in searched.items())
    blocks = [
        "## Search latency (SearchService, result cache off, every facet)",
        side_by_side(rows),
        f"{len(queries)} queries, a warm-up pass then {args.passes} measured passes, one engine after the other "
        f"(samples: {samples}); SearchService opened in {opened}",
    ]
    if len(searched) == 2:
        compared = compare(queries, searched["whoosh"], searched["opensearch"])
        blocks += ["## Same results? (first measured pass)", *correctness_tables(compared)]
    print_now(*blocks)
    return any(s.failures for s in searched.values())


def run_http(args, node: Node, queries: list[dict], settings: dict, engines: list[str], workdir: Path, notes) -> bool:
    """The HTTP table; True when a request failed."""
    paths = [request_path(q) for q in queries]
    measured, failed = {}, False
    for e in engines:
        node.settle()
        with Phase(f"{LABELS[e]} HTTP (server start, warm-up, wrk)", node, notes):
            m = measured[e] = measure_http(serve_mode(e, settings[e], args), node, paths, workdir, args)
        notes.append(
            f"{LABELS[e]} HTTP: {m['wrk'].requests:,} requests; connections per worker halfway "
            f"{' + '.join(map(str, m['connections'])) or 'unknown'}; during wrk the node used "
            f"{m['node_cpu']:.0%} and other processes {m['others_cpu']:.0%} of the machine's CPU"
        )
        if m["wrk"].statuses or m["wrk"].socket_errors.get("timeout") or m["warm_failures"]:
            failed = True
            notes.append(f"{LABELS[e]} HTTP: statuses {m['wrk'].statuses}, socket errors {m['wrk'].socket_errors}")
            notes += [f"{LABELS[e]} HTTP warm-up: {p} answered {s}: {b}" for p, s, b in m["warm_failures"][:5]]
    print_now(
        "## HTTP (searchsvc serve, result cache off)",
        side_by_side(http_rows(measured)),
        f"`searchsvc serve --workers {args.workers} --threads {args.threads}` on {HOST} with "
        "SEARCHSVC_RESULT_CACHE=0, the same for both engines; "
        f"`wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --latency` replaying the "
        f"{len(paths)} query paths round-robin (wrk_replay.lua), after one warm-up request per path; "
        f"server RSS summed over its processes after the run; logs in {workdir}",
    )
    return failed


def run(args: argparse.Namespace, node: Node, corpus: Path, workdir: Path, prefix: str) -> int:
    notes: list[str] = []
    settings = {e: engine_settings(e, workdir, node.url, prefix) for e in ENGINES}
    engines, status = list(ENGINES), 0
    try:
        open_builder(settings["opensearch"])
    except Exception as exc:
        engines, status = ["whoosh"], 1
        notes.append(f"OpenSearch engine not available ({type(exc).__name__}: {exc}): measured Whoosh only")
    print_now(f"# Engines: Whoosh and OpenSearch\n\n{machine_line(corpus, count_article_files(corpus), node, args)}")
    run_builds(args, node, corpus, settings, engines, prefix, notes)
    queries = load_queries()
    if run_searches(args, node, queries, settings, engines, notes):
        status = 1
    if not args.skip_http and run_http(args, node, queries, settings, engines, workdir, notes):
        status = 1
    print_now("## Notes", "\n".join(f"- {note}" for note in notes))
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"articles (default {DEFAULT_CORPUS})")
    parser.add_argument("--n", type=int, default=0, help="use an N-article subset (kept in /tmp/bench-corpus-nN)")
    parser.add_argument("--workdir", type=Path, help="indexes and logs (default /tmp/bench-engines[-nN], kept)")
    parser.add_argument("--opensearch-url", help="use this running node instead of starting one")
    parser.add_argument("--heap", default="2g", help="heap of the node this script starts (default 2g)")
    parser.add_argument("--node-data", type=Path, help="data folder of the node started (default: a temp folder)")
    parser.add_argument("--keep-node", action="store_true", help="leave the node running (and its data) at the end")
    parser.add_argument("--skip-build", action="store_true", help="reuse the indexes of an earlier run")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP load")
    parser.add_argument("--passes", type=int, default=2, help="measured search passes after the warm-up (default 2)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk load per engine (default 30)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="server processes, both engines (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="server threads per process (default 4)")
    args = parser.parse_args()
    if not args.skip_http and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed. Install it with: apt-get install -y wrk (or use --skip-http)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the node is stopped on the way out

    started = time.perf_counter()
    suffix = f"-n{args.n}" if args.n else ""
    corpus = prepare_corpus(args.corpus.resolve(), args.n, Path(f"/tmp/bench-corpus{suffix}"))
    workdir = (args.workdir or Path(f"/tmp/bench-engines{suffix}")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    temporary = None
    if args.opensearch_url:
        node = Node(args.opensearch_url)
    else:
        if args.node_data is None and args.skip_build:
            raise SystemExit(
                "--skip-build needs the OpenSearch index of an earlier run: give --node-data DIR of that run "
                "or --opensearch-url of a node kept with --keep-node."
            )
        data = args.node_data.resolve() if args.node_data else Path(tempfile.mkdtemp(prefix="bench-engines-node-"))
        temporary = None if args.node_data else data
        node = Node.start(args.heap, data)
    try:
        status = run(args, node, corpus, workdir, f"bench-engines{suffix}")
    except BaseException:
        if node.proc:
            log(f"the node's log ends:\n{node.log_tail()}")
        raise
    finally:
        if node.proc and args.keep_node:
            log(f"the node keeps running: {node.url}, pid {node.pid}, data {node.log_path.parent}")
        elif node.proc:
            node.stop()
            if temporary:
                shutil.rmtree(temporary, ignore_errors=True)
        print(f"run: {time.perf_counter() - started:.0f} s", flush=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
