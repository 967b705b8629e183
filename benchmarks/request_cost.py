"""What an /api/search request costs besides the engine: the 200 shared query paths (as
http_load.py sends them, result cache off), in one process, split into the engine's search,
building the results (SearchResults and its dict), rendering the JSON, the rest of the Flask app
(routing, request parsing, ETag, metrics, security headers), and waitress (with the HTTP client
and loopback), each in ms per request and as a share of the whole.

    python benchmarks/request_cost.py --index /tmp/bench-index
    python benchmarks/request_cost.py --index /tmp/bench-index --profile 25   # plus cProfile of the app

The Flask parts are timed by calling the WSGI app directly (environ built beforehand); the
waitress part is a real waitress server (4 threads, as serve's default) answering the same paths over one keep-alive
connection, less the app's own time it reports. Both run in subprocesses with metrics in
multiprocess mode, as under ``searchsvc serve``. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import clean_env, fmt, format_table, log, process_tree, wait_for_background_work, wait_until_idle
from http_load import request_path
from search_latency import load_queries

TIMING_PATH = "/__request_cost_timing"  # answered by this script's server only, never by searchsvc
MAX_SECONDS = 300.0


def instrumented_app(index_dir: Path):
    """The searchsvc app (result cache off) with timers around the engine's search, the results'
    to_dict, the JSON provider's response() and the whole WSGI app; the totals dict they add to."""
    from flask.json.provider import DefaultJSONProvider

    from searchsvc.search import SearchResults
    from searchsvc.web import create_app

    app = create_app(test_config={"index_dir": str(index_dir), "result_cache": 0})
    totals: dict[str, float] = defaultdict(float)

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - started

        return wrapper

    engine = app.extensions["searchsvc.service"].engine
    engine.search = timed("engine", engine.search)
    SearchResults.to_dict = timed("results", SearchResults.to_dict)
    DefaultJSONProvider.response = timed("json", DefaultJSONProvider.response)
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["PATH_INFO"] == TIMING_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(totals).encode()]
        started = time.perf_counter()
        body = b"".join(inner(environ, start_response))
        totals["app"] += time.perf_counter() - started
        totals["requests"] += 1
        return [body]

    return app, wsgi, totals


def run_direct(index_dir: Path, paths: list[str], passes: int, profile: int) -> tuple[dict[str, float], str]:
    """Every path through the WSGI app, one untimed pass then ``passes`` timed ones (and one
    more under cProfile when ``profile`` is set)."""
    from werkzeug.test import EnvironBuilder

    app, wsgi, totals = instrumented_app(index_dir)
    environs = [EnvironBuilder(path=path, base_url="http://127.0.0.1:8080").get_environ() for path in paths]

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"{status} from the app")

    def one_pass() -> None:
        for environ in environs:
            wsgi(dict(environ, **{"wsgi.input": io.BytesIO()}), start_response)

    one_pass()
    wait_for_background_work()  # the engine's own, once per generation: not a request's cost
    totals.clear()
    deadline = time.perf_counter() + MAX_SECONDS
    for _ in range(passes):
        if time.perf_counter() < deadline:
            one_pass()
    report = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_pass)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()
        for key in ("tottime", "cumulative"):
            text.write(f"\n### cProfile of one pass, top {profile} by {key}\n")
            stats.sort_stats(key).print_stats(profile)
        report = text.getvalue()
    return dict(totals), report


def serve(index_dir: Path, port_file: Path) -> None:
    """The instrumented app under waitress (4 threads) on a free loopback port, until killed."""
    import waitress

    _, wsgi, _ = instrumented_app(index_dir)
    server = waitress.create_server(wsgi, host="127.0.0.1", port=0, threads=4)
    port_file.write_text(str(server.effective_port))
    server.run()


def subprocess_env(workdir: Path) -> dict[str, str]:
    metrics = workdir / "metrics"
    metrics.mkdir(exist_ok=True)
    return {**clean_env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}


def run_waitress(index_dir: Path, paths: list[str], passes: int, workdir: Path) -> tuple[float, dict[str, float]]:
    """Seconds the client waited for the timed passes, and the server's totals over them."""
    port_file = workdir / "port"
    command = [sys.executable, __file__, "--index", str(index_dir), "--serve", str(port_file)]
    proc = subprocess.Popen(command, env=subprocess_env(workdir), cwd=workdir)
    try:
        deadline = time.monotonic() + 180
        while not port_file.exists() or not port_file.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the waitress server did not start")
            time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", int(port_file.read_text()), timeout=60)

        def get(path: str) -> bytes:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"{path}: {response.status}")
            return body

        for path in paths:
            get(path)
        wait_until_idle(process_tree(proc.pid))  # as above: the server's background work first
        before = json.loads(get(TIMING_PATH))
        started = time.perf_counter()
        for _ in range(passes):
            if time.perf_counter() - started > MAX_SECONDS:
                break
            for path in paths:
                get(path)
        waited = time.perf_counter() - started
        after = json.loads(get(TIMING_PATH))
        conn.close()
    finally:
        proc.kill()
        proc.wait()
    return waited, {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}


def breakdown(direct: dict[str, float], waited: float, served: dict[str, float]) -> list[list[str]]:
    n = direct["requests"]
    parts = {
        "engine search (engine.search)": direct["engine"],
        "result building (SearchResults.to_dict)": direct["results"],
        "JSON rendering (app.json.response)": direct["json"],
        "rest of the Flask app (routing, parsing, ETag, metrics, headers)": (
            direct["app"] - direct["engine"] - direct["results"] - direct["json"]
        ),
    }
    per_request = {name: seconds * 1000 / n for name, seconds in parts.items()}
    http_n = served["requests"]
    per_request["waitress + HTTP client + loopback (1 keep-alive connection)"] = (
        (waited - served["app"]) * 1000 / http_n if http_n else 0.0
    )
    whole = sum(per_request.values())
    rows = [[name, fmt(ms, 3), f"{ms / whole:.1%}"] for name, ms in per_request.items()]
    rows.append(["whole request", fmt(whole, 3), "100%"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/bench-index"), help="index (default /tmp/bench-index)")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the 200 paths (default 3)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the waitress subprocess
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)  # the WSGI subprocess
    args = parser.parse_args()
    index_dir = args.index.resolve()
    paths = [request_path(q) for q in load_queries()]
    if args.serve:
        serve(index_dir, args.serve)
        return
    if args.direct:
        args.direct.write_text(json.dumps(run_direct(index_dir, paths, args.passes, args.profile)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="request-cost-"))
    try:
        log(f"{len(paths)} paths through the WSGI app, 1 + {args.passes} passes")
        out = workdir / "direct.json"
        command = [sys.executable, __file__, "--index", str(index_dir), "--passes", str(args.passes)]
        command += ["--profile", str(args.profile), "--direct", str(out)]
        subprocess.run(command, env=subprocess_env(workdir), cwd=workdir, check=True, timeout=2 * MAX_SECONDS)
        direct, profile = json.loads(out.read_text())
        log("the same paths through waitress")
        waited, served = run_waitress(index_dir, paths, args.passes, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        format_table(
            ["part of an /api/search request", "ms per request", "share"], breakdown(direct, waited, served), "lrr"
        )
    )
    print()
    print(
        f"{int(direct['requests'])} requests through the WSGI app and {int(served['requests'])} through waitress "
        f"({args.passes} passes over {len(paths)} paths, after one untimed pass); engine time through waitress: "
        f"{served['engine'] * 1000 / max(served['requests'], 1):.3f} ms per request"
    )
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
