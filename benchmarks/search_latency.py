"""Search latency benchmark: the 200 shared queries through searchsvc's SearchService (top 10 with
snippets and every facet, as a default request does), with the result cache off and on, against
SQLite FTS5 and tantivy doing the same work on the same articles.

    python benchmarks/search_latency.py                  # /tmp/bench-index, built if missing
    python benchmarks/search_latency.py --n 5000         # a 5,000-article subset (generated)
    python benchmarks/search_latency.py --profile        # plus cProfile of the searchsvc pass

Prints Markdown tables. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from common import (
    DEFAULT_CORPUS,
    QUERIES_FILE,
    ParsedCorpus,
    Summary,
    fmt,
    format_table,
    log,
    parse_corpus,
    prepare_corpus,
    read_files,
    run_measured,
    summarise,
    wait_for_background_work,
)
from fts5_baseline import Fts5Result, Fts5Search, build_fts5, match_expression, read_info

from searchsvc.config import Settings
from searchsvc.engine import open_search
from searchsvc.engine.whoosh_engine.builder import document_count
from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.search import SearchRequest, SearchService, parse_request

WARMUP_QUERY = "inflation economy"  # not in the query set
TARGET_P50_MS = 3.0
GOAL_TANTIVY_P50, GOAL_TANTIVY_P95 = 2.0, 3.0  # issue 14: searchsvc (cache off) / tantivy at most


def load_queries(path: Path = QUERIES_FILE) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        queries = [json.loads(line) for line in handle if line.strip()]
    if any(q["q"] == WARMUP_QUERY for q in queries):
        raise SystemExit(f"The warm-up query {WARMUP_QUERY!r} is in {path}; pick another one.")
    return queries


def to_request(query: dict) -> SearchRequest:
    """The default request (top 10, snippets, every facet) with the query's filters."""
    params = {"q": [query["q"]], "per_page": ["10"]}
    for name in ("provider", "from", "to"):
        if query.get(name):
            params[name] = [query[name]]
    return parse_request(params)


def ensure_index(index_dir: Path, corpus: Path) -> None:
    """Build the index with the CLI unless ``index_dir`` holds one this code can open (an index
    written by an older schema is rebuilt)."""
    generation = current_generation(index_dir)
    if generation is not None:
        try:
            open_search(Settings(index_dir=str(index_dir))).view()
            log(f"using the index at {index_dir} ({generation.name})")
            return
        except Exception as exc:
            log(f"cannot open the index at {index_dir} ({type(exc).__name__}: {exc}): rebuilding it")
    else:
        log(f"no index at {index_dir}: building one from {corpus}")
    command = [sys.executable, "-m", "searchsvc", "index", str(corpus), "--index", str(index_dir), "--full"]
    measured = run_measured(command, cwd=index_dir.parent).check()
    log(measured.stdout.strip())
    log(f"built in {measured.seconds:.1f} s")


def ensure_fts5(
    db_path: Path, corpus: Path, articles: int, parse: Callable[[Path], ParsedCorpus] = parse_corpus
) -> None:
    """Reuse ``db_path`` when it holds the same corpus with the index's article count."""
    info = read_info(db_path)
    if info.get("articles") == str(articles) and info.get("corpus") == str(corpus):
        log(f"using the FTS5 database at {db_path} ({articles} articles)")
        return
    log(f"building the FTS5 database at {db_path} from {corpus}")
    parsed = parse(corpus)
    tmp = db_path.with_name(db_path.name + ".partial")
    seconds = build_fts5(tmp, parsed.articles, {"corpus": str(corpus)})
    os.replace(tmp, db_path)
    log(f"parsed {len(parsed.articles)} articles in {parsed.seconds:.1f} s, inserted in {seconds:.1f} s")
    if len(parsed.articles) != articles:
        log(f"note: FTS5 has {len(parsed.articles)} articles, the searchsvc index {articles} documents")


def time_each(run: Callable[[object], object], items: Sequence) -> tuple[list[float], list]:
    """Latency in ms and result of each item, in order."""
    latencies, results = [], []
    for item in items:
        started = time.perf_counter()
        result = run(item)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append(result)
    return latencies, results


def open_service(index_dir: Path, cache_size: int) -> tuple[SearchService, float]:
    """A service with its generation loaded by a warm-up query; the seconds that took."""
    started = time.perf_counter()
    service = SearchService(open_search(Settings(index_dir=str(index_dir))), cache_size=cache_size)
    service.search(parse_request({"q": [WARMUP_QUERY]}))
    opened = time.perf_counter() - started
    waited = wait_for_background_work()
    log(f"searchsvc: waited {waited:.1f} s for the engine's background work (the autocomplete index)")
    return service, opened


def fts5_runner(search: Fts5Search) -> Callable[[dict], Fts5Result]:
    def run(query: dict) -> Fts5Result:
        return search.search(query["q"], query.get("provider"), query.get("from"), query.get("to"))

    return run


def latency_row(engine: str, mode: str, summary: Summary) -> list[str]:
    return [
        engine,
        mode,
        fmt(summary.p50, 2),
        fmt(summary.p95, 2),
        fmt(summary.p99, 2),
        fmt(summary.mean, 2),
        fmt(summary.max, 2),
    ]


