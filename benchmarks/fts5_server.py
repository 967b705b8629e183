"""The SQLite FTS5 peer as an HTTP server, for http_load.py: GET /api/search answers the request
searchsvc's /api/search answers (q, provider, from, to; the top 10 with snippets, the total and
facet counts) with ``Fts5Search``, as JSON. GET /readyz is 200 once the database is readable.

It runs under waitress with searchsvc's process layout: ``--workers`` processes forked after the
socket is bound, all accepting on it, each with ``--threads`` threads; every thread opens its own
read-only SQLite connection on its first request.

    python benchmarks/fts5_server.py --db /tmp/bench-fts5.db --port 8081 --workers 2 --threads 8
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fts5_baseline import Fts5Search

from searchsvc.serve import run_workers
from searchsvc.worker_sockets import ConnectionBalance, balanced_waitress_server, listening_socket

PARAMETERS = ("q", "provider", "from", "to")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BadRequest(Exception):
    pass


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = [v for v in params.get(name, []) if v != ""]
    if len(values) > 1:
        raise BadRequest(f"Parameter {name!r} was given {len(values)} times; give it once.")
    return values[0] if values else None


def _day(params: dict[str, list[str]], name: str) -> str | None:
    value = _one(params, name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest(f"Parameter {name!r} must be a date (YYYY-MM-DD); got {value!r}.") from None


def search_payload(search: Fts5Search, query_string: str) -> dict:
    """The JSON answer to one /api/search query string (raises BadRequest)."""
    params = parse_qs(query_string, keep_blank_values=True)
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"Unknown parameter {unknown[0]!r}. Valid parameters: {', '.join(PARAMETERS)}.")
    q = (_one(params, "q") or "").strip()
    provider, date_from, date_to = _one(params, "provider"), _day(params, "from"), _day(params, "to")
    started = time.perf_counter()
    result = search.search(q, provider, date_from, date_to)
    hits = [
        {
            "id": doc_id,
            "url": url,
            "title": title,
            "excerpt": excerpt,
            "provider": hit_provider,
            "domain": domain,
            "published": day,
            "score": -score,
        }
        for _, score, title, excerpt, doc_id, url, hit_provider, domain, day in result.hits
    ]
    facets = {
        name: {"values": [{"value": value, "count": count} for value, count in rows]}
        for name, rows in result.facets.items()
    }
    return {
        "ok": True,
        "query": {"q": q, "provider": provider, "from": date_from, "to": date_to},
        "total": result.total,
        "hits": hits,
        "facets": facets,
        "took_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def make_app(db_path: Path) -> Callable:
    """A WSGI app; each serving thread gets its own ``Fts5Search`` (one read-only connection)."""
    local = threading.local()

    def searcher() -> Fts5Search:
        search = getattr(local, "search", None)
        if search is None:
            search = local.search = Fts5Search(db_path)
        return search

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        status, payload = 200, None
        try:
            if method != "GET":
                status, message = 405, f"Method {method} is not allowed; use GET."
            elif path == "/api/search":
                payload = search_payload(searcher(), environ.get("QUERY_STRING", ""))
            elif path == "/readyz":
                articles = searcher().conn.execute("SELECT value FROM bench_info WHERE key = 'articles'").fetchone()
                payload = {"ok": True, "documents": int(articles[0]) if articles else None}
            else:
                status, message = 404, f"No such path {path!r}: use /api/search or /readyz."
        except BadRequest as exc:
            status, message = 400, str(exc)
        except Exception as exc:  # noqa: BLE001 - answered as a 500 with the reason, like searchsvc
            traceback.print_exc()
            status, message = 500, f"{type(exc).__name__}: {exc}"
        if payload is None:
            payload = {"ok": False, "status": status, "error": message, "errors": [message]}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(f"{status} {reason}", headers)
        return [body]

    return app


def _exit_on_signal(signum: int, frame: Any) -> None:
    for other in SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise SystemExit(0)


def serve_socket(db_path: Path, sock: socket.socket, threads: int, balance: ConnectionBalance | None = None) -> None:
    """Serve ``sock`` in this process until SIGINT/SIGTERM."""
    for signum in SIGNALS:
        signal.signal(signum, _exit_on_signal)
    server = balanced_waitress_server(make_app(db_path), sock, balance, threads=threads, ident="fts5")
    server.run()


def serve(db_path: Path, host: str, port: int, workers: int, threads: int) -> int:
    """Serve with searchsvc's own process layout (one shared socket, connections balanced
    between the workers); the exit status."""
    sock = listening_socket(host, port)
    host, port = sock.getsockname()[:2]
    print(f"Serving http://{host}:{port}/ ({workers} workers, {threads} threads each)", flush=True)
    if workers == 1:
        serve_socket(db_path, sock, threads)
        return 0
    return run_workers(
        lambda worker_sock, balance: serve_socket(db_path, worker_sock, threads, balance), sock, workers, SIGNALS
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the SQLite FTS5 baseline over HTTP (for http_load.py).")
    parser.add_argument("--db", type=Path, required=True, help="database built by fts5_baseline.py")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (default 8081; 0 picks a free one)")
    parser.add_argument("--workers", type=int, default=2, help="processes sharing the port (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process (default 8)")
    args = parser.parse_args()
    if not args.db.is_file():
        raise SystemExit(f"No database at {args.db}. Build one with: python benchmarks/fts5_baseline.py --db FILE")
    if args.workers < 1 or args.threads < 1:
        raise SystemExit("--workers and --threads must be 1 or more.")
    sys.exit(serve(args.db.resolve(), args.host, args.port, args.workers, args.threads))


if __name__ == "__main__":
    main()
