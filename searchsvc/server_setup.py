"""What ``searchsvc serve`` decides before it serves: how many worker processes (one per usable
core by default), how its log lines look, and how many malloc arenas each process keeps."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

from searchsvc.child_processes import usable_cores
from searchsvc.config import Settings
from searchsvc.log_format import LINE_FORMAT, PlainTracebackFormatter


def worker_count(settings: Settings) -> int:
    """How many server processes to run: ``workers``, or one per usable core when it is 0."""
    return settings.workers if settings.workers > 0 else usable_cores()


def configure_logging() -> None:
    """Log lines to stderr; the re-index lines as bare JSON objects, one per line."""
    from searchsvc.scheduler import SkipMaxInstancesWarning

    # tracebacks that parse no source (log_format.py); as before, nothing when logging is set up
    lines = logging.StreamHandler(sys.stderr)
    lines.setFormatter(PlainTracebackFormatter(LINE_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[lines])
    reindex = logging.getLogger("searchsvc.reindex")
    if not reindex.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PlainTracebackFormatter("%(message)s"))
        reindex.addHandler(handler)
        reindex.setLevel(logging.INFO)
        reindex.propagate = False
    # APScheduler logs every job start at INFO; its 'skipped' warning repeats our JSON line.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkipMaxInstancesWarning) for f in scheduler_log.filters):
        scheduler_log.addFilter(SkipMaxInstancesWarning())


# glibc's mallopt() parameter (malloc.h), and the arenas a server process keeps
M_ARENA_MAX = -8
MALLOC_ARENAS = 1


def limit_malloc_arenas() -> bool:
    """At most MALLOC_ARENAS glibc malloc arenas in this process. Each waitress thread otherwise
    gets an arena of its own, which keeps what that thread's searches freed (about 20 MB per
    worker at 155k articles after a load run, and a second arena about 5 MB more than one);
    under the GIL the threads gain nothing from separate arenas. Call before the threads start.
    MALLOC_ARENA_MAX, when set, wins. False where there is no glibc."""
    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    return True


def preload_worker_code(engine: str) -> None:
    """Import what the workers run before forking them, and move every object made so far out of
    the garbage collector's sight (gc.freeze): the modules' code and data are then shared by the
    workers, copy-on-write, instead of each worker importing its own (about 7 MB of PSS less
    with 2 workers at 155k articles). Imports only: the index is opened, and threads started, in
    each worker after the fork."""
    import gc
    import importlib

    importlib.import_module("searchsvc.web")
    package = "opensearch_engine" if engine == "opensearch" else "whoosh_engine"
    importlib.import_module(f"searchsvc.engine.{package}.search")
    gc.collect()
    gc.freeze()