def profile_searchsvc(index_dir: Path, requests: list[SearchRequest], top: int, out: Path | None) -> str:
    """cProfile of one pass over the requests on a freshly opened service (result cache off)."""
    service, _ = open_service(index_dir, cache_size=0)
    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests:
        service.search(request)
    profiler.disable()
    if out:
        profiler.dump_stats(str(out))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    for key in ("cumulative", "tottime"):
        text.write(f"\n### top {top} by {key}\n")
        stats.sort_stats(key).print_stats(top)
    return text.getvalue()


def measure_searchsvc(index_dir: Path, requests: list[SearchRequest]) -> dict:
    """Each request once with the result cache off, then twice with a 512-entry cache."""
    service, open_seconds = open_service(index_dir, cache_size=0)
    off_ms, results = time_each(service.search, requests)
    cached = SearchService(service.engine, cache_size=512)
    first_ms, _ = time_each(cached.search, requests)
    second_ms, _ = time_each(cached.search, requests)
    relaxed = sum(1 for r in results if getattr(r, "relaxed", False))
    suggested = sum(1 for r in results if r.suggestion)
    return {
        "documents": service.engine.view().count,
        "open_seconds": open_seconds,
        "totals": [r.total for r in results],
        "remark": f"{relaxed} relaxed to fewer words, {suggested} with a did-you-mean",
        "modes": {
            "result cache off": off_ms,
            "result cache 512, 1st pass": first_ms,
            "result cache 512, 2nd pass": second_ms,
        },
    }


def measure_fts5(db_path: Path, queries: list[dict]) -> dict:
    search = Fts5Search(db_path)
    try:
        run = fts5_runner(search)
        run({"q": WARMUP_QUERY})
        latencies, results = time_each(run, queries)
    finally:
        search.close()
    return {
        "latencies": latencies,
        "totals": [r.total for r in results],
        "dropped": sum(1 for q in queries if not match_expression(q["q"])),
    }


def measure_tantivy(index_dir: Path, queries: list[dict]) -> dict:
    from tantivy_baseline import TantivySearch, query_text

    search = TantivySearch(index_dir)

    def run(query: dict):
        return search.search(query["q"], query.get("provider"), query.get("from"), query.get("to"))

    run({"q": WARMUP_QUERY})
    latencies, results = time_each(run, queries)
    return {
        "latencies": latencies,
        "totals": [r.total for r in results],
        "dropped": sum(1 for q in queries if not query_text(q["q"])),
        "segments": search.searcher.num_segments,
    }


def tantivy_goals(ours: Summary, peer: Summary) -> list[list[str]]:
    rows = []
    for name, mine, theirs, goal in (
        ("p50", ours.p50, peer.p50, GOAL_TANTIVY_P50),
        ("p95", ours.p95, peer.p95, GOAL_TANTIVY_P95),
    ):
        ratio = mine / theirs if theirs else float("inf")
        rows.append([f"{name} ms", fmt(mine, 2), fmt(theirs, 2), f"{ratio:.2f}×", f"≤ {goal:g}×", _met(ratio <= goal)])
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def zero_in_one(queries: list[dict], ours: list[int], theirs: list[int], peer: str) -> str | None:
    only = [f"{q['q']!r} ({a} vs {b})" for q, a, b in zip(queries, ours, theirs, strict=True) if (a == 0) != (b == 0)]
    return f"0 results in one engine only (searchsvc vs {peer} total): {', '.join(only)}" if only else None


def work_row(engine: str, run: int, totals: list[int], remark: str = "") -> list[object]:
    return [engine, run, sum(1 for t in totals if t == 0), fmt(sum(totals) / len(totals), 0), remark]


def slowest(label: str, queries: list[dict], latencies: list[float], count: int) -> str:
    ranked = sorted(zip(latencies, queries, strict=True), key=lambda pair: -pair[0])[:count]
    return f"slowest {label}: " + ", ".join(f"{q['q']!r} {ms:.1f} ms" for ms, q in ranked)


