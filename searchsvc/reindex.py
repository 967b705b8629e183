"""Re-index runs while the server runs: never two at a time, each in its own process so that a
crash cannot take the server down, each recorded and logged.

Runs are coordinated through files in the index folder, so every server process (there may be
several sharing a port) sees the same state: ``reindex.lock`` is held (flock) by the process
supervising a run, ``reindex-status.json`` records the last run and the one in progress (written
only while holding that lock), and ``reindex-schedule.json`` holds the next scheduled run (written
only by the one process that runs the schedule, see searchsvc.scheduler).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram

from searchsvc.config import Settings
from searchsvc.errors import SearchsvcError

log = logging.getLogger("searchsvc.reindex")
STATUS_FILE = "reindex-status.json"
SCHEDULE_FILE = "reindex-schedule.json"
RUN_LOCK = "reindex.lock"
# A status probe holds the run lock (shared) for microseconds: a start retries this long first.
LOCK_RETRY_SECONDS = 0.2
REPORT_KEYS = ("added", "updated", "unchanged", "deleted", "duplicates", "failed", "documents", "generation")
MAX_FAILURES_KEPT = 50
STDERR_LINES = 20
RUNS = Counter("searchsvc_reindex_runs", "Re-index runs finished, by kind and outcome.", ["kind", "outcome"])
RUN_SECONDS = Histogram(
    "searchsvc_reindex_duration_seconds",
    "Time a re-index run took, start to end, in seconds.",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
for _kind in ("full", "incremental"):  # every series exists from the start: rate() sees the first failure
    for _outcome in ("ok", "failed"):
        RUNS.labels(_kind, _outcome)


class ReindexRunning(SearchsvcError):
    """A re-index is already running (``current`` describes it when known)."""

    def __init__(self, message: str, current: dict | None = None) -> None:
        super().__init__(message)
        self.current = current


def utc_iso(moment: float | dt.datetime) -> str:
    """A Unix time or an aware datetime as ISO 8601 in UTC, to the millisecond."""
    if isinstance(moment, dt.datetime):
        moment = moment.timestamp()
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="milliseconds")


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """One JSON object per line on the ``searchsvc.reindex`` logger (for log collectors)."""
    record = {"time": utc_iso(time.time()), "level": logging.getLevelName(level).lower(), "event": event}
    record.update(pid=os.getpid(), **fields)
    log.log(level, json.dumps(record, default=str, ensure_ascii=False))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunHandle:
    id: str
    full: bool
    thread: threading.Thread


class Reindexer:
    """Starts re-index runs (one at a time across all processes) and records their outcome."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.status_path = self.index_dir / STATUS_FILE
        self.schedule_path = self.index_dir / SCHEDULE_FILE
        self._run: RunHandle | None = None
        self._process: subprocess.Popen | None = None
        self._stopping = False

    # -- state -------------------------------------------------------------------------------
    def status(self) -> dict:
        """``running``, ``current`` (the run in progress), ``last_run`` and ``next_run``."""
        data = _read_json(self.status_path)
        running = self.is_running()
        return {
            "running": running,
            # a supervisor that died (kill -9) leaves 'current' behind: only the lock is the truth
            "current": data.get("current") if running else None,
            "last_run": data.get("last_run"),
            "next_run": self.next_run(),
        }

    def next_run(self) -> str | None:
        """When the scheduler (in whichever server process runs it) starts the next run."""
        data = _read_json(self.schedule_path)
        return data.get("next_run") if _alive(data.get("pid")) else None

    def publish_next_run(self, moment: dt.datetime | None) -> None:
        """Record when the schedule (run by this process) starts the next run; None: no schedule."""
        if moment is not None:
            _write_json(self.schedule_path, {"pid": os.getpid(), "next_run": utc_iso(moment)})
        elif _read_json(self.schedule_path).get("pid") == os.getpid():
            self.schedule_path.unlink(missing_ok=True)

    def is_running(self) -> bool:
        path = self.index_dir / RUN_LOCK
        try:
            handle = open(path, "rb")
        except OSError:
            return False
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False

    def _write_status(self, **changes: Any) -> None:
        """Call only while holding the run lock: it makes this read-modify-write the only one."""
        data = _read_json(self.status_path)
        data.update(changes)
        _write_json(self.status_path, data)

    # -- runs --------------------------------------------------------------------------------
    def start(self, full: bool = False, trigger: str = "manual") -> RunHandle:
        """Start a run in the background; raises ReindexRunning when one is going on anywhere."""
        lock = self._acquire()
        try:
            run = {"id": uuid.uuid4().hex[:12], "full": full, "trigger": trigger, "started_at": utc_iso(time.time())}
            self._write_status(current=run)
            thread = threading.Thread(target=self._supervise, args=(lock, run), name=f"reindex-{run['id']}")
            thread.daemon = True
            handle = RunHandle(run["id"], full, thread)
            self._run = handle
            thread.start()
        except BaseException:
            lock.close()  # closing the file releases the flock
            raise
        return handle

    def _acquire(self):
        self.index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.index_dir / RUN_LOCK, "a+b")
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        handle.close()
        current = _read_json(self.status_path).get("current")
        since = f" (run {current.get('id')}, started {current.get('started_at')})" if current else ""
        raise ReindexRunning(f"A re-index is already running{since}; try again when it has finished.", current)

    def run_scheduled(self, full: bool = False) -> None:
        """The scheduler's job: run and wait for it, or log that one is still going and skip."""
        try:
            handle = self.start(full=full, trigger="schedule")
        except ReindexRunning as exc:
            log_event(
                "reindex_skipped",
                logging.WARNING,
                full=full,
                reason="a previous run is still running",
                running=exc.current,
            )
            return
        handle.thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run this process started; False if it is still going after ``timeout``."""
        run = self._run
        if run is None:
            return True
        run.thread.join(timeout)
        return not run.thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the run this process supervises (the server is shutting down)."""
        self._stopping = True
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
        self.wait(timeout)

    def command(self, full: bool) -> list[str]:
        command = [sys.executable, "-m", "searchsvc", "index", "--json", "--index", str(self.index_dir)]
        command += ["--lock-timeout", str(self.settings.lock_timeout)]
        if full:
            command.append("--full")
        return command + ["--", *self.settings.source]

    def _supervise(self, lock, run: dict) -> None:
        started = time.monotonic()
        record = {**run, "finished_at": None, "seconds": None, "ok": False, "error": None, "report": None}
        stderr = ""
        try:
            if self._stopping:
                raise RuntimeError("the server is shutting down")
            process = subprocess.Popen(
                self.command(run["full"]),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # a Ctrl+C meant for the server reaches the run through stop()
            )
            self._process = process
            timeout = self.settings.reindex_timeout
            try:
                out, stderr = process.communicate(timeout=timeout if timeout > 0 else None)
                record.update(_outcome(process.returncode, out, stderr))
            except subprocess.TimeoutExpired:
                _kill_group(process)  # the run and its worker processes: the build lock goes with them
                out, stderr = process.communicate()
                record["error"] = (
                    f"searchsvc index ran longer than reindex_timeout={timeout:g} s and was killed; the previous "
                    "index is still served and the next run starts afresh. Raise reindex_timeout if the source "
                    "has grown, or run 'searchsvc index -v' by hand to find a file that takes long."
                )
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, never raised into the server
            record["error"] = f"Could not run searchsvc index: {type(exc).__name__}: {exc}"
        finally:
            self._process = None
            record["finished_at"] = utc_iso(time.time())
            record["seconds"] = round(time.monotonic() - started, 3)
            RUNS.labels("full" if run["full"] else "incremental", "ok" if record["ok"] else "failed").inc()
            RUN_SECONDS.observe(record["seconds"])
            try:
                self._write_status(last_run=record, current=None)
            except OSError as exc:
                record["status_error"] = f"Cannot write {self.status_path}: {exc.strerror or exc}"
            finally:
                lock.close()
            if record["ok"]:
                log_event("reindex", **record)
            else:  # the log line (not the public status) keeps the end of a traceback
                log_event("reindex", logging.ERROR, **record, stderr=stderr.strip().splitlines()[-STDERR_LINES:])


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group ``process`` leads (started with start_new_session=True)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _outcome(returncode: int, out: str, err: str) -> dict:
    """ok, error and report of a finished ``searchsvc index --json``."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return {"ok": False, "error": f"searchsvc index was killed by {name}; the previous index is still served."}
    if returncode != 0:
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        reason = lines[-1] if lines else "no error message"
        return {"ok": False, "error": f"searchsvc index failed with exit status {returncode}: {reason}"}
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"ok": False, "error": f"searchsvc index printed no JSON report: {out.strip()[-200:]!r}"}
    summary = {key: report.get(key) for key in REPORT_KEYS}
    summary["failures"] = report.get("failures", [])[:MAX_FAILURES_KEPT]
    return {"ok": True, "report": summary}
