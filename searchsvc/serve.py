"""``searchsvc serve``: build an index on the first start, then serve the web app under waitress,
in one process or in several forked workers sharing one listening socket (and balancing its
connections between them)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from searchsvc.config import Settings, load_settings
from searchsvc.errors import SearchsvcError
from searchsvc.server_setup import configure_logging, limit_malloc_arenas, preload_worker_code, worker_count
from searchsvc.stats import index_location
from searchsvc.worker_sockets import ConnectionBalance, balanced_waitress_server, listening_socket

if TYPE_CHECKING:
    from searchsvc.scheduler import Schedule

log = logging.getLogger("searchsvc.serve")
WAIT_POLL_SECONDS = 0.1


def ensure_index(settings: Settings, echo=click.echo) -> bool:
    """Build the index from ``settings.source`` when there is none yet. True when it built one."""
    from pathlib import Path

    from searchsvc.engine import open_builder
    from searchsvc.indexer import build_index

    builder = open_builder(settings)
    if builder.current() is not None:
        return False
    where = index_location(settings)
    missing = [s for s in settings.source if not Path(s).exists()]
    if missing:
        raise SearchsvcError(
            f"No index at {where} and source {missing[0]} does not exist. Give a folder of articles with --source DIR."
        )
    echo(f"No index at {where}: building it from {', '.join(settings.source)} ...")
    report = build_index(
        settings.source,
        settings.index_dir,
        False,
        settings.lock_timeout,
        max_file_bytes=settings.max_file_bytes,
        follow_external_links=settings.follow_external_links,
        builder=builder,
    )
    for line in report.lines():
        echo(line)
    return True


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for one server run, removed at exit; every process writes its
    metrics there. Enter before prometheus_client is imported (it picks its mode then) and forks."""
    path = tempfile.mkdtemp(prefix="searchsvc-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def _worker_gone(pid: int) -> None:
    """prometheus-client's bookkeeping for an exited worker (it drops the worker's live gauges)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _stop_on(signals: tuple[int, ...]) -> None:
    """Turn the first of ``signals`` into SystemExit (waitress then closes cleanly); ignore repeats."""

    def stop(signum: int, frame: Any) -> None:
        for other in signals:
            signal.signal(other, signal.SIG_IGN)
        raise SystemExit(0)

    for signum in signals:
        signal.signal(signum, stop)


def _serve_forever(settings: Settings, sock: socket.socket, balance: ConnectionBalance | None = None) -> None:
    """Create the app (and its engine) in this process and serve ``sock`` until told to stop."""
    from searchsvc.web import create_app

    limit_malloc_arenas()  # before the engine and waitress start their threads
    app = create_app(settings)
    try:
        # open the index (a second or two on a large one) before taking connections, so the
        # first searches do not wait for it
        generation = app.extensions["searchsvc.service"].generation
        log.info("Serving index generation %s.", generation)
    except SearchsvcError as exc:  # no index yet: /readyz says so until one appears
        log.warning("Index not opened at start: %s", exc)
    server = balanced_waitress_server(app, sock, balance, threads=settings.threads, ident="searchsvc")
    try:
        server.run()
    finally:
        app.extensions["searchsvc.reindexer"].stop()  # a run started through the admin API


def run_server(settings: Settings, echo=click.echo, schedule: Schedule | None = None) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status.

    With a re-index schedule, exactly one process runs it: the server itself with one worker,
    else the parent, started after forking (a scheduler's threads do not survive a fork).
    """
    from searchsvc.scheduler import Reindexer, Schedule

    if schedule is None:
        schedule = Schedule(Reindexer(settings))
    workers = worker_count(settings)
    sock = listening_socket(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    echo(
        f"Serving http://{shown}:{port}/ ({workers} worker{'s' if workers > 1 else ''}, "
        f"{settings.threads} threads each). Press Ctrl+C to stop."
    )
    if schedule.active:
        echo(f"Re-indexing {', '.join(settings.source)}: {schedule.describe()}.")
    sys.stdout.flush()
    signals = (signal.SIGINT, signal.SIGTERM)
    if workers == 1:
        _stop_on(signals)
        try:
            schedule.start()
            _serve_forever(settings, sock)
        finally:
            _stop_schedule(schedule)
            sock.close()
        return 0
    preload_worker_code(settings.engine)
    return run_workers(lambda sock, balance: _serve_forever(settings, sock, balance), sock, workers, signals, schedule)


def _stop_schedule(schedule: Schedule) -> None:
    schedule.shutdown()
    schedule.reindexer.stop()


def run_workers(
    serve: Callable[[socket.socket, ConnectionBalance], None],
    sock: socket.socket,
    workers: int,
    signals: tuple[int, ...],
    schedule: Schedule | None = None,
) -> int:
    """Fork ``workers`` processes, each running ``serve(sock, its ConnectionBalance)``; wait for
    them, forward SIGINT/SIGTERM, and stop all when one dies. Returns the exit status."""
    children: set[int] = set()
    stopping = False

    def forward(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    for signum in signals:
        signal.signal(signum, forward)
    balance = ConnectionBalance(workers)
    for worker in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: its own app and engine, the parent's socket
            code = 0
            try:
                for signum in signals:
                    signal.signal(signum, signal.SIG_DFL)
                _stop_on(signals)
                serve(sock, balance.for_worker(worker))
            except BaseException:  # noqa: B036 - a worker must never return into the parent's code
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.add(pid)
    sock.close()
    status = 0
    try:
        if schedule is not None:
            schedule.start()
        while children:
            # Wait for the workers only: os.wait() would also reap the scheduler's index runs.
            for pid in list(children):
                try:
                    done, wait_status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    children.discard(pid)
                    continue
                if done == 0:
                    continue
                children.discard(pid)
                _worker_gone(pid)
                code = os.waitstatus_to_exitcode(wait_status)
                if not stopping:
                    # a worker died on its own: stop the others and report it, so a supervisor restarts us
                    log.error("Worker %d exited with status %d; stopping the other workers.", pid, code)
                    print(f"Worker {pid} exited with status {code}; stopping.", file=sys.stderr)
                    status = 1
                    forward(signal.SIGTERM, None)
            if children:
                time.sleep(WAIT_POLL_SECONDS)
    finally:
        if schedule is not None:
            _stop_schedule(schedule)
    return status


@click.command("serve")
@click.option("--host", help="Address to listen on (default: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: 8080; 0 picks a free one).")
@click.option("--threads", type=int, help="Waitress threads per worker process (default: 4).")
@click.option(
    "--workers",
    type=int,
    help="Processes sharing the port, each with its own copy of the index's columns (default: 0, one per usable core).",
)
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: index).")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(),
    help="Articles to index when there is no index yet, and to re-index (repeatable; default: seeds).",
)
@click.option(
    "--reindex-every", metavar="DURATION", help="Re-index the source this often while serving, e.g. 15m (incremental)."
)
@click.option(
    "--reindex-cron", metavar="CRON", help="Re-index on this cron schedule, e.g. '*/15 * * * *' (incremental)."
)
@click.option(
    "--full-reindex-cron", metavar="CRON", help="Rebuild the whole index on this cron schedule, e.g. '0 3 * * 0'."
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    host,
    port,
    threads,
    workers,
    index_dir,
    sources,
    reindex_every,
    reindex_cron,
    full_reindex_cron,
) -> None:
    """Serve the search page and the JSON API under waitress.

    On a first start with no index, builds one from the source folders before serving. With
    --reindex-every or a cron schedule, re-indexes the source in the background while serving;
    searches switch to each new index generation without a restart.
    """
    config = (ctx.find_root().obj or {}).get("config")  # searchsvc --config FILE serve
    overrides = {
        "host": host,
        "port": port,
        "threads": threads,
        "workers": workers,
        "index_dir": index_dir,
        "source": sources or None,
        "reindex_every": reindex_every,
        "reindex_cron": reindex_cron,
        "full_reindex_cron": full_reindex_cron,
    }
    try:
        settings = load_settings(overrides, config_file=config)
        if settings.workers < 0 or settings.threads < 1:
            raise SearchsvcError(
                f"--workers must be 0 (one per usable core) or more and --threads 1 or more; "
                f"got --workers {settings.workers} and --threads {settings.threads}."
            )
        with metrics_directory():  # before the imports below bring in prometheus_client
            from searchsvc.scheduler import Reindexer, Schedule

            schedule = Schedule(Reindexer(settings))  # a bad schedule fails before anything is built
            ensure_index(settings)
            configure_logging()
            status = run_server(settings, schedule=schedule)
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"Cannot listen on {host or 'the configured host'}:{port}: {exc.strerror or exc}. "
            "Choose another --port or stop the process using it."
        ) from None
    if status:
        sys.exit(status)
