"""The engine-only side of http_load.py: the same /api/search paths through the app's
SearchService in one process, with no HTTP. Each path is parsed by the endpoint's own
``search_request(strict=True)`` in a request context of that path, and the timed call is the
endpoint's ``service().search(...)`` with the result cache off, so the only difference from
``/api/search`` is routing, rendering the JSON and waitress.

    python benchmarks/engine_ceiling.py --index /tmp/bench-index --paths paths.txt --out engine.json

http_load.py runs this as a subprocess (before and after its cache-off load), so its own process
never maps the index: a mapping there would share the server's file pages and lower its PSS.
Writes the latencies (ms, in order, every timed pass) as JSON. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from common import DEFAULT_CORPUS, MB, fmt, log, summarise, wait_for_background_work

MAX_SECONDS = 300.0  # the timed passes stop after this long, whatever --passes says
GOAL_SHARE, GOAL_P99_RATIO, GOAL_PSS_MB = 0.60, 5.0, 400.0  # issue 14, goals 5 and 3


@dataclass
class EngineRun:
    label: str
    latencies_ms: list[float]
    open_seconds: float
    others_cpu: float  # share of the machine's CPU other processes used during the passes
    documents: int
    waited_seconds: float = 0.0  # for the engine's background work, before the passes


def goal_rows(
    engine_ms: list[float], cores: int, rps: float, http_p99: float, errors: int, pss: list[tuple[str, int]]
) -> list[list[str]]:
    """Rows of (measure, value, goal, verdict): the engine's figures, the ceiling they give
    (``cores`` / mean engine time), the cache-off HTTP figures against them, and each mode's PSS."""
    engine = summarise(engine_ms)
    ceiling = cores * 1000 / engine.mean
    share, ratio = rps / ceiling, http_p99 / engine.p99
    rows = [
        ["engine mean ms (SearchService, result cache off)", fmt(engine.mean, 2), "", ""],
        ["engine p99 ms", fmt(engine.p99, 2), "", ""],
        [f"ceiling: {cores} usable cores ÷ engine mean, req/s", fmt(ceiling, 0), "", ""],
        [
            "HTTP req/s, result cache off, as % of the ceiling",
            f"{rps:,.0f} = {share:.0%}",
            f"≥ {GOAL_SHARE:.0%}",
            _met(share >= GOAL_SHARE),
        ],
        [
            "HTTP p99 ÷ engine p99",
            f"{http_p99:.1f} ÷ {engine.p99:.2f} = {ratio:.1f}×",
            f"≤ {GOAL_P99_RATIO:g}×",
            _met(ratio <= GOAL_P99_RATIO),
        ],
        ["HTTP errors, result cache off", str(errors), "0", _met(errors == 0)],
    ]
    for label, size in pss:
        rows.append(
            [
                f"server PSS after the load, {label}, MB",
                fmt(size / MB, 0),
                f"≤ {GOAL_PSS_MB:g}",
                _met(size / MB <= GOAL_PSS_MB),
            ]
        )
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def mapped_files_under(root: Path) -> list[str]:
    """Files under ``root`` this process maps (their pages would be shared with the server's)."""
    prefix = str(root.resolve()) + os.sep
    with open("/proc/self/maps") as handle:
        paths = {line.split(None, 5)[5].strip() for line in handle if len(line.split(None, 5)) == 6}
    return sorted(path for path in paths if path.startswith(prefix))


def engine_latencies(index_dir: Path, paths: list[str], passes: int, max_seconds: float = MAX_SECONDS) -> dict:
    """One untimed pass (the server gets a warm-up too), then up to ``passes`` timed passes."""
    from searchsvc.web import create_app
    from searchsvc.web.state import search_request, service

    started = time.perf_counter()
    app = create_app(test_config={"index_dir": str(index_dir), "result_cache": 0})
    with app.app_context():
        searches = service()
        searches.search(_request(app, paths[0], search_request))
    open_seconds = time.perf_counter() - started
    waited = wait_for_background_work()  # the engine's own, once per generation: not a search's cost
    with app.app_context():
        requests = [_request(app, path, search_request) for path in paths]
        for request in requests:
            searches.search(request)
        latencies: list[float] = []
        deadline = time.perf_counter() + max_seconds
        for _ in range(passes):
            if time.perf_counter() > deadline:
                log(f"engine passes stopped after {max_seconds:.0f} s")
                break
            for request in requests:
                begun = time.perf_counter()
                searches.search(request)
                latencies.append((time.perf_counter() - begun) * 1000)
        documents = searches.engine.view().documents
    return {
        "open_seconds": open_seconds,
        "waited_seconds": waited,
        "latencies_ms": latencies,
        "cache_size": searches.cache_size,
        "documents": documents,
    }


def _request(app, path: str, search_request):
    """The SearchRequest /api/search builds from ``path`` (the same settings, the same parser)."""
    with app.test_request_context(path):
        return search_request(strict=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="the index the server serves")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="builds the index when it is missing")
    parser.add_argument("--paths", type=Path, required=True, help="request paths, one a line")
    parser.add_argument("--passes", type=int, default=2, help="timed passes over the paths (default 2)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args()
    from search_latency import ensure_index  # it imports the engine: not for http_load.py's own process

    ensure_index(args.index, args.corpus)
    paths = [line for line in args.paths.read_text().splitlines() if line]
    result = engine_latencies(args.index, paths, args.passes)
    if result["cache_size"]:
        raise SystemExit(f"the result cache is on ({result['cache_size']}); the engine pass must run without it")
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
