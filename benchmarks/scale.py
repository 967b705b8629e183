"""Growth benchmark (issue 14): the corpus at 1×, 2× and 4× its size, each built, served and
searched the same way; one table of build seconds, peak build PSS, index size, serve PSS and search
p50/p95 (result cache off), with each figure's ratio to the 1× row and the goals at 4×.

    python benchmarks/scale.py                         # 1×, 2×, 4× of /work/data/news-all (155k -> 620k)
    python benchmarks/scale.py --n 5000 --sizes 1,2    # a quick look on a 5,000-article base

The larger corpora are the base plus copies of it (copy k = 1, 2, 3; written once under --workdir
and reused): each article with a distinct URL (``?copy=k``), its date k × 8 months later (the base
spans 8 months, so copies never overlap in time), and one word of its title and one of its body
replaced by a word of another article's, so that neither the duplicate-id rule nor the collapsing
of syndicated copies folds them. Prints Markdown tables; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import (
    DEFAULT_CORPUS,
    MB,
    REPO_DIR,
    clean_env,
    fmt,
    format_table,
    log,
    prepare_corpus,
    process_tree,
    read_corpus,
    read_files,
    run_measured,
    summarise,
    wait_until_idle,
)
from http_load import HOST, TICKS, Mode, Server, code_version, get, machine_cpu, request_path
from scale_corpus import ensure_copies

import searchsvc
from searchsvc.server_setup import usable_cores

GOAL_GROWTH, GOAL_BUILD_PSS_MB, GOAL_SERVE_PSS_MB, GOAL_P95 = 1.1, 2048, 1024, 1.0  # at size s: 1.1·s, ..., 1·s


# -- one size --------------------------------------------------------------------------------------


def folder_bytes(folder: Path) -> int:
    """Bytes of the files below ``folder`` (hard links once)."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        stat = path.lstat()
        if path.is_file() and (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    return total


def search_latencies(index_dir: Path, passes: int) -> dict:
    """In a fresh process (the measuring one would carry the earlier sizes' memory and garbage):
    as search_latency.py measures with the result cache off, ``passes`` times over the queries."""
    command = [sys.executable, __file__, "--search-only", str(index_dir), "--passes", str(passes)]
    done = subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def search_only(index_dir: Path, passes: int) -> None:
    from search_latency import load_queries, open_service, time_each, to_request

    requests = [to_request(q) for q in load_queries()]
    service, open_seconds = open_service(index_dir, cache_size=0)
    latencies, totals = [], []
    for _ in range(passes):
        ms, results = time_each(service.search, requests)
        latencies += ms
        totals = [r.total for r in results]
    print(json.dumps({"latencies": latencies, "open_seconds": open_seconds, "mean_total": sum(totals) / len(totals)}))


SUGGEST_PATHS = [f"/api/suggest?q={p}" for p in ("uk", "covid+va", "ind", "elys", "mod", "tim", "cli", "spo")] * 5


def serve_memory(index_dir: Path, workdir: Path, args) -> dict:
    """Start ``searchsvc serve`` (result cache off), send every query ``--load-passes`` times from
    ``--clients`` clients at once (a new connection per request, so every worker gets some), then
    read the PSS and RSS of its process tree."""
    from search_latency import load_queries

    layout = ["--workers", str(args.workers), "--threads", str(args.threads)]
    command = [sys.executable, "-m", "searchsvc", "serve", "--host", HOST, "--port", "0", "--index", str(index_dir)]
    env = {**clean_env(), "SEARCHSVC_RESULT_CACHE": "0"}
    server = Server(Mode("searchsvc", "result cache off", command + layout, env), workdir / "serve.log", workdir)
    try:
        server.wait_ready()
        ready_rss, ready_pss, _ = server.memory()
        paths = [request_path(q) for q in load_queries()] * args.load_passes
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            statuses = list(pool.map(lambda path: get(server.port, path)[0], paths))
        seconds = time.perf_counter() - started
        # autocomplete as the page asks for it while people type: every worker builds its index
        with ThreadPoolExecutor(args.clients) as pool:
            statuses += list(pool.map(lambda path: get(server.port, path)[0], SUGGEST_PATHS))
        idle_after = wait_until_idle(process_tree(server.proc.pid))
        # a worker's autocomplete child may still be handing its index over: its memory is not
        # the server's once it is done
        settled = time.perf_counter()
        workers = args.workers or usable_cores()  # (0: serve's default, one per usable core)
        while len(process_tree(server.proc.pid)) > workers + 1 and time.perf_counter() - settled < 60:
            time.sleep(0.5)
        idle_after += time.perf_counter() - settled
        rss, pss, anonymous = server.memory()
        processes = len(process_tree(server.proc.pid))
    finally:
        server.stop()
    return {
        "pss": pss,
        "rss": rss,
        "anonymous": anonymous,
        "ready_pss": ready_pss,
        "ready_rss": ready_rss,
        "requests": len(paths),
        "suggests": len(SUGGEST_PATHS),
        "idle_after": idle_after,
        "failed": sum(1 for s in statuses if s != 200),
        "rps": len(paths) / seconds,
        "processes": processes,
    }


def measure_size(size: int, sources: list[Path], workdir: Path, args) -> dict:
    index_dir = workdir / f"index-{size}x"
    shutil.rmtree(index_dir, ignore_errors=True)
    command = [sys.executable, "-m", "searchsvc", "index", *map(str, sources), "--index", str(index_dir), "--full"]
    # every corpus file read right before each build, as index_build.py does: on a machine that
    # pages out files idle for a minute, the bigger sizes' builds would otherwise read more of
    # their corpus cold than the 1× build does (read_corpus)
    read_seconds = [read_corpus(*sources)]
    # the time from a run of its own: sampling the memory of a 2 GB build costs it more than a
    # 0.5 GB one (8 s of the sampler's CPU at 4×, 1 s at 1×), which would bend the growth
    timed = run_measured(command, cwd=workdir, sample=False).check()
    shutil.rmtree(index_dir)
    read_seconds.append(read_corpus(*sources))
    (busy, total), before = machine_cpu(), _own_cpu()
    build = run_measured(command, cwd=workdir, interval=args.sample_interval, pss_interval=args.pss_interval).check()
    (busy_after, total_after), after = machine_cpu(), _own_cpu()
    others = (busy_after - busy) / TICKS - (after - before)  # CPU seconds of every other process
    log(build.stdout.strip())
    documents = re.search(r"Index gen-\d+: (\d+) documents", build.stdout)
    read_seconds.append(read_files(index_dir))  # written minutes ago, the peer-less search finds it warm
    searched = search_latencies(index_dir, args.passes)
    summary = summarise(searched["latencies"])
    served = serve_memory(index_dir, workdir, args)
    return {
        "size": size,
        "documents": int(documents.group(1)) if documents else None,
        "build_seconds": timed.seconds,
        "build_seconds_sampled": build.seconds,
        "build_pss": build.peak_tree_pss,
        "sampler_cpu": build.sampler_cpu_seconds,
        "others_share": others * TICKS / (total_after - total) if total_after > total else 0.0,
        "index_bytes": folder_bytes(index_dir),
        "p50": summary.p50,
        "p95": summary.p95,
        "open_seconds": searched["open_seconds"],
        "mean_total": searched["mean_total"],
        "read_seconds": read_seconds,
        **{f"serve_{k}": v for k, v in served.items()},
    }


def _own_cpu() -> float:
    """CPU seconds of this process and its waited-for children (the build and its workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def freeze_code(workdir: Path) -> Path:
    """Copy searchsvc/ as it is now to ``workdir``/code and put it first on PYTHONPATH for every
    subprocess (builds, searches, servers): the work tree is shared, and files edited during a
    45-minute run would otherwise make each size measure different code."""
    code = workdir / "code"
    shutil.rmtree(code, ignore_errors=True)
    shutil.copytree(REPO_DIR / "searchsvc", code / "searchsvc", ignore=shutil.ignore_patterns("__pycache__"))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    return code


# -- the tables ------------------------------------------------------------------------------------


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "—"


def size_rows(results: list[dict]) -> list[list[str]]:
    one = results[0]
    rows = []
    for r in results:
        rows.append(
            [
                f"{r['size']}×",
                f"{r['documents']:,}" if r["documents"] is not None else "—",
                f"{fmt(r['build_seconds'])} ({ratio(r['build_seconds'], one['build_seconds'])})",
                f"{fmt(r['build_pss'] / MB, 0)} ({ratio(r['build_pss'], one['build_pss'])})",
                f"{fmt(r['index_bytes'] / MB, 0)} ({ratio(r['index_bytes'], one['index_bytes'])})",
                f"{fmt(r['serve_pss'] / MB, 0)} ({ratio(r['serve_pss'], one['serve_pss'])})",
                f"{fmt(r['p50'], 2)} ({ratio(r['p50'], one['p50'])})",
                f"{fmt(r['p95'], 2)} ({ratio(r['p95'], one['p95'])})",
            ]
        )
    return rows


def goal_rows(results: list[dict]) -> list[list[str]]:
    """The issue's goals at 4×, for the largest size measured (limits scaled by size: 1.1·s, s)."""
    one, last = results[0], results[-1]
    s = last["size"] / one["size"]

    def growth(name: str, key: str, limit: float) -> list[str]:
        value = last[key] / one[key] if one[key] else float("inf")
        return [name, f"{value:.2f}× the 1× figure", f"≤ {limit:.2f}×", _met(value <= limit)]

    def absolute(name: str, key: str, limit_mb: float) -> list[str]:
        value = last[key] / MB
        return [name, f"{value:,.0f} MB", f"≤ {limit_mb:,.0f} MB", _met(value <= limit_mb)]

    return [
        growth("build seconds", "build_seconds", GOAL_GROWTH * s),
        growth("index size", "index_bytes", GOAL_GROWTH * s),
        absolute("peak build PSS", "build_pss", GOAL_BUILD_PSS_MB),
        absolute("serve PSS", "serve_pss", GOAL_SERVE_PSS_MB),
        growth("search p95 (cache off)", "p95", GOAL_P95 * s),
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def notes(results: list[dict], base: Path, workdir: Path, args) -> list[str]:
    out = [
        f"code: {code_version()} (at the start); "
        + (
            f"every subprocess ran the copy of searchsvc/ made then, in {workdir / 'code'}"
            if not args.live_code
            else f"subprocesses imported searchsvc from {Path(searchsvc.__file__).parent} as it was at each step"
        ),
        f"base: {base}; copies and indexes under {workdir}; each size is the base plus copies 1..s-1",
        "build: python -m searchsvc index SOURCES --full into an empty folder, twice: build seconds from a run "
        "without the memory sampler; peak PSS of the process tree from a second run, "
        f"RSS every {args.sample_interval:g} s and PSS every {args.pss_interval:g} s (and on 5 % RSS growth)",
        f"search: {args.passes} pass(es) of the 200 queries through SearchService(cache_size=0) in a fresh process "
        "after one warm-up query, as search_latency.py measures; every corpus file read right before each build "
        "and every index file right before the search (a machine that pages out files idle for a minute would "
        "otherwise have the bigger sizes read more of them cold)",
        f"serve: searchsvc serve --workers {args.workers} --threads {args.threads}, SEARCHSVC_RESULT_CACHE=0; "
        f"the 200 queries {args.load_passes} times over {args.clients} concurrent clients, then "
        f"{len(SUGGEST_PATHS)} autocompletes (each worker builds its autocomplete index), then PSS of the tree once "
        "it is idle",
    ]
    for r in results:
        out.append(
            f"{r['size']}×: build: {r['build_seconds']:.1f} s unsampled, {r['build_seconds_sampled']:.1f} s with the "
            f"memory sampler (its CPU {r['sampler_cpu']:.1f} s; other processes took "
            f"{r['others_share']:.0%} of the machine's CPU); searchsvc open + warm-up {r['open_seconds']:.2f} s, "
            f"mean total {r['mean_total']:,.0f}; corpus read before the builds in "
            f"{r['read_seconds'][0]:.0f} s and {r['read_seconds'][1]:.0f} s, the index before the search in "
            f"{r['read_seconds'][2]:.1f} s; "
            f"serve {r['serve_processes']} processes, PSS {r['serve_ready_pss'] / MB:,.0f} MB when ready -> "
            f"{r['serve_pss'] / MB:,.0f} MB after {r['serve_requests']} searches ({r['serve_rps']:.0f}/s) "
            f"and {r['serve_suggests']} autocompletes (idle {r['serve_idle_after']:.0f} s later; "
            f"{r['serve_failed']} failed); RSS {r['serve_rss'] / MB:,.0f} MB of which anonymous "
            f"{r['serve_anonymous'] / MB:,.0f} MB"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, default=DEFAULT_CORPUS, help=f"the 1× corpus (default {DEFAULT_CORPUS})")
    parser.add_argument("--n", type=int, default=0, help="cut the base to N articles (kept in /tmp/bench-corpus-nN)")
    parser.add_argument("--sizes", default="1,2,4", help="multiples of the base to measure (default 1,2,4)")
    parser.add_argument("--workdir", type=Path, default=Path("/work/data/scale"), help="copies and indexes go here")
    parser.add_argument("--passes", type=int, default=1, help="measured search passes over the queries (default 1)")
    parser.add_argument("--workers", type=int, default=usable_cores(), help="serve workers (default: usable cores)")
    parser.add_argument("--threads", type=int, default=4, help="serve threads per worker (default 4)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients in the load run (default 4)")
    parser.add_argument("--load-passes", type=int, default=3, help="times each query is sent to serve (default 3)")
    parser.add_argument("--sample-interval", type=float, default=0.1, help="seconds between RSS samples")
    parser.add_argument("--pss-interval", type=float, default=0.2, help="seconds between PSS samples")
    parser.add_argument("--live-code", action="store_true", help="do not freeze a copy of searchsvc/ for the run")
    parser.add_argument("--search-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_only:
        search_only(args.search_only, args.passes)
        return

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        raise SystemExit(f"--sizes must be whole multiples of 1 or more, e.g. 1,2,4; got {args.sizes!r}")
    suffix = f"-n{args.n}" if args.n else ""
    base = prepare_corpus(args.base.resolve(), args.n, Path(f"/tmp/bench-corpus{suffix}"))
    workdir = (args.workdir / base.name).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.live_code:
        freeze_code(workdir)
    copies = ensure_copies(base, sizes[-1] - 1, workdir)
    results = []
    for size in sizes:
        log(f"== {size}× ==")
        results.append(measure_size(size, [base, *copies[: size - 1]], workdir, args))
        log(json.dumps(results[-1]))

    headers = ["size", "documents", "build s", "peak build PSS MB", "index MB", "serve PSS MB", "p50 ms", "p95 ms"]
    print(format_table(headers, size_rows(results), "lrrrrrrr"))
    print()
    if len(results) > 1:
        print(f"Goals (issue 14, at 4×; here at {results[-1]['size']}× with growth limits scaled to it):")
        print()
        print(format_table(["measure", f"{results[-1]['size']}×", "goal", ""], goal_rows(results), "lrll"))
        print()
    print("\n".join(notes(results, base, workdir, args)))


if __name__ == "__main__":
    main()