def target_notes(ours: Summary, base: Summary) -> str:
    p50 = _met(ours.p50 <= TARGET_P50_MS)
    p95 = _met(ours.p95 <= base.p95)
    return (
        f"targets (result cache off): p50 {ours.p50:.2f} ms ≤ {TARGET_P50_MS:g} ms: {p50}; "
        f"p95 {ours.p95:.2f} ms ≤ FTS5 p95 {base.p95:.2f} ms: {p95}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, help="searchsvc index (default /tmp/bench-index; built if missing)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"articles (default {DEFAULT_CORPUS})")
    parser.add_argument("--n", type=int, default=0, help="use an N-article subset (kept in /tmp/bench-corpus-nN)")
    parser.add_argument("--fts5-db", type=Path, help="FTS5 database (default /tmp/bench-fts5.db; rebuilt if stale)")
    parser.add_argument("--skip-fts5", action="store_true", help="leave out the SQLite FTS5 peer")
    parser.add_argument(
        "--tantivy-index", type=Path, help="tantivy index (default /tmp/bench-tantivy; rebuilt if stale)"
    )
    parser.add_argument("--skip-tantivy", action="store_true", help="leave out the tantivy peer")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the searchsvc pass")
    parser.add_argument("--profile-top", type=int, default=25, help="lines per profile listing (default 25)")
    parser.add_argument("--slowest", type=int, default=5, help="list this many slowest queries per engine")
    parser.add_argument("--profile-out", type=Path, help="also write the raw profile to this file")
    args = parser.parse_args()

    suffix = f"-n{args.n}" if args.n else ""
    corpus = prepare_corpus(args.corpus.resolve(), args.n, Path(f"/tmp/bench-corpus{suffix}"))
    index_dir = (args.index or Path(f"/tmp/bench-index{suffix}")).resolve()
    db_path = (args.fts5_db or Path(f"/tmp/bench-fts5{suffix}.db")).resolve()
    tantivy_dir = (args.tantivy_index or Path(f"/tmp/bench-tantivy{suffix}")).resolve()
    ensure_index(index_dir, corpus)
    documents = document_count(current_generation(index_dir).path)
    parse = functools.cache(parse_corpus)  # one parse for both peers when both are (re)built
    if not args.skip_fts5:
        ensure_fts5(db_path, corpus, documents, parse)
    if not args.skip_tantivy:
        from tantivy_baseline import ensure_tantivy

        ensure_tantivy(tantivy_dir, corpus, documents, parse)
    parse.cache_clear()
    gc.collect()  # the parsed articles would otherwise slow every collection during the timings
    queries = load_queries()
    requests = [to_request(q) for q in queries]

    # every engine's files read first: an index built an hour ago may have been paged out where
    # the peers' were just built (this project's machines page out files idle for a minute)
    warmed = {"searchsvc": read_files(current_generation(index_dir).path)}
    ours = measure_searchsvc(index_dir, requests)
    off = summarise(ours["modes"]["result cache off"])
    rows = [latency_row("searchsvc", mode, summarise(ms)) for mode, ms in ours["modes"].items()]
    work = [work_row("searchsvc", len(requests), ours["totals"], ours["remark"])]
    notes = [
        f"index: {index_dir} ({ours['documents']:,} documents), corpus: {corpus}",
        f"queries: {QUERIES_FILE} ({len(queries)})",
        f"searchsvc: open + warm-up query {ours['open_seconds']:.2f} s (not counted)",
    ]
    if args.slowest:
        notes.append(slowest("searchsvc (cache off)", queries, ours["modes"]["result cache off"], args.slowest))
    if not args.skip_fts5:
        warmed["SQLite FTS5"] = read_files(db_path)
        base = measure_fts5(db_path, queries)
        rows.append(latency_row("SQLite FTS5", "—", summarise(base["latencies"])))
        work.append(work_row("SQLite FTS5", len(queries) - base["dropped"], base["totals"], "AND of all words"))
        notes.append(f"FTS5 database: {db_path}; {base['dropped']} queries had no words and were not run")
        if args.slowest:
            notes.append(slowest("SQLite FTS5", queries, base["latencies"], args.slowest))
        notes.append(target_notes(off, summarise(base["latencies"])))
        notes.append(zero_in_one(queries, ours["totals"], base["totals"], "FTS5"))
    goals = []
    if not args.skip_tantivy:
        warmed["tantivy"] = read_files(tantivy_dir)
        peer = measure_tantivy(tantivy_dir, queries)
        rows.append(latency_row("tantivy", "—", summarise(peer["latencies"])))
        work.append(work_row("tantivy", len(queries) - peer["dropped"], peer["totals"], "AND of all words"))
        notes.append(
            f"tantivy index: {tantivy_dir} ({peer['segments']} segments); {peer['dropped']} queries had no words "
            "and were not run; facets by one terms aggregation per facet (searcher.aggregate)"
        )
        if args.slowest:
            notes.append(slowest("tantivy", queries, peer["latencies"], args.slowest))
        notes.append(zero_in_one(queries, ours["totals"], peer["totals"], "tantivy"))
        goals = tantivy_goals(off, summarise(peer["latencies"]))

    notes.append(
        "each engine's index files read right before it was measured: "
        + ", ".join(f"{engine} {seconds:.1f} s" for engine, seconds in warmed.items())
    )
    print(format_table(["engine", "mode", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms"], rows, "llrrrrr"))
    print()
    print(format_table(["engine", "queries run", "0 results", "mean total", ""], work, "lrrrl"))
    print()
    if goals:
        headers = ["measure", "searchsvc (cache off)", "tantivy", "searchsvc / tantivy", "goal", ""]
        print(format_table(headers, goals, "lrrrll"))
        print()
    print("\n".join(note for note in notes if note))
    if args.profile:
        print()
        print(f"## cProfile: searchsvc, {len(requests)} queries, result cache off, fresh service")
        print(profile_searchsvc(index_dir, requests, args.profile_top, args.profile_out))


if __name__ == "__main__":
    main()
